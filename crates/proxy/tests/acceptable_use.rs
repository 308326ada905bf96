//! Acceptable use before access (§7.2): on a profile that requires it, a
//! person sees the agreement until they agree; help sites stay reachable;
//! a new version asks again. Everyone here is invented.

mod common;

use std::time::Duration;

use common::*;
use jiff::{SignedDuration, Timestamp};
use records::registers::{Audience, Entry, Register, RegisterEntry};
use records::role::Role;
use store::Store;

const ADA: &str = "ada.pupil:ada's password";
const TEACHER: &str = "t.teacher:correct horse battery";

async fn version(p: &TestProxy, version: &str, text: &str, ago: SignedDuration) {
    p.store
        .add_register_entry(&RegisterEntry {
            id: 0,
            actor: "d.lead".into(),
            role: Role::Dsl,
            at: Timestamp::now(),
            entry: Entry::AupVersion {
                audience: Audience::Pupil,
                version: version.into(),
                text: text.into(),
                in_force_from: Timestamp::now() - ago,
            },
        })
        .await
        .expect("add version");
}

/// Fetches `url` as Ada until the proxy, which reads the register again
/// every few seconds, shows her the agreement (or ten seconds pass).
async fn until_gated(p: &TestProxy, url: &str) -> Fetched {
    let mut tries = 0;
    loop {
        let fetched = curl(p, url, &["--proxy-user", ADA]).await;
        if fetched.status == 403 || tries == 40 {
            return fetched;
        }
        tries += 1;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn agree(p: &TestProxy, version: &str) -> Fetched {
    curl(
        p,
        &format!("{}/aup", p.url()),
        &[
            "--proxy-user",
            ADA,
            "--data-urlencode",
            &format!("version={version}"),
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pupil_agrees_before_browsing_and_again_for_a_new_version() {
    let web = origin("web").start().await;
    let page = http_url("www.wikipedia.org", &web, "/wiki/Moon");
    let help = http_url("www.childline.org.uk", &web, "/");
    let p = proxy()
        .person("ada.pupil", "ks2", Some("ada's password"))
        .person("t.teacher", "staff", Some("correct horse battery"))
        .settings(|s| s.authentication = proxy::Authentication::Optional)
        .policy(|policy| {
            for profile in &mut policy.profiles {
                if profile.id == "ks2" {
                    profile.require_acceptable_use = true;
                }
            }
        })
        .start()
        .await;

    // No version in force yet: nobody is held back.
    assert_eq!(curl(&p, &page, &["--proxy-user", ADA]).await.status, 200);

    version(
        &p,
        "2026",
        "Be kind online.\n\nTell an adult if something worries you.",
        SignedDuration::from_hours(24),
    )
    .await;
    let gated = until_gated(&p, &page).await;
    assert_eq!(gated.status, 403, "{}", gated.body);
    assert!(
        gated.body.contains("Acceptable use agreement"),
        "{}",
        gated.body
    );
    assert!(gated.body.contains("Be kind online."), "{}", gated.body);
    assert!(gated.body.contains("I agree"), "{}", gated.body);
    assert!(gated.body.contains(SCHOOL), "{}", gated.body);
    let reached = |web: &Origin| web.seen().iter().filter(|s| s.uri.contains("Moon")).count();
    let before = reached(&web);
    assert_eq!(
        curl(&p, &page, &["--proxy-user", ADA]).await.status,
        403,
        "still held back"
    );
    assert_eq!(
        reached(&web),
        before,
        "a held-back request never reaches the site"
    );

    let secure = curl(&p, "https://www.wikipedia.org/", &["--proxy-user", ADA]).await;
    assert_eq!(secure.connect_status, 403, "{secure:?}");

    // Help sites stay reachable while she has not agreed.
    let childline = curl(&p, &help, &["--proxy-user", ADA]).await;
    assert_eq!(childline.status, 200, "{}", childline.body);

    // Staff are on a profile without the option.
    assert_eq!(
        curl(&p, &page, &["--proxy-user", TEACHER]).await.status,
        200
    );

    // The agreement page on the proxy itself stays reachable.
    let form = curl(&p, &format!("{}/aup", p.url()), &["--proxy-user", ADA]).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        form.body.contains("name=\"version\" value=\"2026\""),
        "{}",
        form.body
    );

    let agreed = agree(&p, "2026").await;
    assert_eq!(agreed.status, 200, "{}", agreed.body);
    assert!(agreed.body.contains("Thank you"), "{}", agreed.body);
    assert_eq!(curl(&p, &page, &["--proxy-user", ADA]).await.status, 200);
    let recorded = p
        .store
        .register_entries(Register::AcceptableUse)
        .await
        .expect("register");
    assert!(recorded.iter().any(|e| matches!(&e.entry,
        Entry::AupAcceptance { person, version, how, .. }
            if person == "ada.pupil" && version == "2026" && how.contains("127.0.0.1"))));

    // A new version asks again.
    version(
        &p,
        "2027",
        "Be kind online, and keep passwords secret.",
        SignedDuration::from_mins(1),
    )
    .await;
    let again = until_gated(&p, &page).await;
    assert_eq!(again.status, 403, "{}", again.body);
    assert!(
        again.body.contains("keep passwords secret"),
        "{}",
        again.body
    );
}
