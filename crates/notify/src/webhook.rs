//! Webhooks: a JSON POST for each matching message, signed with the
//! webhook's shared secret so the receiver knows it came from schoolgate.
//!
//! The signature is the lowercase hex HMAC-SHA256 of the exact body bytes,
//! keyed with the shared secret, sent as
//! `X-Schoolgate-Signature: sha256=<hex>`. The body carries the outbox
//! number (`id`), so a receiver can tell a retried delivery from a new one.

use std::path::Path;
use std::time::Duration;

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde::Serialize;
use sha2::Sha256;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use crate::settings::{WebhookSettings, read_secret, validate_webhook};
use crate::{DeliveryError, Message, SetupError};

/// The header that carries the body's signature.
pub const SIGNATURE_HEADER: &str = "X-Schoolgate-Signature";

/// How much of a refusing receiver's answer is kept as the reason.
const REASON_CHARS: usize = 300;

/// `sha256=` and the hex HMAC-SHA256 of `body` keyed with `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// What a webhook receives.
#[derive(Serialize)]
struct Payload<'a> {
    /// The outbox number: the same for every attempt at one delivery.
    id: i64,
    kind: &'a str,
    severity: u8,
    subject: &'a str,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    dedup_key: Option<&'a str>,
    sent_at: Timestamp,
}

struct Hook {
    settings: WebhookSettings,
    secret: String,
    agent: ureq::Agent,
}

/// The configured webhooks.
#[derive(Default)]
pub struct Webhooks {
    hooks: Vec<Hook>,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets are never printed.
        let names: Vec<&str> = self
            .hooks
            .iter()
            .map(|h| h.settings.name.as_str())
            .collect();
        f.debug_struct("Webhooks").field("names", &names).finish()
    }
}

impl Webhooks {
    /// Checks the settings and reads each secret.
    pub fn new(settings: &[WebhookSettings]) -> Result<Webhooks, SetupError> {
        validate_webhook(settings)?;
        let mut hooks = Vec::with_capacity(settings.len());
        for (i, s) in settings.iter().enumerate() {
            let secret = read_secret(
                &format!("webhook[{i}].secret_file"),
                s.secret_file.as_deref(),
                &format!("webhook[{i}].secret_env"),
                s.secret_env.as_deref(),
            )?
            .ok_or_else(|| {
                SetupError::new(format!("webhook[{i}].secret_file"), "no secret given")
            })?;
            let mut tls = TlsConfig::builder();
            if let Some(path) = &s.ca_file {
                tls = tls.root_certs(RootCerts::new_with_certs(&authority(
                    &format!("webhook[{i}].ca_file"),
                    path,
                )?));
            }
            let agent = ureq::Agent::config_builder()
                .tls_config(tls.build())
                .timeout_global(Some(Duration::from_secs(s.timeout_seconds)))
                .http_status_as_error(false)
                // A signed alert goes where it was configured to, nowhere else.
                .max_redirects(0)
                .build()
                .new_agent();
            hooks.push(Hook {
                settings: s.clone(),
                secret,
                agent,
            });
        }
        Ok(Webhooks { hooks })
    }

    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }

    /// The names of the webhooks that take this message.
    pub fn matching(&self, message: &Message) -> Vec<String> {
        self.hooks
            .iter()
            .filter(|h| message.severity >= h.settings.min_severity)
            .filter(|h| h.settings.kinds.is_empty() || h.settings.kinds.contains(&message.kind))
            .map(|h| h.settings.name.clone())
            .collect()
    }

    /// Posts one message to the named webhook now; `id` is its outbox number.
    pub async fn post(
        &self,
        name: &str,
        id: i64,
        message: &Message,
        at: Timestamp,
    ) -> Result<(), DeliveryError> {
        let Some(hook) = self.hooks.iter().find(|h| h.settings.name == name) else {
            return Err(DeliveryError::permanent(format!(
                "there is no webhook named '{name}' in schoolgate.toml any more"
            )));
        };
        let body = serde_json::to_vec(&Payload {
            id,
            kind: &message.kind,
            severity: message.severity,
            subject: &message.subject,
            text: &message.text,
            dedup_key: message.dedup_key.as_deref(),
            sent_at: at,
        })
        .map_err(|e| {
            DeliveryError::permanent(format!("the webhook body could not be written: {e}"))
        })?;
        let signature = sign(hook.secret.as_bytes(), &body);
        let agent = hook.agent.clone();
        let url = hook.settings.url.clone();
        // ureq blocks; keep it off the async threads.
        tokio::task::spawn_blocking(move || post_blocking(&agent, &url, &signature, body))
            .await
            .map_err(|e| DeliveryError::transient(format!("the webhook call stopped: {e}")))?
    }
}

/// The certificates in a PEM file, for trusting a school's own authority.
fn authority(key: &str, path: &Path) -> Result<Vec<Certificate<'static>>, SetupError> {
    let pem = std::fs::read(path).map_err(|e| {
        SetupError::new(
            key,
            format!("could not read {}: {e}; check the path", path.display()),
        )
    })?;
    let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(c)) => Some(Ok(c)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<_, _>>()
        .map_err(|e| SetupError::new(key, format!("{} is not a PEM file: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(SetupError::new(
            key,
            format!("{} holds no PEM certificate", path.display()),
        ));
    }
    Ok(certs)
}

fn post_blocking(
    agent: &ureq::Agent,
    url: &str,
    signature: &str,
    body: Vec<u8>,
) -> Result<(), DeliveryError> {
    let mut response = agent
        .post(url)
        .header("Content-Type", "application/json")
        .header(SIGNATURE_HEADER, signature)
        .send(&body[..])
        .map_err(|e| {
            DeliveryError::transient(format!("could not reach the webhook at {url}: {e}"))
        })?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(());
    }
    let answer: String = response
        .body_mut()
        .with_config()
        .limit(4096)
        .read_to_string()
        .unwrap_or_default()
        .chars()
        .take(REASON_CHARS)
        .collect();
    let reason = format!("the webhook at {url} answered {status}: {}", answer.trim());
    // Busy or broken receivers may recover; a refusal (or a redirect we do
    // not follow) will be the same next time.
    if status == 408 || status == 429 || status >= 500 {
        Err(DeliveryError::transient(reason))
    } else {
        Err(DeliveryError::permanent(reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
