//! The error codes clients see (SPEC 4), and the one mapping from each failure
//! type to its code. Fronts turn a code into a gRPC status or an HTTP status
//! with a JSON body; nothing else decides a status.

use crate::scope::{Denial, ScopeError};
use crate::token::{AuthError, MintError};

/// The error codes of SPEC 4, as Momento's SDKs name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    AuthenticationError,
    PermissionError,
    InvalidArgumentError,
    NotFoundError,
    ServerUnavailable,
    TimeoutError,
    LimitExceededError,
    InternalServerError,
}

impl ErrorCode {
    /// The code as written in HTTP JSON error bodies.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::AuthenticationError => "AUTHENTICATION_ERROR",
            ErrorCode::PermissionError => "PERMISSION_ERROR",
            ErrorCode::InvalidArgumentError => "INVALID_ARGUMENT_ERROR",
            ErrorCode::NotFoundError => "NOT_FOUND_ERROR",
            ErrorCode::ServerUnavailable => "SERVER_UNAVAILABLE",
            ErrorCode::TimeoutError => "TIMEOUT_ERROR",
            ErrorCode::LimitExceededError => "LIMIT_EXCEEDED_ERROR",
            ErrorCode::InternalServerError => "INTERNAL_SERVER_ERROR",
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

impl Coded for MintError {
    fn code(&self) -> ErrorCode {
        match self {
            MintError::NoSigningKey | MintError::Signing(_) => ErrorCode::InternalServerError,
            _ => ErrorCode::InvalidArgumentError,
        }
    }
}
