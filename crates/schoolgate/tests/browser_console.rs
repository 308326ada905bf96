//! The console's everyday work in a real browser (headless Chromium through
//! chromedriver, `schoolgate serve` on loopback, as in `browser.rs`):
//! importing pupils from a CSV file with a bad row, changing a profile's
//! blocked list with a reason that then shows in the policy history, and a
//! pupil's request to check a block, approved in the console, after which
//! the site opens through the proxy.
//!
//! The sites a pupil visits are served by a small origin on loopback; the
//! proxy is told where their names are with `[proxy.resolve]`, and the
//! pupil's browser sends only those names through the proxy (a PAC
//! script), since Chromium resolves nothing but localhost itself. A device
//! schoolgate does not know gets the strictest profile (a walled garden),
//! so the tests that need Key Stage 2 filtering first add a network for
//! loopback with that profile.

#[path = "common/browser.rs"]
mod browser;
mod common;
#[path = "common/school.rs"]
mod school;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use browser::{Browser, Element};
use school::{ADMIN, School};

/// The label on every reason field of a profile's page (one per form).
const POLICY_REASON: &str = "Reason for this change (your risk assessment, §7.3.1)";

/// A web server on loopback answering every request with a small HTML page
/// titled `title`; its port.
fn origin(title: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the origin");
    let port = listener.local_addr().expect("the origin's address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let Ok(copy) = stream.try_clone() else { return };
                let mut reader = BufReader::new(copy);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    if line == "\r\n" {
                        break;
                    }
                    line.clear();
                }
                let body = format!(
                    "<!doctype html><html lang=\"en\"><head><title>{title}</title></head>\
                     <body><h1>{title}</h1><p>Served by the test's origin.</p></body></html>"
                );
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    port
}

/// A school with its administrator signed in (the first browser), and a
/// pupil's browser (the second) on a Key Stage 2 classroom network whose
/// requests for `host` go through the proxy to an origin on loopback
/// serving pages titled `title`; and the origin's address as the pupil
/// opens it. Returns once the pupil gets something other than the walled
/// garden's block there (the filter reloads networks every two seconds).
fn school_with_a_site(host: &str, title: &'static str) -> (School, Browser, Browser, String) {
    let (school, browser) =
        School::signed_in_with(&format!("[proxy.resolve]\n\"{host}\" = \"127.0.0.1\"\n"));
    let site = format!("http://{host}:{}/", origin(title));
    let pupil = school.browser_through_the_proxy(&[host]);
    school.add_classroom_network("ks2");
    pupil.wait_until("the Key Stage 2 network to take effect", |b| {
        b.goto(&site);
        !b.text().contains("allows only approved sites")
    });
    (school, browser, pupil, site)
}

/// The control labelled `label` inside the element `scope` (a CSS
/// selector): for pages with several forms whose fields read alike.
#[track_caller]
fn field_within<'b>(browser: &'b Browser, scope: &str, label: &str) -> Element<'b> {
    let id = browser
        .find(scope)
        .find_xpath(&format!(".//label[normalize-space()=\"{label}\"]"))
        .attribute("for")
        .unwrap_or_else(|| panic!("the label '{label}' in {scope} names no field"));
    browser.find(&format!("[id='{id}']"))
}

/// The cells of each row of the page's tables, as shown.
fn rows(browser: &Browser) -> Vec<Vec<String>> {
    let found = browser.script(
        "return Array.from(document.querySelectorAll('table tbody tr'))\
         .map(r => Array.from(r.cells).map(c => c.innerText.trim()));",
    );
    serde_json::from_value(found).expect("rows of cells")
}

/// The row with a cell reading `text`, failing if there is none.
#[track_caller]
fn row_with(rows: &[Vec<String>], text: &str) -> Vec<String> {
    rows.iter()
        .find(|row| row.iter().any(|cell| cell == text))
        .unwrap_or_else(|| panic!("no row has a cell reading {text}: {rows:#?}"))
        .clone()
}

