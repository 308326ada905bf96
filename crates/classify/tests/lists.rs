//! The list importers, driven with real UT1 lines from the bundled starter.

use std::io::Write;
use std::path::{Path, PathBuf};

use classify::canon::{CanonUrl, canonical_host};
use classify::lists::{
    ImportedList, ListError, ListFormat, import_file, import_ut1_archive, import_ut1_dir,
    parse_list,
};
use classify::taxonomy::Category;

fn cat(id: &str) -> Category {
    Category::from_id(id).unwrap_or_else(|| panic!("no category {id}"))
}

fn parse(format: ListFormat, text: &str) -> ImportedList {
    parse_bytes(format, text.as_bytes())
}

fn parse_bytes(format: ListFormat, bytes: &[u8]) -> ImportedList {
    parse_list("gambling/domains", bytes, format, cat("gambling"))
        .unwrap_or_else(|e| panic!("refused: {e}"))
}

/// The key the canonicaliser gives a URL: URL tests compare with this rather
/// than a spelling, so they hold for the interim and the final canonicaliser.
fn key(url: &str) -> String {
    CanonUrl::parse(url)
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .as_key()
        .to_owned()
}

fn starter() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/starter/blacklists.tar.gz")
}

// Lines from data/starter (UT1: Université Toulouse Capitole, CC BY-SA 4.0).
const GAMBLING_DOMAINS: &str = "0-casino.info\n000-online-casino.biz\n000-online-casino.com\n00000onlinecasino.com\n000333onlinecasino.com\n";
const GAMBLING_URLS: &str = "astrolabio.net/casino/\ncri.univ-tlse1.fr/tools/test_filtrage/gambling/\nsd579.sivit.org/lesgrandscasinos/\n";

#[test]
fn a_domains_list_is_canonical_sorted_and_unique() {
    let text = format!("# UT1 gambling\n\n{GAMBLING_DOMAINS}000-Online-Casino.COM.\n1.0.255.159\n");
    let list = parse(ListFormat::Domains, &text);
    assert_eq!(
        list.domains,
        [
            "0-casino.info",
            "000-online-casino.biz",
            "000-online-casino.com",
            "00000onlinecasino.com",
            "000333onlinecasino.com",
            "1.0.255.159",
        ]
    );
    assert!(list.urls.is_empty());
    assert_eq!(list.name, "domains");
    assert_eq!(list.category, cat("gambling"));
    let report = &list.reports[0];
    assert_eq!(report.source, "gambling/domains");
    assert_eq!(report.lines, 9);
    assert_eq!(report.entries, 6);
    assert_eq!(report.duplicates, 1, "the upper-case repeat");
    assert_eq!(report.skipped, 2, "one comment, one blank line");
    assert_eq!(report.junk_count, 0);
}

#[test]
fn wildcard_and_leading_dot_mean_the_domain() {
    let list = parse(
        ListFormat::Domains,
        "*.01usevpn.website\n.03usevpn.website\n04usevpn.website # a VPN\n",
    );
    assert_eq!(
        list.domains,
        ["01usevpn.website", "03usevpn.website", "04usevpn.website"]
    );
}

#[test]
fn a_url_list_keeps_urls_and_turns_bare_hosts_into_domains() {
    let text = format!("{GAMBLING_URLS}http://astrolabio.net/casino/\n0-casino.info\n");
    let list = parse(ListFormat::Urls, &text);
    let mut want: Vec<String> = GAMBLING_URLS.lines().map(key).collect();
    want.sort();
    assert_eq!(list.urls, want);
    assert_eq!(list.domains, ["0-casino.info"]);
    let report = &list.reports[0];
    assert_eq!(
        (report.entries, report.duplicates),
        (4, 1),
        "the scheme adds nothing"
    );
    assert_eq!(report.junk_count, 0);
}

#[test]
fn a_hash_in_a_url_is_not_a_comment_unless_it_follows_a_space() {
    let list = parse(
        ListFormat::Urls,
        "# UT1 adult\ndanskporn.dk/#p2\nplanhomo.com/# # hash then a comment\n",
    );
    let mut want = vec![key("danskporn.dk/#p2"), key("planhomo.com/#")];
    want.sort();
    want.dedup();
    assert_eq!(list.urls, want);
    assert_eq!(list.reports[0].skipped, 1);
}

