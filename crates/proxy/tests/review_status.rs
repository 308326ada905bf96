//! The asker of a review request sees its outcome on the proxy: the
//! decision and the reason, found by the block page's reference.

mod common;

use common::*;
use store::{ReviewDecision, Store};

fn reference_in(page: &str) -> String {
    let at = page.find("SG-").expect("a reference on the page");
    page[at..at + 12].to_owned()
}

async fn status_page(p: &TestProxy, query: &str) -> (String, String) {
    let out = tokio::process::Command::new("curl")
        .args(["-sS", "--noproxy", "*", "-w", "\n%{http_code}"])
        .arg(format!("{}/review/status?{query}", p.url()))
        .output()
        .await
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').expect("a status code");
    (body.to_owned(), code.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_asker_sees_the_decision_and_its_reason() {
    let web = origin("web").start().await;
    let url = http_url("www.roblox.com", &web, "/games");
    let mut p = proxy().profile("ks2").start().await;
    let blocked = curl(&p, &url, &[]).await;
    let reference = reference_in(&blocked.body);

    let (body, code) = status_page(&p, &format!("reference={reference}")).await;
    assert_eq!(code, "404", "{body}");
    assert!(body.contains("No request with that reference"), "{body}");

    let posted = tokio::process::Command::new("curl")
        .args(["-sS", "--noproxy", "*"])
        .args(["--data-urlencode", &format!("ref={reference}")])
        .arg(format!("{}/review", p.url()))
        .output()
        .await
        .expect("curl");
    let posted = String::from_utf8_lossy(&posted.stdout);
    assert!(
        posted.contains(&format!("/review/status?reference={reference}")),
        "{posted}"
    );

    let (body, code) = status_page(&p, &format!("reference={}", reference.to_lowercase())).await;
    assert_eq!(code, "200");
    assert!(body.contains("has not been checked yet"), "{body}");

    let review = p
        .store
        .review_by_reference(&reference)
        .await
        .expect("read")
        .expect("recorded");
    let decided = p
        .store
        .decide_review(
            review.id,
            &ReviewDecision {
                approved: false,
                by: "t.tech".into(),
                at: jiff::Timestamp::now(),
                reason: "Games sites stay blocked in <school> hours".into(),
                policy_revision: None,
            },
        )
        .await
        .expect("decide");
    assert!(decided);
    let (body, code) = status_page(&p, &format!("reference={reference}")).await;
    assert_eq!(code, "200");
    assert!(body.contains("The request was declined"), "{body}");
    assert!(
        body.contains("Games sites stay blocked in &lt;school&gt; hours"),
        "{body}"
    );
    assert!(!body.contains("t.tech"), "the reviewer is not named");

    let (body, code) = status_page(&p, "reference=<script>").await;
    assert_eq!(code, "400");
    assert!(!body.contains("<script>"));
    p.stop().await;
}
