//! The error codes clients see (SPEC 4), and the one mapping from each failure
//! type to its code. Fronts turn a code into a gRPC status or an HTTP status
//! with a JSON body; nothing else decides a status.

use std::borrow::Cow;

use crate::backend::BackendError;
use crate::scope::{Denial, ScopeError};
use crate::token::{AuthError, MintError};

/// The error codes of SPEC 4, as Momento's SDKs name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    AuthenticationError,
    PermissionError,
    InvalidArgumentError,
    NotFoundError,
    /// Creating something that exists (a cache).
    AlreadyExistsError,
    /// The item is not in a state the operation can act on.
    FailedPreconditionError,
    ServerUnavailable,
    TimeoutError,
    LimitExceededError,
    InternalServerError,
    /// An RPC that is classified and authorized but not served by this build.
    Unimplemented,
}

impl ErrorCode {
    /// The code as written in HTTP JSON error bodies.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::AuthenticationError => "AUTHENTICATION_ERROR",
            ErrorCode::PermissionError => "PERMISSION_ERROR",
            ErrorCode::InvalidArgumentError => "INVALID_ARGUMENT_ERROR",
            ErrorCode::NotFoundError => "NOT_FOUND_ERROR",
            ErrorCode::AlreadyExistsError => "ALREADY_EXISTS_ERROR",
            ErrorCode::FailedPreconditionError => "FAILED_PRECONDITION_ERROR",
            ErrorCode::ServerUnavailable => "SERVER_UNAVAILABLE",
            ErrorCode::TimeoutError => "TIMEOUT_ERROR",
            ErrorCode::LimitExceededError => "LIMIT_EXCEEDED_ERROR",
            ErrorCode::InternalServerError => "INTERNAL_SERVER_ERROR",
            ErrorCode::Unimplemented => "UNIMPLEMENTED",
        }
    }

    /// The gRPC status code (SPEC 4).
    pub const fn grpc_code(self) -> tonic::Code {
        match self {
            ErrorCode::AuthenticationError => tonic::Code::Unauthenticated,
            ErrorCode::PermissionError => tonic::Code::PermissionDenied,
            ErrorCode::InvalidArgumentError => tonic::Code::InvalidArgument,
            ErrorCode::NotFoundError => tonic::Code::NotFound,
            ErrorCode::AlreadyExistsError => tonic::Code::AlreadyExists,
            ErrorCode::FailedPreconditionError => tonic::Code::FailedPrecondition,
            ErrorCode::ServerUnavailable => tonic::Code::Unavailable,
            ErrorCode::TimeoutError => tonic::Code::DeadlineExceeded,
            ErrorCode::LimitExceededError => tonic::Code::ResourceExhausted,
            ErrorCode::InternalServerError => tonic::Code::Internal,
            ErrorCode::Unimplemented => tonic::Code::Unimplemented,
        }
    }

    /// The HTTP status of the HTTP API (SPEC 4).
    pub const fn http_status(self) -> u16 {
        match self {
            ErrorCode::AuthenticationError => 401,
            ErrorCode::PermissionError => 403,
            ErrorCode::InvalidArgumentError => 400,
            ErrorCode::NotFoundError => 404,
            ErrorCode::AlreadyExistsError => 409,
            ErrorCode::FailedPreconditionError => 400,
            ErrorCode::ServerUnavailable => 503,
            ErrorCode::TimeoutError => 504,
            ErrorCode::LimitExceededError => 429,
            ErrorCode::InternalServerError => 500,
            ErrorCode::Unimplemented => 501,
        }
    }
}

/// A failed request as clients see it: a code, a message in general terms (never
/// a credential), and the bounded reason metrics count it by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: Cow<'static, str>,
    /// Set for refusals (authentication and authorization): counted by reason.
    pub denial_reason: Option<&'static str>,
    /// Overrides the code's HTTP status (413 for an oversized body, 405, 431).
    pub http_status: Option<u16>,
    /// Which limit a LIMIT_EXCEEDED names, sent as the `err` metadata SDKs read.
    pub limit: Option<Limit>,
    /// The backend failed (it was unreachable, slow or refused): counted as a
    /// backend error. A client that is slow to send its request is not.
    pub from_backend: bool,
}

/// The limits SDKs tell apart by the `err` trailer metadata (SPEC 4); each
/// error message contains the words the SDKs' own messages use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    ItemSize,
    RequestSize,
    ElementSize,
    Subscriptions,
    Operations,
}