#[test]
fn a_hosts_file_lists_every_name_after_the_address() {
    let text = "\
# a blocklist in hosts format
127.0.0.1\tlocalhost
::1 localhost ip6-localhost ip6-loopback
255.255.255.255 broadcasthost
0.0.0.0 0.0.0.0
0.0.0.0 01usevpn.website 03usevpn.website # two on one line
127.0.0.1 04usevpn.website
0.0.0.0 01usevpn.website
";
    let list = parse(ListFormat::Hosts, text);
    assert_eq!(
        list.domains,
        ["01usevpn.website", "03usevpn.website", "04usevpn.website"]
    );
    let report = &list.reports[0];
    assert_eq!(report.lines, 8);
    assert_eq!(
        report.skipped,
        1 + 1 + 3 + 1 + 1,
        "comment, then the local names"
    );
    assert_eq!(report.duplicates, 1);
    assert_eq!(report.junk_count, 0);
}

#[test]
fn hosts_lines_without_an_address_are_junk() {
    let text = "0.0.0.0 a.example\n0.0.0.0 b.example\n0.0.0.0 c.example\nd.example\n0.0.0.0\n";
    let list = parse(ListFormat::Hosts, text);
    assert_eq!(list.domains, ["a.example", "b.example", "c.example"]);
    let junk = &list.reports[0].junk;
    assert_eq!(junk.len(), 2);
    assert_eq!((junk[0].line, junk[0].text.as_str()), (4, "d.example"));
    assert!(
        junk[0].reason.contains("starts with an address"),
        "{}",
        junk[0].reason
    );
    assert_eq!(junk[1].line, 5);
    assert!(junk[1].reason.contains("no name after the address"));
}

#[test]
fn junk_is_counted_with_line_numbers_and_reasons() {
    let text = format!("# gambling\n{GAMBLING_DOMAINS}http//bad\n\ntwo words.example\n");
    let list = parse(ListFormat::Domains, &text);
    assert_eq!(list.domains.len(), 5);
    let report = &list.reports[0];
    assert_eq!(report.junk_count, 2);
    assert_eq!(report.junk[0].line, 7);
    assert_eq!(report.junk[0].text, "http//bad");
    let expected = canonical_host("http//bad")
        .expect_err("not a host")
        .to_string();
    assert_eq!(
        report.junk[0].reason, expected,
        "the canonicaliser's message"
    );
    assert_eq!(report.junk[1].line, 9);
    assert!(report.junk[1].reason.contains("one domain on each line"));
}

#[test]
fn only_the_first_twenty_junk_lines_are_kept() {
    let mut text = String::new();
    for i in 0..100 {
        text.push_str(&format!("site{i}.example\nbad{i}/\n"));
    }
    let list = parse(ListFormat::Domains, &text);
    let report = &list.reports[0];
    assert_eq!(report.junk_count, 100);
    assert_eq!(report.junk.len(), 20);
    assert_eq!(report.junk[19].line, 40);
    assert_eq!(list.domains.len(), 100);
}

#[test]
fn bytes_that_are_not_utf8_make_the_line_junk_not_the_file() {
    let mut bytes = GAMBLING_DOMAINS.as_bytes().to_vec();
    bytes.extend_from_slice(b"caf\xe9.example\n# caf\xe9 in a Latin-1 comment\n");
    let list = parse_bytes(ListFormat::Domains, &bytes);
    assert_eq!(list.domains.len(), 5);
    let report = &list.reports[0];
    assert_eq!(report.junk_count, 1);
    assert_eq!(report.junk[0].line, 6);
    assert_eq!(report.junk[0].text, "caf\u{fffd}.example");
    assert!(report.junk[0].reason.contains("not UTF-8"));
    assert_eq!(report.skipped, 1, "the comment is still a comment");
}

#[test]
fn crlf_line_endings_are_read_like_lf() {
    let crlf = GAMBLING_DOMAINS.replace('\n', "\r\n") + "# comment\r\n\r\n";
    let lf = GAMBLING_DOMAINS.to_owned() + "# comment\n\n";
    let (a, b) = (
        parse(ListFormat::Domains, &crlf),
        parse(ListFormat::Domains, &lf),
    );
    assert_eq!(a.domains, b.domains);
    assert_eq!(a.reports[0].lines, b.reports[0].lines);
    assert_eq!(a.reports[0].junk_count, 0);

    let urls = parse(ListFormat::Urls, &GAMBLING_URLS.replace('\n', "\r\n"));
    assert!(urls.urls.iter().all(|u| !u.contains('\r')));
    assert_eq!(urls.urls.len(), 3);

    let hosts = parse(
        ListFormat::Hosts,
        "0.0.0.0 a.example\r\n0.0.0.0 b.example\r\n",
    );
    assert_eq!(hosts.domains, ["a.example", "b.example"]);
}

