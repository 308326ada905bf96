//! Email delivered through a real SMTP server process (aiosmtpd) on
//! loopback, read back with Python's own email parser.

mod common;

use std::time::Duration;

use base64::Engine;
use common::{SmtpServer, free_port, loopback_mail, store};
use jiff::{Timestamp, ToSpan};
use notify::{DeliveryOptions, DeliveryReport, Mailer, Message, Outbox, RetryPolicy, Webhooks};
use store::sqlite::SqliteStore;
use store::{OutboxState, Store};

fn t0() -> Timestamp {
    "2026-11-20T13:05:00Z".parse().expect("time")
}

fn options(max_attempts: u32) -> DeliveryOptions {
    DeliveryOptions {
        retry: RetryPolicy {
            first_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(600),
            max_attempts,
        },
        ..DeliveryOptions::default()
    }
}

/// An outbox in a fresh store, mailing through loopback `port`.
async fn outbox_to(
    port: u16,
    options: DeliveryOptions,
) -> (tempfile::TempDir, Outbox<SqliteStore>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mailer = Mailer::new(&loopback_mail(port)).expect("mailer");
    let outbox = Outbox::new(
        store(&dir).await,
        Some(mailer),
        Webhooks::default(),
        options,
    );
    (dir, outbox)
}

/// The newest message in the outbox.
async fn latest(outbox: &Outbox<SqliteStore>) -> store::OutboxEntry {
    outbox
        .store()
        .outbox_entries(1)
        .await
        .expect("list")
        .remove(0)
}

/// Queues an urgent alert for the DSL.
async fn queue_alert(outbox: &Outbox<SqliteStore>, at: Timestamp) {
    outbox
        .enqueue(&alert("dsl@hillside.example"), at)
        .await
        .expect("enqueue");
}

fn alert(to: &str) -> Message {
    Message::new(
        "alert",
        5,
        "Urgent: self-harm search on ICT-07",
        "A pupil searched for a self-harm method at 13:04.\nOpen the console to see the activity around it.",
    )
    .to(to)
}

#[tokio::test]
async fn an_alert_with_a_report_arrives_intact() {
    let server = SmtpServer::start(0, None);
    let (_dir, outbox) = outbox_to(server.port, options(5)).await;

    let long_line = "Zoë Ní Bhriain searched: ".to_owned() + &"how to hide cuts ".repeat(120);
    let text =
        format!("Alert for Zoë Ní Bhriain (Year 9), device ICT-07.\n\n{long_line}\nEnd of alert.");
    let csv = "name,year,attempts\r\nZoë Ní Bhriain,9,4\r\n\"Ó Súilleabháin, Seán\",10,2\r\n"
        .as_bytes()
        .to_vec();
    let binary: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let message = Message::new(
        "weekly-report",
        3,
        "Weekly report — Zoë Ní Bhriain and 3 others",
        &text,
    )
    .to("Zoë Ní Bhriain <zbhriain@hillside.example>")
    .to("deputy.dsl@hillside.example")
    .html("<p>Alert for <b>Zoë Ní Bhriain</b></p>")
    .attach(
        "attempts-2026-W47.csv",
        "text/csv; charset=utf-8",
        csv.clone(),
    )
    .attach("chart.bin", "application/octet-stream", binary.clone());
    let queued = outbox.enqueue(&message, t0()).await.expect("enqueue");
    assert_eq!(queued.len(), 1, "one email for all its recipients");

    let report = outbox.deliver_due(t0()).await.expect("deliver");
    assert_eq!(report.sent, 1, "{report:?}");
    let received = server.wait_for(1);
    assert_eq!(received.len(), 1);
    let got = &received[0];
    assert_eq!(got["mail_from"], "schoolgate@hillside.example");
    assert_eq!(
        got["rcpt_tos"],
        serde_json::json!(["zbhriain@hillside.example", "deputy.dsl@hillside.example"])
    );
    assert!(
        got["to"].as_str().expect("to").contains("Zoë Ní Bhriain"),
        "{got}"
    );
    assert!(
        got["reply_to"]
            .as_str()
            .expect("reply-to")
            .contains("dsl-team@hillside.example")
    );
    assert_eq!(
        got["subject"],
        "Weekly report — Zoë Ní Bhriain and 3 others"
    );
    let body = got["text"].as_str().expect("text").replace("\r\n", "\n");
    assert_eq!(body.trim_end(), text, "the text arrived word for word");
    assert!(
        got["html"]
            .as_str()
            .expect("html")
            .contains("<b>Zoë Ní Bhriain</b>")
    );
    // RFC 5322: no line over 998 characters, however long the text's lines.
    assert!(
        got["longest_line"].as_u64().expect("n") <= 998,
        "{}",
        got["longest_line"]
    );

    let attachments = got["attachments"].as_array().expect("attachments");
    assert_eq!(attachments.len(), 2);
    let decode = |v: &serde_json::Value| {
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("b64"))
            .expect("base64")
    };
    assert_eq!(attachments[0]["filename"], "attempts-2026-W47.csv");
    assert_eq!(attachments[0]["content_type"], "text/csv");
    assert_eq!(
        decode(&attachments[0]["content"]),
        csv,
        "the CSV byte for byte"
    );
    assert_eq!(attachments[1]["filename"], "chart.bin");
    assert_eq!(decode(&attachments[1]["content"]), binary);

    let entry = latest(&outbox).await;
    assert_eq!(entry.state, OutboxState::Sent);
    assert_eq!(entry.attempts, 1);
    assert_eq!(entry.sent_at, Some(t0()));
}

