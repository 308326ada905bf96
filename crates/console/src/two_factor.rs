//! Two-factor sign-in with time-based one-time codes (TOTP, RFC 6238): six
//! digits, 30-second steps, SHA-1 (what every authenticator app supports).
//! A code is accepted one step either side of now, for clocks that drift,
//! and never twice: the store remembers the last accepted step.

use jiff::Timestamp;
use store::Hidden;
use totp_rs::{Builder, Secret, Totp};

/// Who issued the code, as authenticator apps show it.
pub const ISSUER: &str = "schoolgate";

/// A new random 160-bit secret (RFC 4226's recommendation), in base32.
pub fn new_secret() -> Result<Hidden, getrandom::Error> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes)?;
    Ok(Hidden::new(Secret::from(bytes.to_vec()).to_base32()))
}

fn totp(secret: &Hidden, account: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret.expose()).ok()?;
    Builder::new()
        .with_secret(secret)
        .with_skew(1)
        .with_account_name(account.replace(':', "_"))
        .with_issuer(Some(ISSUER))
        .build()
        .ok()
}

/// The `otpauth://` URL an authenticator app reads (from a QR code or a
/// link on the phone itself).
pub fn otpauth_url(secret: &Hidden, account: &str) -> Option<String> {
    totp(secret, account)?.to_url().ok()
}

fn seconds(at: Timestamp) -> u64 {
    u64::try_from(at.as_second()).unwrap_or(0)
}

/// The step a code belongs to, if it is right at `now` (one step either
/// side). The caller must still refuse a step already used.
pub fn check(secret: &Hidden, code: &str, now: Timestamp) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let step = totp(secret, "check")?.check(&code, seconds(now))?;
    i64::try_from(step).ok()
}

/// The code for the step `offset` steps from `at`; for tests and for
/// tools that drive the console.
pub fn code_at(secret: &Hidden, at: Timestamp, offset: i64) -> Option<String> {
    let t = seconds(at).checked_add_signed(offset * 30)?;
    Some(totp(secret, "code")?.generate(t).to_string())
}

/// The `otpauth://` URL as a QR code in SVG, for the phone's camera: drawn
/// here (qrcodegen, no image library), shown inline, never fetched.
pub fn qr_svg(url: &str) -> Option<String> {
    use qrcodegen::{QrCode, QrCodeEcc};
    let code = QrCode::encode_text(url, QrCodeEcc::Medium).ok()?;
    let size = code.size();
    let quiet = 4;
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if code.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + quiet, y + quiet));
            }
        }
    }
    let whole = size + 2 * quiet;
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {whole} {whole}\" \
         width=\"240\" height=\"240\" role=\"img\" aria-label=\"A QR code for your \
         authenticator app\" shape-rendering=\"crispEdges\"><rect width=\"100%\" \
         height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

/// The secret in groups of four, easier to type into a phone.
pub fn grouped(secret: &Hidden) -> String {
    secret
        .expose()
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_work_one_step_either_side_and_no_further() {
        let secret = new_secret().expect("secret");
        assert_eq!(secret.expose().len(), 32);
        let now = Timestamp::from_second(1_800_000_015).expect("time");
        let step = 1_800_000_015 / 30;
        for offset in [-1, 0, 1] {
            let code = code_at(&secret, now, offset).expect("code");
            assert_eq!(check(&secret, &code, now), Some(step + offset), "{offset}");
        }
        for offset in [-3, 3] {
            let code = code_at(&secret, now, offset).expect("code");
            assert_eq!(check(&secret, &code, now), None, "{offset}");
        }
        let code = code_at(&secret, now, 0).expect("code");
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(check(&secret, &spaced, now), Some(step));
        assert_eq!(check(&secret, "abcdef", now), None);
        assert_eq!(check(&secret, "", now), None);
    }

    #[test]
    fn the_rfc_6238_test_vector_holds() {
        // RFC 6238 appendix B, SHA-1, time 59: 94287082 (eight digits); the
        // six-digit code is its last six.
        let secret = Hidden::new(Secret::from(b"12345678901234567890".to_vec()).to_base32());
        let at = Timestamp::from_second(59).expect("time");
        assert_eq!(code_at(&secret, at, 0).as_deref(), Some("287082"));
    }

    #[test]
    fn the_otpauth_url_names_the_issuer_and_account() {
        let secret = new_secret().expect("secret");
        let url = otpauth_url(&secret, "m.jones").expect("url");
        assert!(
            url.starts_with("otpauth://totp/schoolgate:m.jones?"),
            "{url}"
        );
        assert!(
            url.contains(&format!("secret={}", secret.expose())),
            "{url}"
        );
        assert!(url.contains("issuer=schoolgate"), "{url}");
        assert_eq!(grouped(&Hidden::new("ABCDEFGHIJ")), "ABCD EFGH IJ");
        let svg = qr_svg(&url).expect("svg");
        assert!(
            svg.starts_with("<svg") && svg.contains("<path d=\"M"),
            "{svg}"
        );
    }
}