#[test]
fn duplicates_are_dropped_and_counted_after_canonicalising() {
    let list = parse(
        ListFormat::Domains,
        "0-casino.info\n0-CASINO.INFO\n0-casino.info.\n*.0-casino.info\n.0-casino.info\n000-online-casino.biz\n",
    );
    assert_eq!(list.domains, ["0-casino.info", "000-online-casino.biz"]);
    assert_eq!(list.reports[0].entries, 2);
    assert_eq!(list.reports[0].duplicates, 4);
}

#[test]
fn a_mostly_junk_file_is_refused_with_its_first_bad_line() {
    let mut text = String::from("# not really a domains list\n0-casino.info\nhttp//bad\n");
    for i in 0..12 {
        text.push_str(&format!("<a href=\"/page{i}\">page {i}</a>\n"));
    }
    let err = parse_list(
        "gambling/domains",
        text.as_bytes(),
        ListFormat::Domains,
        cat("gambling"),
    )
    .expect_err("mostly junk");
    assert!(
        matches!(
            err,
            ListError::MostlyJunk {
                junk: 13,
                checked: 14,
                line: 3,
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.starts_with("line 3 of gambling/domains is not a domain name: 'http//bad'"),
        "{message}"
    );
    assert!(message.contains("13 of its 14 entries"), "{message}");
    assert!(message.contains("format is 'domains'"), "{message}");
}

#[test]
fn a_short_file_is_refused_when_more_than_half_is_junk() {
    let all_junk = parse_list(
        "x.txt",
        b"http//bad\nnot a domain\n",
        ListFormat::Domains,
        cat("games"),
    );
    assert!(matches!(
        all_junk,
        Err(ListError::MostlyJunk {
            junk: 2,
            checked: 2,
            ..
        })
    ));

    // Two of three is more than half: refused however short the file is,
    // as a saved HTML error page with one plausible line would be.
    let some_junk = parse_list(
        "x.txt",
        b"a.example\nhttp//bad\nb/ad\n",
        ListFormat::Domains,
        cat("games"),
    );
    assert!(matches!(
        some_junk,
        Err(ListError::MostlyJunk {
            junk: 2,
            checked: 3,
            ..
        })
    ));

    // Exactly half is not more than half.
    let mut text = String::new();
    for i in 0..10 {
        text.push_str(&format!("good{i}.example\nbad{i}/\n"));
    }
    assert!(parse_list("x.txt", text.as_bytes(), ListFormat::Domains, cat("games")).is_ok());
    text.push_str("bad/\n");
    assert!(parse_list("x.txt", text.as_bytes(), ListFormat::Domains, cat("games")).is_err());
}

#[test]
fn an_empty_or_comment_only_file_is_an_empty_list() {
    for text in ["", "\n\n", "# nothing yet\n"] {
        let list = parse(ListFormat::Domains, text);
        assert!(list.domains.is_empty() && list.urls.is_empty());
        assert_eq!(list.reports[0].junk_count, 0);
    }
}

#[test]
fn formats_parse_from_their_names() {
    assert_eq!("ut1".parse::<ListFormat>().ok(), Some(ListFormat::Ut1));
    assert_eq!(
        "domains".parse::<ListFormat>().ok(),
        Some(ListFormat::Domains)
    );
    assert_eq!("Hosts".parse::<ListFormat>().ok(), Some(ListFormat::Hosts));
    assert_eq!("urls".parse::<ListFormat>().ok(), Some(ListFormat::Urls));
    let err = "csv".parse::<ListFormat>().expect_err("unknown");
    assert_eq!(
        err.to_string(),
        "'csv' is not a list format; use one of ut1, domains, hosts or urls"
    );
    assert_eq!(ListFormat::Hosts.to_string(), "hosts");
}

#[test]
fn import_file_reads_a_file_and_reports_progress() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("gambling.txt");
    std::fs::write(&path, GAMBLING_DOMAINS).expect("write");
    let mut seen = Vec::new();
    let list = import_file(&path, ListFormat::Domains, cat("gambling"), &mut |b| {
        seen.push(b)
    })
    .expect("imports");
    assert_eq!(list.name, "gambling");
    assert_eq!(list.domains.len(), 5);
    assert_eq!(list.reports[0].source, path.display().to_string());
    assert_eq!(seen.last(), Some(&(GAMBLING_DOMAINS.len() as u64)));
}

#[test]
fn import_file_errors_name_the_file_and_say_what_to_do() {
    let missing = Path::new("/nonexistent/schoolgate/gambling.txt");
    let err = import_file(missing, ListFormat::Domains, cat("gambling"), &mut |_| {})
        .expect_err("missing");
    let message = err.to_string();
    assert!(
        message.starts_with("could not read /nonexistent/schoolgate/gambling.txt: "),
        "{message}"
    );
    assert!(
        message.ends_with("check that it exists and that schoolgate may read it"),
        "{message}"
    );

    let err = import_file(missing, ListFormat::Ut1, cat("gambling"), &mut |_| {})
        .expect_err("ut1 is a folder");
    assert!(
        err.to_string()
            .contains("import the UT1 blacklists folder or its .tar.gz archive")
    );
}

/// A small UT1 tree: `gambling/` and `publicite/` with lists, `reaffected/`
/// (ignored by the mapping), `mystery/` (not UT1), global_usage and a README.
fn ut1_tree(root: &Path) {
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write("gambling/domains", GAMBLING_DOMAINS);
    write("gambling/urls", GAMBLING_URLS);
    write("gambling/usage", "black\n");
    write("publicite/domains", "0-1.ru\n0-ads.example\n");
    write("publicite/expressions", "(^|[-.])ads?[-.]\n");
    write("reaffected/domains", "ecoles-primaires.com\n");
    write("mystery/domains", "a.example\n");
    write("global_usage", "NAME:\tgambling\nDEFAULT_TYPE: black\n");
    write("README", "");
}

#[test]
fn a_ut1_folder_with_an_alias_file_imports_each_folder_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    ut1_tree(dir.path());
    // A git checkout without symlink support: `ads` holds the target's name.
    std::fs::write(dir.path().join("ads"), "publicite").expect("alias file");
    std::fs::write(dir.path().join("porn"), "adult\n").expect("dangling alias file");

    let mut last = 0;
    let import = import_ut1_dir(dir.path(), &mut |b| last = b).expect("imports");
    let names: Vec<(&str, &str)> = import
        .lists
        .iter()
        .map(|l| (l.name.as_str(), l.category.id()))
        .collect();
    assert_eq!(
        names,
        [
            ("ut1/gambling", "gambling"),
            ("ut1/publicite", "advertising")
        ]
    );
    assert_eq!(import.aliases, [("ads".to_owned(), "publicite".to_owned())]);
    let ignored: Vec<&str> = import.ignored.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(ignored, ["mystery", "reaffected"]);
    assert_eq!(import.ignored[0].1, "not a UT1 category schoolgate knows");

    let gambling = &import.lists[0];
    assert_eq!(gambling.domains.len(), 5);
    assert_eq!(gambling.urls.len(), 3);
    let sources: Vec<&str> = gambling.reports.iter().map(|r| r.source.as_str()).collect();
    assert_eq!(
        sources,
        [
            dir.path().join("gambling/domains").display().to_string(),
            dir.path().join("gambling/urls").display().to_string()
        ]
    );
    let total = GAMBLING_DOMAINS.len() + GAMBLING_URLS.len() + "0-1.ru\n0-ads.example\n".len();
    assert_eq!(last, total as u64, "progress counts list bytes read");
}