/// What a description list inside `list` gives for the term `term`.
#[track_caller]
fn described(list: &Element<'_>, term: &str) -> String {
    list.find_xpath(&format!(
        ".//dt[normalize-space()=\"{term}\"]/following-sibling::dd[1]"
    ))
    .text()
}

/// The word after `label` in `text` (a trailing full stop or comma left
/// off).
#[track_caller]
fn after(text: &str, label: &str) -> String {
    text.split_once(label)
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no '{label}' in {text}"))
        .trim_end_matches(['.', ','])
        .to_owned()
}

/// Three pupils with accented names, and one whose year group is no year
/// group (row 5, as a spreadsheet numbers it).
const PUPILS: &str = "UPN,Legal Surname,Preferred Forename,Year,Reg Group,Email\n\
                      A100,Ní Bhriain,Zoë,Year 2,2B,zoe.nibhriain@school.example\n\
                      A101,Ó Súilleabháin,Seán,Year 5,5K,sean.osuilleabhain@school.example\n\
                      A102,Kowalczyk,Łucja,Year 5,5K,lucja.kowalczyk@school.example\n\
                      A103,Brontë,Émile,Yr 15,6X,emile.bronte@school.example\n";

#[test]
fn a_csv_import_shows_its_bad_row_stores_nothing_until_confirmed_then_the_good_rows() {
    let (school, browser) = School::signed_in();
    let file = school.data.with_file_name("pupils.csv");
    std::fs::write(&file, PUPILS).expect("write the CSV file");

    browser.follow("People");
    assert_eq!(browser.path(), "/people");
    assert!(
        browser.text().contains("Nobody matches."),
        "{}",
        browser.text()
    );
    browser.follow("Import pupils or staff from your MIS");
    assert_eq!(browser.path(), "/people/import");
    browser.upload("The CSV file (at most 5 MB)", &file);
    browser.check("Pupils");
    browser.submit("Read the file");

    // The columns, guessed from the headings, each with a sample.
    let text = browser.text();
    assert!(
        text.contains("pupils.csv: 4 rows after the heading row"),
        "{text}"
    );
    let chosen = |label: &str| browser.field(label).find("option:checked").text();
    assert_eq!(
        chosen("Given name (forename)"),
        "Preferred Forename, such as \"Zoë\""
    );
    assert_eq!(
        chosen("Family name (surname)"),
        "Legal Surname, such as \"Ní Bhriain\""
    );
    assert_eq!(chosen("Year group"), "Year, such as \"Year 2\"");
    assert_eq!(
        chosen("Class or registration group"),
        "Reg Group, such as \"2B\""
    );
    assert_eq!(
        chosen("Email"),
        "Email, such as \"zoe.nibhriain@school.example\""
    );
    assert_eq!(chosen("Username"), "Not in this file");
    browser.submit("Preview the import");

    // The preview: the bad row by row and column, the good rows with their
    // profiles, and nothing stored yet.
    let text = browser.text();
    assert!(text.contains("Nothing has been changed yet."), "{text}");
    assert!(text.contains("3 to add"), "{text}");
    let problems = browser.find(".error-summary").text();
    assert!(
        problems.contains(
            "row 5, Year: 'Yr 15' is not a year group; use Nursery, Reception or Year 1 to Year 13"
        ),
        "{problems}"
    );
    let preview = rows(&browser);
    assert_eq!(preview.len(), 3, "{preview:#?}");
    // Row, name, username, year group, class, profile.
    assert_eq!(
        row_with(&preview, "Zoë Ní Bhriain"),
        [
            "2",
            "Zoë Ní Bhriain",
            "zoe.nibhriain",
            "Year 2",
            "2B",
            "eyfs-ks1"
        ]
    );
    assert_eq!(
        row_with(&preview, "Seán Ó Súilleabháin"),
        [
            "3",
            "Seán Ó Súilleabháin",
            "sean.osuilleabhain",
            "Year 5",
            "5K",
            "ks2"
        ]
    );
    assert!(!text.contains("Émile"), "the bad row is left out: {text}");
    let stored = school.run(&["people", "list"]);
    assert!(
        !stored.contains("nibhriain"),
        "stored before confirming: {stored}"
    );

    browser.submit("Import 3 people");
    let done = browser.find("[role=status]").text();
    assert!(done.contains("3 added, 0 changed, 0 unchanged"), "{done}");
    assert!(done.contains("1 problem in rows left out"), "{done}");

    browser.follow("See everyone");
    assert_eq!(browser.path(), "/people");
    let people = rows(&browser);
    assert_eq!(people.len(), 3, "{people:#?}");
    // Name, username, year group, class, pupil or staff, profile, status.
    for (name, username, year, class, profile) in [
        (
            "Zoë Ní Bhriain",
            "zoe.nibhriain",
            "Year 2",
            "2B",
            "eyfs-ks1",
        ),
        (
            "Seán Ó Súilleabháin",
            "sean.osuilleabhain",
            "Year 5",
            "5K",
            "ks2",
        ),
        ("Łucja Kowalczyk", "lucja.kowalczyk", "Year 5", "5K", "ks2"),
    ] {
        let row = row_with(&people, name);
        assert_eq!(row[..6], [name, username, year, class, "Pupil", profile]);
    }
    assert!(!browser.text().contains("Brontë"));
    let stored = school.run(&["people", "list"]);
    assert!(stored.contains("zoe.nibhriain"), "{stored}");
    assert!(!stored.contains("bronte"), "{stored}");
    browser.assert_no_csp_violations();
}

