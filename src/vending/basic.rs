//! `auth = "basic"`: static users from a file of `name:hash:group,group`
//! lines, the hash argon2 (PHC, `$argon2id$...`) or bcrypt (`$2b$...`).
//! Plain passwords are refused when the file is read: the error names the
//! line, never its content.

use std::path::Path;
use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::sync::Semaphore;

use super::{Identity, VendError};

/// The users of a users file. Debug shows the names' count only.
#[derive(Clone)]
pub struct Users {
    users: Arc<[User]>,
    /// Password checks running at once: each costs milliseconds of CPU.
    hashing: Arc<Semaphore>,
}

struct User {
    name: String,
    hash: String,
    groups: Vec<String>,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Users({} users)", self.users.len())
    }
}

impl Users {
    /// Reads a users file; every bad line is one error.
    pub fn load(path: &Path) -> Result<Users, Vec<String>> {
        let shown = path.display();
        let text = std::fs::read_to_string(path)
            .map_err(|e| vec![format!("vending.users_file: cannot read {shown}: {e}")])?;
        Users::parse(&text).map_err(|errors| {
            errors
                .into_iter()
                .map(|e| format!("vending.users_file {shown}: {e}"))
                .collect()
        })
    }

    /// Parses users-file text. Blank lines and `#` comments are skipped.
    pub fn parse(text: &str) -> Result<Users, Vec<String>> {
        let mut users: Vec<User> = Vec::new();
        let mut errors = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match user(line) {
                Ok(u) if users.iter().any(|o| o.name == u.name) => {
                    errors.push(format!("line {}: the user is listed twice", i + 1));
                }
                Ok(u) => users.push(u),
                Err(why) => errors.push(format!("line {}: {why}", i + 1)),
            }
        }
        if users.is_empty() && errors.is_empty() {
            errors.push("no users in it".into());
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Users {
            users: users.into(),
            hashing: Arc::new(Semaphore::new(parallel)),
        })
    }

    /// Checks `Authorization: Basic base64(user:password)`.
    pub async fn authenticate(&self, headers: &http::HeaderMap) -> Result<Identity, VendError> {
        let (name, password) = credentials(headers)?;
        let found = self.users.iter().position(|u| u.name == name);
        // An unknown user is checked against the first user's hash and
        // refused whatever the result, so the answer takes as long as for a
        // known user with a wrong password.
        let index = found.unwrap_or(0);
        let _permit = self.hashing.acquire().await.map_err(|_| {
            VendError::unauthenticated("unavailable", "password checks are unavailable")
        })?;
        let users = Arc::clone(&self.users);
        let matches = tokio::task::spawn_blocking(move || verify(&users[index].hash, &password))
            .await
            .unwrap_or(false);
        match found {
            Some(i) if matches => Ok(Identity {
                sub: self.users[i].name.clone(),
                groups: self.users[i].groups.clone(),
            }),
            _ => Err(VendError::unauthenticated(
                "bad_password",
                "unknown user name or wrong password",
            )),
        }
    }
}

/// One line: `name:hash:groups`.
fn user(line: &str) -> Result<User, &'static str> {
    let (name, rest) = line
        .split_once(':')
        .ok_or("expected name:hash:group,group")?;
    // The hash has no `:` (PHC and bcrypt strings use `$`), so the groups
    // follow the last one.
    let (hash, groups) = rest
        .rsplit_once(':')
        .ok_or("expected name:hash:group,group")?;
    if name.is_empty() || name.len() > 256 || name.chars().any(char::is_control) {
        return Err("the user name must be 1 to 256 characters, no control characters");
    }
    if hash.starts_with("$argon2") {
        PasswordHash::new(hash).map_err(|_| "the argon2 hash is not a valid PHC string")?;
    } else if hash.starts_with("$2") {
        hash.parse::<bcrypt::HashParts>()
            .map_err(|_| "the bcrypt hash is malformed")?;
    } else {
        return Err(
            "the password is not an argon2 ($argon2id$...) or bcrypt ($2b$...) hash; \
                    make one with `scopegate vending hash-password`",
        );
    }
    let groups: Vec<String> = groups
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(User {
        name: name.to_owned(),
        hash: hash.to_owned(),
        groups,
    })
}

/// Constant-time comparison inside both crates.
fn verify(hash: &str, password: &str) -> bool {
    if hash.starts_with("$argon2") {
        PasswordHash::new(hash).is_ok_and(|parsed| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    } else {
        bcrypt::verify(password, hash).unwrap_or(false)
    }
}

/// The user name and password of `Authorization: Basic ...`.
fn credentials(headers: &http::HeaderMap) -> Result<(String, String), VendError> {
    let bad = |why| VendError::unauthenticated("malformed", why);
    let value = headers
        .get(http::header::AUTHORIZATION)
        .ok_or(VendError::unauthenticated(
            "missing",
            "no credential presented",
        ))?;
    let value = value
        .to_str()
        .map_err(|_| bad("malformed basic credentials"))?;
    let (scheme, encoded) = value
        .trim()
        .split_once(' ')
        .ok_or(bad("expected Basic credentials"))?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad("expected Basic credentials"));
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or(bad("malformed basic credentials"))?;
    let (name, password) = decoded
        .split_once(':')
        .ok_or(bad("malformed basic credentials"))?;
    Ok((name.to_owned(), password.to_owned()))
}

/// An argon2id PHC hash of `password` with the crate's default (OWASP) cost:
/// `scopegate vending hash-password`.
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| format!("no system randomness: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_passwords_are_refused_by_line_without_their_content() {
        let hash = hash_password("pw").unwrap();
        let text = format!("# users\nalice:{hash}:a,b\n\nbob:hunter2:a\n");
        let errors = Users::parse(&text).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("line 4:") && !errors[0].contains("hunter2"),
            "{errors:?}"
        );
        assert!(Users::parse("").is_err());
        assert!(Users::parse(&format!("a:{hash}:g\na:{hash}:g")).is_err());
    }

    #[test]
    fn hashes_verify() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify(&hash, "correct horse") && !verify(&hash, "wrong"));
        let b = bcrypt::hash("pw", 4).unwrap();
        assert!(verify(&b, "pw") && !verify(&b, "px"));
        let users = Users::parse(&format!("carol:{b}:")).unwrap();
        assert!(users.users[0].groups.is_empty());
    }
}