#[cfg(unix)]
#[test]
fn a_ut1_folder_with_symlink_aliases_imports_each_folder_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("blacklists");
    ut1_tree(&root);
    std::os::unix::fs::symlink("publicite", root.join("ads")).expect("symlink");
    std::os::unix::fs::symlink("ads", root.join("publicity")).expect("alias of an alias");
    std::os::unix::fs::symlink("adult", root.join("porn")).expect("dangling symlink");

    // The parent of `blacklists/` works as well as the folder itself.
    let import = import_ut1_dir(dir.path(), &mut |_| {}).expect("imports");
    assert_eq!(import.lists.len(), 2);
    assert_eq!(
        import.aliases,
        [
            ("ads".to_owned(), "publicite".to_owned()),
            ("publicity".to_owned(), "publicite".to_owned())
        ]
    );
    let porn = import
        .ignored
        .iter()
        .find(|(n, _)| n == "porn")
        .expect("porn reported");
    assert_eq!(porn.1, "an alias of adult, which is not there");
}

#[test]
fn a_folder_that_is_not_ut1_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("holiday-photos")).expect("mkdir");
    let err = import_ut1_dir(dir.path(), &mut |_| {}).expect_err("not UT1");
    assert!(matches!(err, ListError::NoUt1Categories { .. }));
    assert!(err.to_string().contains("holds no UT1 categories"));
}