#[test]
fn a_blocked_site_needs_a_reason_which_the_history_shows_and_the_proxy_then_blocks_it() {
    let host = "www.timestables.example";
    let (_school, browser, pupil, site) = school_with_a_site(host, "Times tables practice");
    assert!(
        pupil.text().contains("Times tables practice"),
        "{}",
        pupil.text()
    );

    browser.follow("Filtering policy");
    browser.follow("Key Stage 2");
    assert_eq!(browser.path(), "/policy/profiles/ks2");
    let revision: u64 = after(&browser.text(), "policy revision ")
        .parse()
        .expect("the revision shown");
    let overrides = "form[aria-labelledby='overrides-heading']";

    // With no reason the browser itself will not send the form.
    browser.check("Always blocked");
    browser.fill("Site or page", host);
    browser.button("Add the site").click();
    let empty = field_within(&browser, overrides, POLICY_REASON);
    assert!(
        browser.focused().is(&empty),
        "the empty reason field should have the focus"
    );
    assert_eq!(browser.path(), "/policy/profiles/ks2");
    // A reason of nothing but spaces is no reason either: the console
    // refuses it, saying so, and keeps what was typed.
    empty.type_text("   ");
    browser.submit("Add the site");
    let problem = browser.find(".error-summary").text();
    assert!(problem.contains("nothing was saved"), "{problem}");
    assert!(
        problem.contains("Give a reason for this change"),
        "{problem}"
    );
    assert!(browser.field("Always blocked").is_selected());
    assert_eq!(browser.field("Site or page").value(), host);
    let reason = field_within(&browser, overrides, POLICY_REASON);
    assert_eq!(reason.attribute("aria-invalid").as_deref(), Some("true"));
    assert_eq!(
        after(&browser.text(), "policy revision "),
        revision.to_string(),
        "nothing saved"
    );

    let why = "Pupils found a chat room on this site during lessons.";
    reason.clear();
    reason.type_text(why);
    browser.submit("Add the site");
    let saved = revision + 1;
    let notice = browser.find("[role=status]").text();
    assert!(
        notice.contains(&format!("Saved as revision {saved}")),
        "{notice}"
    );
    assert!(browser.text().contains(&format!("Always blocked\n{host}")));

    browser.follow("Policy history");
    let newest = browser.find("section.revision");
    assert_eq!(newest.find("h2").text(), format!("Revision {saved}"));
    assert_eq!(described(&newest, "Who"), ADMIN);
    assert_eq!(described(&newest, "Why"), why);
    assert_eq!(
        described(&newest, "What changed"),
        format!("profile ks2: deny added {host}")
    );

    pupil.wait_until("the proxy to block the site", |b| {
        b.goto(&site);
        b.text().contains("This page is blocked")
    });
    assert!(!pupil.text().contains("Times tables practice"));
    browser.assert_no_csp_violations();
    pupil.assert_no_csp_violations();
}

