//! Webhooks delivered to a real HTTP server (hyper) on loopback; the
//! signature is checked with Python's hmac module, not our own code.

mod common;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use jiff::{Timestamp, ToSpan};
use notify::{
    DeliveryOptions, Message, Outbox, RetryPolicy, SIGNATURE_HEADER, WebhookSettings, Webhooks,
};
use store::{Channel, OutboxState, Store};

type Received = Arc<Mutex<Vec<(Option<String>, String, Bytes)>>>;

/// A receiver answering with the given statuses in turn, then 204.
async fn receiver(answers: &[u16]) -> (SocketAddr, Received) {
    receiver_over(answers, None).await
}

/// The same, over TLS when given an acceptor.
async fn receiver_over(
    answers: &[u16],
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> (SocketAddr, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let received: Received = Arc::default();
    let answers = Arc::new(Mutex::new(
        answers.iter().copied().collect::<VecDeque<u16>>(),
    ));
    let kept = received.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let kept = kept.clone();
            let answers = answers.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                    let kept = kept.clone();
                    let answers = answers.clone();
                    async move {
                        let signature = request
                            .headers()
                            .get(SIGNATURE_HEADER)
                            .map(|v| v.to_str().expect("ascii").to_owned());
                        let content_type = request
                            .headers()
                            .get("content-type")
                            .map(|v| v.to_str().expect("ascii").to_owned())
                            .unwrap_or_default();
                        let body = request
                            .into_body()
                            .collect()
                            .await
                            .expect("body")
                            .to_bytes();
                        kept.lock()
                            .expect("lock")
                            .push((signature, content_type, body));
                        let status = answers.lock().expect("lock").pop_front().unwrap_or(204);
                        Ok::<_, Infallible>(
                            Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::from_static(b"the receiver is busy")))
                                .expect("response"),
                        )
                    }
                });
                let http = hyper::server::conn::http1::Builder::new();
                match tls {
                    Some(tls) => {
                        if let Ok(stream) = tls.accept(stream).await {
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                    None => {
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    }
                }
            });
        }
    });
    (addr, received)
}

fn hook(
    name: &str,
    addr: SocketAddr,
    secret_file: &std::path::Path,
    min_severity: u8,
) -> WebhookSettings {
    WebhookSettings {
        name: name.into(),
        url: format!("http://{addr}/schoolgate"),
        min_severity,
        kinds: vec!["alert".into()],
        secret_file: Some(secret_file.to_owned()),
        secret_env: None,
        ca_file: None,
        timeout_seconds: 5,
    }
}

/// HMAC-SHA256 by Python's standard library.
fn python_hmac(secret: &str, body: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("body");
    std::fs::write(&path, body).expect("write");
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import hmac, hashlib, sys; print(hmac.new(sys.argv[1].encode(), open(sys.argv[2], 'rb').read(), hashlib.sha256).hexdigest())",
            secret,
        ])
        .arg(&path)
        .output()
        .expect("python3");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