#[tokio::test]
async fn mail_waits_while_the_server_is_down_and_goes_when_it_returns() {
    let port = free_port();
    let (_dir, outbox) = outbox_to(port, options(5)).await;
    queue_alert(&outbox, t0()).await;

    // Down: tried, kept, to be tried again after 30 s.
    let report = outbox.deliver_due(t0()).await.expect("deliver");
    assert_eq!(
        report,
        DeliveryReport {
            retrying: 1,
            ..Default::default()
        }
    );
    let entry = latest(&outbox).await;
    assert_eq!(entry.state, OutboxState::Queued);
    assert_eq!(entry.attempts, 1);
    assert_eq!(entry.next_attempt_at, t0() + 30.seconds());
    let reason = entry.last_error.expect("a reason");
    assert!(reason.contains(&format!("127.0.0.1:{port}")), "{reason}");

    // Not before its time.
    let report = outbox
        .deliver_due(t0() + 29.seconds())
        .await
        .expect("deliver");
    assert_eq!(report, DeliveryReport::default());

    // Still down: the wait doubles.
    let report = outbox
        .deliver_due(t0() + 30.seconds())
        .await
        .expect("deliver");
    assert_eq!(report.retrying, 1);
    let entry = latest(&outbox).await;
    assert_eq!(entry.attempts, 2);
    assert_eq!(entry.next_attempt_at, t0() + 90.seconds());

    // Back up: delivered, once.
    let server = SmtpServer::start(port, None);
    let report = outbox
        .deliver_due(t0() + 90.seconds())
        .await
        .expect("deliver");
    assert_eq!(report.sent, 1, "{report:?}");
    let received = server.wait_for(1);
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["subject"], "Urgent: self-harm search on ICT-07");
    let entry = latest(&outbox).await;
    assert_eq!(entry.state, OutboxState::Sent);
    assert_eq!(entry.attempts, 3);
    let report = outbox.deliver_due(t0() + 1.hours()).await.expect("deliver");
    assert_eq!(report, DeliveryReport::default(), "nothing is sent twice");
}

#[tokio::test]
async fn after_the_last_attempt_a_message_is_kept_as_failed() {
    let port = free_port();
    let (_dir, outbox) = outbox_to(port, options(3)).await;
    queue_alert(&outbox, t0()).await;
    let mut now = t0();
    for _ in 0..2 {
        assert_eq!(outbox.deliver_due(now).await.expect("deliver").retrying, 1);
        now += 10.minutes();
    }
    assert_eq!(outbox.deliver_due(now).await.expect("deliver").failed, 1);
    let entry = latest(&outbox).await;
    assert_eq!(entry.state, OutboxState::Failed);
    assert_eq!(entry.attempts, 3);
    assert!(entry.last_error.is_some());
    assert_eq!(
        outbox.deliver_due(now + 1.hours()).await.expect("deliver"),
        DeliveryReport::default()
    );
}

