//! Proxy sign-in (Basic `Proxy-Authorization`) against the people in the
//! store. Checking an argon2id hash takes tens of milliseconds, so a
//! successful check is remembered for a few minutes, keyed by a SHA-256 of
//! the credentials (never the password itself), and checks run off the
//! async threads, a few at a time. Passwords are never logged.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

/// How long a successful sign-in is remembered.
pub const REMEMBER: Duration = Duration::from_secs(300);
/// At most this many remembered sign-ins; the cache starts again when full.
const MAX_REMEMBERED: usize = 50_000;

/// The user name and password of a Basic credential.
#[derive(PartialEq, Eq)]
pub struct Basic {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Basic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Basic")
            .field("user", &self.user)
            .field("password", &"(hidden)")
            .finish()
    }
}

/// Reads `Basic <base64 of user:password>`.
pub fn parse_basic(value: &[u8]) -> Option<Basic> {
    let text = std::str::from_utf8(value).ok()?.trim();
    let (scheme, encoded) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = decode_base64(encoded.trim())?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    if user.is_empty() {
        return None;
    }
    Some(Basic {
        user: user.to_owned(),
        password: password.to_owned(),
    })
}

/// `Basic <base64 of user:password>`, for signing in to a parent proxy.
pub fn basic_value(credentials: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = credentials.as_bytes();
    let mut out = String::with_capacity(6 + bytes.len().div_ceil(3) * 4);
    out.push_str("Basic ");
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = text.trim_end_matches('=').as_bytes();
    if bytes.len() > 4096 || bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        let produced = chunk.len() * 6 / 8;
        for i in 0..produced {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// A signed-in user and when the credentials were checked.
pub type SignedIn = (Arc<str>, Instant);

/// Remembered sign-ins, shared by every connection.
#[derive(Debug)]
pub struct SignIns {
    remembered: Mutex<HashMap<[u8; 32], SignedIn>>,
    checking: Semaphore,
}

impl Default for SignIns {
    fn default() -> Self {
        SignIns {
            remembered: Mutex::new(HashMap::new()),
            checking: Semaphore::new(2),
        }
    }
}

fn key(value: &[u8]) -> [u8; 32] {
    Sha256::digest(value).into()
}

impl SignIns {
    /// The user a `Proxy-Authorization` value signs in, or `None` when it is
    /// not a valid user name and password.
    pub async fn check(&self, gate: &Arc<gate::Gate>, value: &[u8]) -> Option<Arc<str>> {
        let key = key(value);
        if let Some(user) = self.remembered(&key) {
            return Some(user);
        }
        let basic = parse_basic(value)?;
        let _permit = self.checking.acquire().await.ok()?;
        // Another request may have checked the same credentials meanwhile.
        if let Some(user) = self.remembered(&key) {
            return Some(user);
        }
        let gate = gate.clone();
        let Basic { user, password } = basic;
        let (user, ok) = tokio::task::spawn_blocking(move || {
            let ok = gate.verify_password(&user, &password);
            (user, ok)
        })
        .await
        .ok()?;
        if !ok {
            tracing::info!(user = %user, "proxy sign-in refused: wrong user name or password");
            return None;
        }
        let user: Arc<str> = Arc::from(user);
        let mut remembered = self.remembered.lock().unwrap_or_else(|e| e.into_inner());
        if remembered.len() >= MAX_REMEMBERED {
            remembered.clear();
        }
        remembered.insert(key, (user.clone(), Instant::now()));
        Some(user)
    }

    fn remembered(&self, key: &[u8; 32]) -> Option<Arc<str>> {
        let remembered = self.remembered.lock().unwrap_or_else(|e| e.into_inner());
        remembered
            .get(key)
            .filter(|(_, at)| at.elapsed() < REMEMBER)
            .map(|(user, _)| user.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_values_read_back() {
        for credentials in ["a:b", "school:pa55", "trust-user:p\u{e4}ss:w0rd", "x:"] {
            let value = basic_value(credentials);
            let back = parse_basic(value.as_bytes()).expect(credentials);
            assert_eq!(format!("{}:{}", back.user, back.password), credentials);
        }
        assert_eq!(
            basic_value("Aladdin:open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn basic_credentials_are_read() {
        // "t.teacher:correct horse"
        let b = parse_basic(b"Basic dC50ZWFjaGVyOmNvcnJlY3QgaG9yc2U=").expect("basic");
        assert_eq!(b.user, "t.teacher");
        assert_eq!(b.password, "correct horse");
        // "a:b:c" keeps the colon in the password.
        let b = parse_basic(b"basic YTpiOmM=").expect("basic");
        assert_eq!((b.user.as_str(), b.password.as_str()), ("a", "b:c"));
        assert_eq!(parse_basic(b"Bearer abc"), None);
        assert_eq!(parse_basic(b"Basic !!!!"), None);
        assert_eq!(parse_basic(b"Basic Og=="), None, "empty user");
    }

    #[test]
    fn passwords_stay_out_of_debug() {
        let b = parse_basic(b"Basic dC50ZWFjaGVyOmNvcnJlY3QgaG9yc2U=").expect("basic");
        assert!(!format!("{b:?}").contains("horse"));
    }
}
