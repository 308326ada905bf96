//! The threads that serve client connections: as many as
//! `serving_threads` while the proxy runs, and none once it has stopped.
//! In a test binary of its own, so no other proxy's threads are counted.

mod common;

use common::*;

/// The names of this process's threads that serve proxy connections.
fn serving_threads() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| name.starts_with("proxy-"))
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_serving_thread_serves_and_all_end_on_shutdown() {
    let web = origin("web").start().await;
    let mut p = proxy()
        .profile("staff")
        .settings(|s| s.serving_threads = 3)
        .start()
        .await;
    // The proxy starts its threads as it begins to serve; a request is
    // answered once they are up.
    let first = curl(&p, &http_url("learning.example.org", &web, "/first"), &[]).await;
    assert_eq!(first.status, 200, "{:?}", first.headers);
    assert_eq!(serving_threads(), ["proxy-0", "proxy-1", "proxy-2"]);
    for n in 0..6 {
        let got = curl(
            &p,
            &http_url("learning.example.org", &web, &format!("/{n}")),
            &[],
        )
        .await;
        assert_eq!(got.status, 200, "request {n}: {:?}", got.headers);
    }
    let events = p.events().await;
    assert_eq!(
        events.iter().filter(|e| e.verdict == "allow").count(),
        7,
        "{events:?}"
    );
    assert_eq!(
        serving_threads(),
        Vec::<String>::new(),
        "the threads have ended"
    );
}