#[test]
fn a_mostly_junk_file_in_a_ut1_folder_stops_the_import() {
    let dir = tempfile::tempdir().expect("temp dir");
    ut1_tree(dir.path());
    std::fs::write(dir.path().join("gambling/domains"), "<html>\n<body>\n").expect("write");
    let err = import_ut1_dir(dir.path(), &mut |_| {}).expect_err("junk");
    let file = dir.path().join("gambling/domains").display().to_string();
    assert!(
        err.to_string()
            .starts_with(&format!("line 1 of {file} is not a domain name: '<html>'")),
        "{err}"
    );
}

/// Builds a UT1-style .tar.gz in memory, as UT1 publishes it.
fn archive(files: &[(&str, &str)], links: &[(&str, &str)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (path, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, path, text.as_bytes())
            .expect("append");
    }
    for (path, target) in links {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        tar.append_link(&mut header, path, target).expect("link");
    }
    let gz = tar.into_inner().expect("tar");
    gz.finish().expect("gzip")
}

#[test]
fn an_archive_imports_in_memory_with_symlink_aliases() {
    let bytes = archive(
        &[
            ("blacklists/gambling/domains", GAMBLING_DOMAINS),
            ("blacklists/gambling/urls", GAMBLING_URLS),
            ("blacklists/gambling/usage", "black\n"),
            ("./blacklists/publicite/domains", "0-1.ru\n"),
            ("blacklists/special/domains", "virtualskipper.com\n"),
            ("blacklists/global_usage", "NAME:\tgambling\n"),
            ("blacklists/mail", "forums"),
        ],
        &[
            ("blacklists/ads", "publicite"),
            ("blacklists/porn", "adult"),
        ],
    );
    let mut last = 0;
    let import = import_ut1_archive(bytes.as_slice(), "blacklists.tar.gz", &mut |b| last = b)
        .expect("imports");
    assert_eq!(last, bytes.len() as u64);
    let names: Vec<&str> = import.lists.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["ut1/gambling", "ut1/publicite"]);
    assert_eq!(
        import.lists[0].reports[1].source,
        "blacklists.tar.gz:blacklists/gambling/urls"
    );
    assert_eq!(import.aliases, [("ads".to_owned(), "publicite".to_owned())]);
    let ignored: Vec<&str> = import.ignored.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        ignored,
        ["porn", "special"],
        "a dangling link and an ignored category"
    );
}

