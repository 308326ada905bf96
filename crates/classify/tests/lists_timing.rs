//! How long a full UT1 import takes. Not a timed test (timings belong in
//! benchmarks); run it by hand against a UT1 folder:
//!
//! ```sh
//! SCHOOLGATE_UT1_DIR=/path/to/ut1 cargo test -p classify --release \
//!     --test lists_timing -- --ignored --nocapture
//! ```

use std::path::PathBuf;
use std::time::Instant;

use classify::lists::import_ut1_dir;

#[test]
#[ignore = "needs SCHOOLGATE_UT1_DIR; run by hand in release mode"]
fn import_a_full_ut1_folder() {
    let Some(dir) = std::env::var_os("SCHOOLGATE_UT1_DIR").map(PathBuf::from) else {
        eprintln!("SCHOOLGATE_UT1_DIR is not set; nothing to time");
        return;
    };
    let started = Instant::now();
    let mut bytes = 0;
    let import = import_ut1_dir(&dir, &mut |b| bytes = b).expect("the UT1 folder imports");
    let took = started.elapsed();
    let domains: usize = import.lists.iter().map(|l| l.domains.len()).sum();
    let urls: usize = import.lists.iter().map(|l| l.urls.len()).sum();
    let junk: usize = import.lists.iter().map(|l| l.junk_count()).sum();
    eprintln!(
        "{} lists, {domains} domains, {urls} URLs, {junk} junk lines, {bytes} bytes in {took:.2?}",
        import.lists.len()
    );
    eprintln!("ignored: {:?}", import.ignored);
    eprintln!("aliases: {:?}", import.aliases);
    for list in &import.lists {
        for report in &list.reports {
            for junk in &report.junk {
                eprintln!(
                    "junk: {}:{}: {:?} ({})",
                    report.source, junk.line, junk.text, junk.reason
                );
            }
        }
    }
}