#[tokio::test]
async fn a_refused_recipient_is_failed_with_the_servers_reason() {
    let server = SmtpServer::start(0, Some("left-in-july"));
    let (_dir, outbox) = outbox_to(server.port, options(5)).await;
    outbox
        .enqueue(&alert("Former DSL <left-in-july@hillside.example>"), t0())
        .await
        .expect("enqueue");
    let report = outbox.deliver_due(t0()).await.expect("deliver");
    assert_eq!(report.failed, 1, "a refusal is not retried: {report:?}");
    let entry = latest(&outbox).await;
    assert_eq!(entry.state, OutboxState::Failed);
    let reason = entry.last_error.expect("a reason");
    assert!(reason.contains("550"), "{reason}");
    assert!(
        reason.contains("no such mailbox at this school"),
        "{reason}"
    );
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn the_rate_limit_holds_messages_back_without_losing_them() {
    let server = SmtpServer::start(0, None);
    let options = DeliveryOptions {
        max_per_minute: 2,
        ..options(5)
    };
    let (_dir, outbox) = outbox_to(server.port, options).await;
    for n in 0..3 {
        let message = alert("dsl@hillside.example").dedup_key(&format!("alert:{n}"));
        outbox.enqueue(&message, t0()).await.expect("enqueue");
    }
    let report = outbox.deliver_due(t0()).await.expect("deliver");
    assert_eq!(report.sent, 2);
    assert!(report.rate_limited);
    assert_eq!(
        outbox
            .deliver_due(t0() + 30.seconds())
            .await
            .expect("deliver")
            .sent,
        0
    );
    assert_eq!(
        outbox
            .deliver_due(t0() + 61.seconds())
            .await
            .expect("deliver")
            .sent,
        1
    );
    assert_eq!(server.wait_for(3).len(), 3);
}

#[tokio::test]
async fn the_same_alert_is_queued_once() {
    let (_dir, outbox) = outbox_to(free_port(), options(5)).await;
    let message = alert("dsl@hillside.example").dedup_key("alert:41");
    assert_eq!(
        outbox.enqueue(&message, t0()).await.expect("first").len(),
        1
    );
    assert!(
        outbox
            .enqueue(&message, t0())
            .await
            .expect("again")
            .is_empty()
    );
    // A message that would go nowhere is refused, not dropped.
    let nowhere = Message::new("alert", 5, "To nobody", "text");
    assert!(outbox.enqueue(&nowhere, t0()).await.is_err());
}

// The worker needs a thread of its own while the test waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_sends_at_once_when_woken_and_stops_cleanly() {
    let server = SmtpServer::start(0, None);
    let (_dir, outbox) = outbox_to(server.port, options(5)).await;
    let outbox = std::sync::Arc::new(outbox);
    // A long tick: only the wake makes it send promptly.
    let worker = notify::DeliveryWorker::spawn(outbox.clone(), Duration::from_secs(3600));
    queue_alert(&outbox, Timestamp::now()).await;
    worker.wake();
    assert_eq!(server.wait_for(1).len(), 1);
    assert!(worker.shutdown(Duration::from_secs(5)).await);
}

// The worker needs a thread of its own while the test waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_cut_short_by_shutdown_is_tried_again_later() {
    // A server that accepts the connection and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = loopback_mail(port);
    settings.timeout_seconds = 60;
    let mailer = Mailer::new(&settings).expect("mailer");
    let outbox = std::sync::Arc::new(Outbox::new(
        store(&dir).await,
        Some(mailer),
        Webhooks::default(),
        options(5),
    ));
    queue_alert(&outbox, Timestamp::now()).await;
    let worker = notify::DeliveryWorker::spawn(outbox.clone(), Duration::from_millis(50));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = std::time::Instant::now();
    assert!(
        !worker.shutdown(Duration::from_secs(1)).await,
        "the send could not finish"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown kept to its grace period"
    );
    let entry = latest(&outbox).await;
    assert_eq!(entry.state, OutboxState::Sending, "still claimed, not lost");
    // Once its claim lapses (after a restart), it is claimed again.
    let later = Timestamp::now() + 6.minutes();
    let again = outbox
        .store()
        .claim_outbox(later, later + 5.minutes(), 10)
        .await
        .expect("claim");
    assert_eq!(again.len(), 1);
    drop(silent);
}