#[tokio::test]
async fn a_signed_alert_reaches_the_webhook_after_a_500() {
    let (addr, received) = receiver(&[500]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = "correct horse battery staple";
    let secret_file = dir.path().join("hook-secret");
    std::fs::write(&secret_file, format!("{secret}\n")).expect("secret");
    let webhooks = Webhooks::new(&[
        hook("on-call", addr, &secret_file, 4),
        hook("everything", addr, &secret_file, 1),
    ])
    .expect("webhooks");
    let options = DeliveryOptions {
        retry: RetryPolicy {
            first_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(600),
            max_attempts: 5,
        },
        ..DeliveryOptions::default()
    };
    let outbox = Outbox::new(common::store(&dir).await, None, webhooks, options);

    let t0: Timestamp = "2026-11-20T13:05:00Z".parse().expect("time");
    let urgent = Message::new(
        "alert",
        5,
        "Urgent: grooming concern — Zoë",
        "Details in the console.",
    )
    .dedup_key("alert:9");
    let low = Message::new("alert", 2, "Blocked: gambling", "Details in the console.");
    assert_eq!(outbox.enqueue(&urgent, t0).await.expect("urgent").len(), 2);
    assert_eq!(
        outbox.enqueue(&low, t0).await.expect("low").len(),
        1,
        "only 'everything' takes severity 2"
    );
    let entries = outbox.store().outbox_entries(10).await.expect("list");
    assert!(entries.iter().all(|e| e.channel == Channel::Webhook));

    // The first call meets a 500 and waits; the others go.
    let report = outbox.deliver_due(t0).await.expect("deliver");
    assert_eq!((report.sent, report.retrying), (2, 1), "{report:?}");
    let waiting: Vec<_> = outbox
        .store()
        .outbox_entries(10)
        .await
        .expect("list")
        .into_iter()
        .filter(|e| e.state == OutboxState::Queued)
        .collect();
    assert_eq!(waiting.len(), 1);
    let reason = waiting[0].last_error.clone().expect("reason");
    assert!(
        reason.contains("500") && reason.contains("the receiver is busy"),
        "{reason}"
    );

    let report = outbox
        .deliver_due(t0 + 30.seconds())
        .await
        .expect("deliver");
    assert_eq!(report.sent, 1, "{report:?}");
    assert!(
        outbox
            .store()
            .outbox_entries(10)
            .await
            .expect("list")
            .iter()
            .all(|e| e.state == OutboxState::Sent)
    );

    let calls = received.lock().expect("lock").clone();
    assert_eq!(calls.len(), 4);
    for (signature, content_type, body) in &calls {
        assert_eq!(content_type, "application/json");
        let expected = format!("sha256={}", python_hmac(secret, body));
        assert_eq!(
            signature.as_deref(),
            Some(expected.as_str()),
            "signed with the shared secret"
        );
    }
    let bodies: Vec<serde_json::Value> = calls
        .iter()
        .map(|(_, _, b)| serde_json::from_slice(b).expect("json"))
        .collect();
    // The retried call carries the same outbox number as the failed one.
    assert_eq!(bodies[0]["id"], bodies[3]["id"]);
    assert_eq!(bodies[0]["subject"], "Urgent: grooming concern — Zoë");
    assert_eq!(bodies[0]["severity"], 5);
    assert_eq!(bodies[0]["kind"], "alert");
    assert_eq!(bodies[0]["dedup_key"], "alert:9");
    assert_eq!(bodies[3]["sent_at"], "2026-11-20T13:05:30Z");
}

#[tokio::test]
async fn a_refusing_webhook_is_failed_with_its_answer() {
    let (addr, _received) = receiver(&[403]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let secret_file = dir.path().join("hook-secret");
    std::fs::write(&secret_file, "s3cret").expect("secret");
    let webhooks = Webhooks::new(&[hook("on-call", addr, &secret_file, 1)]).expect("webhooks");
    let outbox = Outbox::new(
        common::store(&dir).await,
        None,
        webhooks,
        DeliveryOptions::default(),
    );
    let t0 = Timestamp::now();
    outbox
        .enqueue(&Message::new("alert", 5, "Urgent", "text"), t0)
        .await
        .expect("enqueue");
    let report = outbox.deliver_due(t0).await.expect("deliver");
    assert_eq!(report.failed, 1);
    let entry = outbox
        .store()
        .outbox_entries(1)
        .await
        .expect("list")
        .remove(0);
    assert_eq!(entry.state, OutboxState::Failed);
    assert!(entry.last_error.expect("reason").contains("403"));
}

/// A TLS acceptor with a fresh certificate for 127.0.0.1, and that
/// certificate's PEM file (it is its own authority).
fn tls_for_loopback(dir: &std::path::Path) -> (tokio_rustls::TlsAcceptor, std::path::PathBuf) {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("certificate");
    let pem = dir.join("receiver-ca.pem");
    std::fs::write(&pem, certified.cert.pem()).expect("write");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .expect("server config");
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), pem)
}

#[tokio::test]
async fn https_receivers_are_checked_against_the_given_authority() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (acceptor, authority) = tls_for_loopback(dir.path());
    let (addr, received) = receiver_over(&[], Some(acceptor)).await;
    let secret_file = dir.path().join("hook-secret");
    std::fs::write(&secret_file, "s3cret").expect("secret");
    let mut trusted = hook("trusted", addr, &secret_file, 1);
    trusted.url = format!("https://{addr}/schoolgate");
    trusted.ca_file = Some(authority);
    let mut untrusted = trusted.clone();
    untrusted.name = "untrusted".into();
    untrusted.ca_file = None;
    let webhooks = Webhooks::new(&[trusted, untrusted]).expect("webhooks");
    let message = Message::new("alert", 5, "Urgent", "text");
    webhooks
        .post("trusted", 1, &message, Timestamp::now())
        .await
        .expect("posted over https");
    let err = webhooks
        .post("untrusted", 2, &message, Timestamp::now())
        .await
        .expect_err("a certificate nobody vouches for");
    assert!(!err.permanent, "{err}");
    let calls = received.lock().expect("lock").clone();
    assert_eq!(calls.len(), 1, "only the trusted call got through");
    let body: serde_json::Value = serde_json::from_slice(&calls[0].2).expect("json");
    assert_eq!(body["id"], 1);
}