impl Limit {
    /// The `err` metadata value.
    pub const fn err(self) -> &'static str {
        match self {
            Limit::ItemSize => "item_size_limit_exceeded",
            Limit::RequestSize => "request_size_limit_exceeded",
            Limit::ElementSize => "element_size_limit_exceeded",
            Limit::Subscriptions => "topic_subscriptions_limit_exceeded",
            Limit::Operations => "operations_rate_limit_exceeded",
        }
    }
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError {
            code,
            message: message.into(),
            denial_reason: None,
            http_status: None,
            limit: None,
            from_backend: false,
        }
    }

    pub fn invalid(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidArgumentError, message)
    }

    /// A value or message over `max_value_bytes`: LIMIT_EXCEEDED, HTTP 413.
    /// Every front refuses oversized values with this one error.
    pub fn too_large(max: usize) -> Self {
        ApiError {
            http_status: Some(413),
            limit: Some(Limit::ItemSize),
            ..Self::new(
                ErrorCode::LimitExceededError,
                format!("the item size is larger than the limit of {max} bytes"),
            )
        }
    }

    pub fn status(&self) -> u16 {
        self.http_status.unwrap_or(self.code.http_status())
    }

    /// The gRPC form of this failure, with the `err` metadata of its limit.
    pub fn grpc_status(&self) -> tonic::Status {
        let mut status = tonic::Status::new(self.code.grpc_code(), self.message.clone());
        if let Some(limit) = self.limit {
            status.metadata_mut().insert(
                "err",
                tonic::metadata::MetadataValue::from_static(limit.err()),
            );
        }
        status
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        ApiError {
            denial_reason: Some(e.reason()),
            ..Self::new(e.code(), e.to_string())
        }
    }
}

impl From<Denial> for ApiError {
    fn from(d: Denial) -> Self {
        ApiError {
            denial_reason: Some(d.reason()),
            ..Self::new(d.code(), d.to_string())
        }
    }
}

impl From<BackendError> for ApiError {
    fn from(e: BackendError) -> Self {
        let limit = match e {
            BackendError::SubscribersExceeded(_) => Some(Limit::Subscriptions),
            BackendError::ItemTooLarge => Some(Limit::ItemSize),
            _ => None,
        };
        ApiError {
            limit,
            from_backend: matches!(e, BackendError::Unavailable(_) | BackendError::Timeout),
            ..Self::new(e.code(), e.to_string())
        }
    }
}

impl Coded for BackendError {
    fn code(&self) -> ErrorCode {
        match self {
            BackendError::CacheNotFound => ErrorCode::NotFoundError,
            BackendError::CacheExists => ErrorCode::AlreadyExistsError,
            BackendError::LimitExceeded(_)
            | BackendError::SubscribersExceeded(_)
            | BackendError::ItemTooLarge => ErrorCode::LimitExceededError,
            BackendError::Unavailable(_) => ErrorCode::ServerUnavailable,
            BackendError::Timeout => ErrorCode::TimeoutError,
            BackendError::FailedPrecondition(_) => ErrorCode::FailedPreconditionError,
            BackendError::WrongPermit => ErrorCode::InternalServerError,
        }
    }
}

/// Anything that maps to exactly one [`ErrorCode`].
pub trait Coded {
    fn code(&self) -> ErrorCode;
}

impl Coded for AuthError {
    fn code(&self) -> ErrorCode {
        ErrorCode::AuthenticationError
    }
}

impl Coded for Denial {
    fn code(&self) -> ErrorCode {
        ErrorCode::PermissionError
    }
}

impl Coded for ScopeError {
    fn code(&self) -> ErrorCode {
        ErrorCode::InvalidArgumentError
    }
}

impl From<MintError> for ApiError {
    fn from(e: MintError) -> Self {
        ApiError::new(e.code(), e.to_string())
    }
}

impl Coded for MintError {
    fn code(&self) -> ErrorCode {
        match self {
            MintError::NoSigningKey | MintError::Signing(_) => ErrorCode::InternalServerError,
            _ => ErrorCode::InvalidArgumentError,
        }
    }
}

impl Coded for crate::vending::VendError {
    fn code(&self) -> ErrorCode {
        use crate::vending::VendError as V;
        match self {
            V::NotEnabled => ErrorCode::NotFoundError,
            V::WrongMethod | V::BadRequest(_) => ErrorCode::InvalidArgumentError,
            V::Unauthenticated { .. } => ErrorCode::AuthenticationError,
            V::NoPolicy | V::Forbidden(_) => ErrorCode::PermissionError,
            V::RateLimited(_) => ErrorCode::LimitExceededError,
            V::Mint(e) => e.code(),
        }
    }
}

impl From<crate::vending::VendError> for ApiError {
    fn from(e: crate::vending::VendError) -> Self {
        use crate::vending::VendError as V;
        let (http_status, denial_reason, limit) = match &e {
            V::WrongMethod => (Some(405), None, None),
            V::Unauthenticated { reason, .. } => (None, Some(*reason), None),
            V::NoPolicy => (None, Some("no_vending_policy"), None),
            V::Forbidden(_) => (None, Some("vending_policy_unusable"), None),
            V::RateLimited(_) => (
                Some(429),
                Some("vend_rate_limited"),
                Some(Limit::Operations),
            ),
            _ => (None, None, None),
        };
        ApiError {
            http_status,
            denial_reason,
            limit,
            ..Self::new(e.code(), e.to_string())
        }
    }
}