#[test]
fn a_review_request_approved_in_the_console_opens_the_site_and_tells_the_pupil() {
    let host = "www.bet365.com";
    let (_school, browser, pupil, site) =
        school_with_a_site(host, "Odds for the school sports day");

    // Blocked for what it is, with a reference and a way to ask.
    let blocked = pupil.text();
    assert!(blocked.contains("This page is blocked"), "{blocked}");
    assert!(
        blocked.contains("in the Gambling group of websites"),
        "{blocked}"
    );
    let reference = after(&blocked, "Reference: ");
    assert!(reference.starts_with("SG-"), "{reference}");
    pupil.follow("Ask for this to be checked");
    assert_eq!(pupil.title(), "Ask for a page to be checked");
    assert_eq!(
        pupil.field("Reference (from the blocked page)").value(),
        reference
    );
    let asked = "We are working out the odds for the maths project.";
    pupil.fill("Why do you need it? (you can leave this empty)", asked);
    pupil.submit("Send");
    let recorded = pupil.text();
    assert!(
        recorded.contains("your request has been recorded"),
        "{recorded}"
    );
    assert!(recorded.contains(&reference), "{recorded}");
    let number = after(&recorded, "The request number is ");
    let status_link = pupil
        .link("See what was decided")
        .attribute("href")
        .expect("a link to the outcome");
    assert_eq!(status_link, format!("/review/status?reference={reference}"));
    pupil.follow("See what was decided");
    assert!(
        pupil
            .text()
            .contains("The request has not been checked yet"),
        "{}",
        pupil.text()
    );
    let status_page = pupil.url();

    // The administrator finds it, and approves it with a reason.
    browser.follow("Review requests");
    let listed = row_with(&rows(&browser), &format!("#{number}"));
    assert_eq!(listed[2], site, "{listed:?}");
    browser.follow(&format!("#{number}"));
    let detail = browser.text();
    assert!(detail.contains(asked), "{detail}");
    assert!(detail.contains(&reference), "{detail}");
    assert_eq!(browser.field("Site to change (if approved)").value(), host);
    assert_eq!(
        browser
            .field("Profile to change (if approved)")
            .find("option:checked")
            .text(),
        "Key Stage 2 (ks2)"
    );
    browser.check("Approve");
    let why = "Maths project on probability, with the class teacher watching.";
    browser.fill("Reason", why);
    browser.submit("Record the decision");
    let decided = browser.find("main dl");
    assert_eq!(described(&decided, "Status"), "Approved");
    assert_eq!(described(&decided, "Reason"), why);

    // The decision links to the policy change it made, which the history
    // lists with the request's number.
    let revision = described(&decided, "Policy change");
    browser.follow(&revision);
    let change = browser.find("main dl");
    assert_eq!(described(&change, "Who"), ADMIN);
    assert_eq!(
        described(&change, "Why"),
        format!("Review #{number}: {why}")
    );
    browser.follow("Policy history");
    assert_eq!(browser.find("section.revision h2").text(), revision);
    let newest = browser.find("section.revision");
    assert_eq!(described(&newest, "Who"), ADMIN);
    assert_eq!(
        described(&newest, "Why"),
        format!("Review #{number}: {why}")
    );
    assert_eq!(
        described(&newest, "What changed"),
        format!("profile ks2: allow added {host}")
    );

    // The proxy reloads the policy when the audit trail moves on.
    pupil.wait_until("the site to open through the proxy", |b| {
        b.goto(&site);
        b.text().contains("Odds for the school sports day")
    });
    pupil.goto(&status_page);
    let outcome = pupil.text();
    assert!(outcome.contains("The request was approved"), "{outcome}");
    assert!(
        outcome.contains(&format!("The reason given: {why}")),
        "{outcome}"
    );
    browser.assert_no_csp_violations();
    pupil.assert_no_csp_violations();
}