#[test]
fn a_damaged_archive_is_refused_with_advice() {
    let bytes = archive(&[("blacklists/gambling/domains", GAMBLING_DOMAINS)], &[]);
    let err = import_ut1_archive(&bytes[..bytes.len() / 2], "blacklists.tar.gz", &mut |_| {})
        .expect_err("truncated");
    assert!(matches!(err, ListError::Archive { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with("could not read the archive blacklists.tar.gz: "),
        "{message}"
    );
    assert!(message.contains("download it again"), "{message}");

    let err = import_ut1_archive(&b"not gzip"[..], "x.tar.gz", &mut |_| {}).expect_err("not gzip");
    assert!(matches!(err, ListError::Archive { .. }), "{err:?}");

    let empty = archive(&[("photos/holiday.jpg", "jpeg")], &[]);
    let err =
        import_ut1_archive(empty.as_slice(), "photos.tar.gz", &mut |_| {}).expect_err("not UT1");
    assert!(matches!(err, ListError::NoUt1Categories { .. }), "{err:?}");
}

#[test]
fn the_starter_archive_imports_with_the_expected_categories() {
    let file = std::fs::File::open(starter()).expect("data/starter/blacklists.tar.gz exists");
    let import = import_ut1_archive(file, "blacklists.tar.gz", &mut |_| {}).expect("imports");

    let find = |folder: &str| {
        import
            .lists
            .iter()
            .find(|l| l.name == format!("ut1/{folder}"))
            .unwrap_or_else(|| panic!("ut1/{folder} is in the starter"))
    };
    for (folder, category) in [
        ("adult", "pornography"),
        ("agressif", "hate-speech"),
        ("drogue", "drugs"),
        ("gambling", "gambling"),
        ("malware", "malware-hacking"),
        ("phishing", "malware-hacking"),
        ("redirector", "proxy"),
        ("vpn", "vpn"),
        ("doh", "dns-over-https"),
        ("social_networks", "social-networking"),
        ("ai", "generative-ai"),
        ("child", "education"),
        ("educational_games", "education"),
        ("sexual_education", "sex-education"),
    ] {
        let list = find(folder);
        assert_eq!(list.category, cat(category), "{folder}");
        assert!(
            !list.domains.is_empty() || !list.urls.is_empty(),
            "{folder} is empty"
        );
        assert_eq!(list.junk_count(), 0, "{folder} has junk");
    }
    assert!(
        find("gambling")
            .domains
            .binary_search(&"0-casino.info".to_owned())
            .is_ok()
    );

    let names: Vec<&str> = import.lists.iter().map(|l| l.name.as_str()).collect();
    for left_out in [
        "ut1/strict_redirector",
        "ut1/strong_redirector",
        "ut1/liste_bu",
        "ut1/update",
    ] {
        assert!(
            !names.contains(&left_out),
            "{left_out} is not in the starter"
        );
    }
    let ignored: Vec<&str> = import.ignored.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(ignored, ["reaffected", "special"]);
    assert_eq!(import.aliases.len(), 7);
    assert!(
        import
            .aliases
            .contains(&("porn".to_owned(), "adult".to_owned()))
    );

    let domains: usize = import.lists.iter().map(|l| l.domains.len()).sum();
    assert!(domains > 300_000, "only {domains} domains");
}

#[test]
fn a_written_file_with_no_final_newline_keeps_its_last_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("vpn");
    let mut file = std::fs::File::create(&path).expect("create");
    file.write_all(b"01usevpn.website\n03usevpn.website")
        .expect("write");
    drop(file);
    let list = import_file(&path, ListFormat::Domains, cat("vpn"), &mut |_| {}).expect("imports");
    assert_eq!(list.domains, ["01usevpn.website", "03usevpn.website"]);
    assert_eq!(list.reports[0].lines, 2);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    // Lines built from the characters that matter to the parser: separators,
    // comment marks, dots, slashes, wildcards and a few odd bytes.
    fn list_bytes() -> impl Strategy<Value = Vec<u8>> {
        let line = proptest::collection::vec(
            prop_oneof![
                Just(b'a'),
                Just(b'Z'),
                Just(b'0'),
                Just(b'.'),
                Just(b'-'),
                Just(b'*'),
                Just(b'/'),
                Just(b'#'),
                Just(b' '),
                Just(b'\t'),
                Just(b'\r'),
                Just(b':'),
                Just(b'?'),
                Just(0xe9u8),
                any::<u8>(),
            ],
            0..30,
        );
        proptest::collection::vec(line, 0..20).prop_map(|lines| lines.join(&b'\n'))
    }

    proptest! {
        #[test]
        fn every_kept_entry_is_canonical(bytes in list_bytes()) {
            for format in [ListFormat::Domains, ListFormat::Hosts, ListFormat::Urls] {
                let Ok(list) = parse_list("prop", &bytes, format, cat("games")) else {
                    continue;
                };
                for domain in &list.domains {
                    let again = canonical_host(domain).ok();
                    prop_assert_eq!(again.as_ref(), Some(domain));
                }
                for url in &list.urls {
                    let again = CanonUrl::parse(url).ok().map(|u| u.as_key().to_owned());
                    prop_assert_eq!(again.as_ref(), Some(url));
                }
                let report = &list.reports[0];
                prop_assert_eq!(report.entries, list.domains.len() + list.urls.len());
                prop_assert!(report.junk.len() <= 20);
            }
        }
    }
}
