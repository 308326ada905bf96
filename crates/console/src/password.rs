//! Passwords: the rule a new password must meet, and argon2id hashing run
//! off the async threads (it takes tens of milliseconds by design).
//!
//! The rule follows the NCSC's advice rather than composition rules: long
//! enough (12 characters), not the username, and not a common password or a
//! common password dressed up with digits, symbols or letter swaps. The list
//! of common passwords is Django's (BSD licence; see `data/README.md`).

use std::collections::HashSet;
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use store::Hidden;

pub const MIN_LENGTH: usize = 12;
/// Long enough for any passphrase, short enough that hashing stays cheap.
pub const MAX_LENGTH: usize = 256;

/// 20,000 common passwords, one a line, lower case.
const COMMON: &str = include_str!("../data/common-passwords.txt");

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// Why a password was refused, in words for the person choosing it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error(
        "Use at least {MIN_LENGTH} characters. Three or four random words make a good password."
    )]
    TooShort,
    #[error("Use no more than {MAX_LENGTH} characters.")]
    TooLong,
    #[error("Do not use your username in your password.")]
    ContainsUsername,
    #[error(
        "That password is too common, and would be among the first an attacker tries. Three or four random words make a better one."
    )]
    Common,
}

/// Undoes the swaps people make to dress up a word (`P@ssw0rd`).
fn plain_letters(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | '!' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            c => c,
        })
        .collect()
}

/// Whether a password is a common one, or a common one with digits and
/// symbols around it, letter swaps, or repeated.
fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    let set = common();
    if set.contains(lower.as_str()) {
        return true;
    }
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    // A short core is a word plus decoration, such as "Liverpool2024!!".
    let core_matters = core.chars().count() >= 4;
    if core_matters && (set.contains(core) || set.contains(plain_letters(core).as_str())) {
        return true;
    }
    if set.contains(plain_letters(&lower).as_str()) {
        return true;
    }
    // A common password with digits or symbols added: "123456789012".
    let dressed = lower
        .char_indices()
        .skip(6)
        .any(|(i, _)| set.contains(&lower[..i]) && lower[i..].chars().all(|c| !c.is_alphabetic()));
    if dressed {
        return true;
    }
    // "passwordpassword", "abcabcabcabc": one short thing repeated.
    let chars: Vec<char> = lower.chars().collect();
    (1..=chars.len() / 2).any(|n| {
        chars.len().is_multiple_of(n)
            && chars.chunks(n).all(|c| c == &chars[..n])
            && (n < 4 || set.contains(chars[..n].iter().collect::<String>().as_str()))
    })
}

/// Checks a new password against the rule.
pub fn check(password: &str, username: &str) -> Result<(), PasswordProblem> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(PasswordProblem::TooShort);
    }
    if length > MAX_LENGTH {
        return Err(PasswordProblem::TooLong);
    }
    let username = username.trim().to_lowercase();
    if !username.is_empty() {
        let lower = password.to_lowercase();
        if lower == username || (username.chars().count() >= 4 && lower.contains(&username)) {
            return Err(PasswordProblem::ContainsUsername);
        }
    }
    if is_common(password) {
        return Err(PasswordProblem::Common);
    }
    Ok(())
}

/// Hashing failed: the operating system had no randomness, or a stored hash
/// was unreadable.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes with argon2id (the crate's defaults: 19 MiB, 2 passes), off the
/// async threads.
pub async fn hash(password: &str) -> Result<Hidden, HashError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| HashError(e.to_string()))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| HashError(e.to_string()))?;
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| Hidden::new(h.to_string()))
            .map_err(|e| HashError(e.to_string()))
    })
    .await
    .map_err(|e| HashError(e.to_string()))?
}

/// A hash of nothing anyone knows, checked when there is no account, so a
/// wrong username takes as long as a wrong password.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::encode_b64(b"schoolgate-decoy").unwrap_or_else(|_| {
            SaltString::from_b64("c2Nob29sZ2F0ZWRlY295").expect("a fixed salt is valid")
        });
        argon2::Argon2::default()
            .hash_password(b"no account has this password", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Checks a password against a stored hash (or against a decoy when there
/// is none), off the async threads.
pub async fn verify(password: &str, stored: Option<&Hidden>) -> bool {
    let password = password.to_owned();
    let stored = stored.map(|h| h.expose().to_owned());
    tokio::task::spawn_blocking(move || {
        let real = stored.is_some();
        let text = stored.unwrap_or_else(|| decoy().to_owned());
        let Ok(parsed) = PasswordHash::new(&text) else {
            return false;
        };
        let matches = argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        real && matches
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_wants_length_and_refuses_the_username() {
        assert_eq!(check("short", "x"), Err(PasswordProblem::TooShort));
        assert_eq!(check(&"a".repeat(300), "x"), Err(PasswordProblem::TooLong));
        assert_eq!(
            check("m.jones.teacher", "m.jones"),
            Err(PasswordProblem::ContainsUsername)
        );
        assert_eq!(
            check("Biscuit-Lantern-Orbit", "m.jones"),
            Ok(()),
            "three random words pass"
        );
        // Twelve characters counted as characters, not bytes.
        assert_eq!(check("ééééé-ééééé", "x"), Err(PasswordProblem::TooShort));
    }

    #[test]
    fn common_passwords_and_their_dressed_up_forms_are_refused() {
        assert!(common().len() > 19_000, "{}", common().len());
        for bad in [
            "qwerty123456",
            "QWERTY123456",
            "1q2w3e4r5t6y",
            "Password1234!",
            "P@ssw0rd2024!",
            "Liverpool2024!!",
            "passwordpassword",
            "aaaaaaaaaaaa",
            "123456789012",
            "abcabcabcabc",
        ] {
            assert_eq!(check(bad, "someone"), Err(PasswordProblem::Common), "{bad}");
        }
    }

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let hashed = hash("Biscuit-Lantern-Orbit").await.expect("hash");
        assert!(hashed.expose().starts_with("$argon2id$"), "argon2id");
        assert!(verify("Biscuit-Lantern-Orbit", Some(&hashed)).await);
        assert!(!verify("biscuit-lantern-orbit", Some(&hashed)).await);
        assert!(!verify("anything", None).await);
        assert!(!verify("anything", Some(&Hidden::new("not a hash"))).await);
        assert!(!format!("{hashed:?}").contains("argon2"));
    }
}
