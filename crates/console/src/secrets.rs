//! Random tokens and their digests. Session ids, set-up links and API tokens
//! are 256 random bits; the store keeps only their SHA-256, which is enough
//! for values that cannot be guessed (unlike passwords, which need argon2).

use sha2::{Digest, Sha256};

/// 256 random bits in hex.
pub fn random_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// SHA-256 in hex, with a purpose label so a digest of one kind of token
/// can never stand for another.
pub fn digest(purpose: &str, token: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(purpose.as_bytes());
    hasher.update([0]);
    hasher.update(token.as_bytes());
    hex::encode(hasher.finalize())
}

/// Compares without stopping at the first difference, so timing says
/// nothing about how much of a token was right.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_digests_depend_on_purpose() {
        let a = random_token().expect("random");
        let b = random_token().expect("random");
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_ne!(digest("session", &a), digest("api", &a));
        assert_eq!(digest("session", &a), digest("session", &a));
        assert!(same(&a, &a.clone()));
        assert!(!same(&a, &b));
        assert!(!same("abc", "abcd"));
    }
}
