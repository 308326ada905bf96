//! The console in a real browser: headless Chromium driven through
//! chromedriver (Debian's packages, which `./scripts/test` installs), with
//! `schoolgate serve` on loopback. First-run set-up, two-factor sign-in by
//! keyboard, signing out everywhere, accounts and their set-up links, the
//! Content Security Policy at work, and a pupil's block page through the
//! proxy.

#[path = "common/browser.rs"]
mod browser;
mod common;
#[path = "common/school.rs"]
mod school;

use browser::key::{ENTER, TAB};
use school::{ADMIN, ADMIN_NAME, PASSWORD, School};

#[test]
fn the_first_run_link_creates_the_first_administrator() {
    let school = School::fresh();
    let link = school
        .first_run_link
        .clone()
        .expect("serve printed a one-time link on a fresh data folder");
    assert!(
        link.starts_with(&format!("{}/setup/", school.base)),
        "{link}"
    );

    let browser = school.browser();
    browser.goto(&link);
    assert_eq!(
        browser.title(),
        "Create the first administrator – schoolgate"
    );
    browser.fill("Username", ADMIN);
    browser.fill("Full name", ADMIN_NAME);

    // A common password is refused, saying why, and what was typed in the
    // other fields is kept.
    browser.fill("Password", "password1234");
    browser.fill("Password again", "password1234");
    browser.submit("Create the administrator");
    let summary = browser.find(".error-summary").text();
    assert!(summary.contains("There is a problem"), "{summary}");
    assert!(summary.contains("too common"), "{summary}");
    assert_eq!(
        browser
            .field("Password")
            .attribute("aria-invalid")
            .as_deref(),
        Some("true")
    );
    assert_eq!(browser.field("Username").value(), ADMIN);
    assert!(browser.path().starts_with("/setup/"), "{}", browser.path());

    // So is a short one.
    browser.fill("Password", "too short");
    browser.fill("Password again", "too short");
    browser.submit("Create the administrator");
    let summary = browser.find(".error-summary").text();
    assert!(summary.contains("Use at least 12 characters"), "{summary}");

    browser.fill("Password", PASSWORD);
    browser.fill("Password again", PASSWORD);
    browser.submit("Create the administrator");
    // An administrator must set up two-factor sign-in before anything else.
    assert_eq!(browser.path(), "/account/two-factor");
    assert!(
        browser.text().contains("needs two-factor sign-in"),
        "{}",
        browser.text()
    );
    assert!(
        browser.try_find(".qr svg[role=img]").is_some(),
        "a QR code for the phone"
    );
    school.set_up_two_factor(&browser, &school.admin);
    let home = browser.text();
    assert!(
        home.contains(&format!("You are signed in as {ADMIN_NAME}")),
        "{home}"
    );
    assert!(
        browser.try_find("nav a[href='/accounts']").is_some(),
        "{home}"
    );

    // The link worked once.
    browser.goto(&link);
    assert!(
        browser
            .text()
            .contains("has expired or has already been used"),
        "{}",
        browser.text()
    );
    assert!(browser.try_find("input[type=password]").is_none());
    browser.assert_no_csp_violations();
}

#[test]
fn signing_in_takes_a_password_then_a_code_and_works_from_the_keyboard() {
    let (school, browser) = School::signed_in();
    assert!(!browser.text().contains("Two-factor sign-in is off"));
    browser.submit("Sign out");
    assert_eq!(browser.path(), "/sign-in?done=signed-out");
    assert!(browser.text().contains("You have signed out."));
    browser.goto(&school.url("/"));
    assert_eq!(browser.path(), "/sign-in");

    // The username field has the focus; Tab moves to the password and
    // Enter sends the form.
    assert!(
        browser.focused().is(&browser.field("Username")),
        "the username field should have the focus"
    );
    browser.navigating(|| browser.keys(&format!("{ADMIN}{TAB}{PASSWORD}{ENTER}")));
    assert_eq!(browser.path(), "/sign-in/code");
    assert!(
        browser.focused().is(&browser.field("Code")),
        "the code field should have the focus"
    );

    // A wrong code is refused.
    let wrong = school.admin.wrong_code();
    browser.navigating(|| browser.keys(&format!("{wrong}{ENTER}")));
    assert_eq!(browser.path(), "/sign-in/code");
    let summary = browser.find(".error-summary").text();
    assert!(summary.contains("That code did not work"), "{summary}");
    assert_eq!(
        browser.field("Code").attribute("aria-invalid").as_deref(),
        Some("true")
    );
    browser.goto(&school.url("/account"));
    assert_ne!(browser.path(), "/account", "a wrong code must not sign in");

    // The right one signs in.
    browser.goto(&school.url("/sign-in/code"));
    assert_eq!(browser.path(), "/sign-in/code");
    browser.field("Code").click();
    let code = school.admin.code();
    browser.navigating(|| browser.keys(&format!("{code}{ENTER}")));
    assert_eq!(browser.path(), "/");
    assert!(
        browser
            .text()
            .contains(&format!("You are signed in as {ADMIN_NAME}")),
        "{}",
        browser.text()
    );
    browser.assert_no_csp_violations();
}

#[test]
fn signing_out_everywhere_ends_the_session_in_another_browser() {
    let (school, first) = School::signed_in();
    let second = first.another();
    school.sign_in(&second, &school.admin);

    first.goto(&school.url("/account"));
    let sessions = first.find_all("table tbody tr");
    assert_eq!(sessions.len(), 2, "{}", first.text());
    assert!(first.text().contains("(this one)"));

    first.submit("Sign out everywhere");
    assert_eq!(first.path(), "/sign-in?done=signed-out-everywhere");
    assert!(
        first
            .text()
            .contains("You have signed out on every device.")
    );

    second.goto(&school.url("/account"));
    assert_eq!(second.path(), "/sign-in", "the other browser is signed out");
    first.goto(&school.url("/account"));
    assert_eq!(first.path(), "/sign-in");
    first.assert_no_csp_violations();
    second.assert_no_csp_violations();
}

#[test]
fn the_content_security_policy_refuses_an_inline_script_and_the_log_shows_it() {
    let school = School::fresh();
    let browser = school.browser();
    browser.goto(&school.url("/sign-in"));
    browser.assert_no_csp_violations();
    let shot = tempfile::tempdir().expect("tempdir");
    let png = shot.path().join("sign-in.png");
    browser.save_screenshot(&png);
    let bytes = std::fs::read(&png).expect("the screenshot");
    assert!(
        bytes.starts_with(b"\x89PNG\r\n"),
        "{} is not a PNG",
        png.display()
    );
    // What an injected script would be: refused, so it never runs.
    browser.script(
        "var s = document.createElement('script');\
         s.textContent = 'document.title = \"changed\"';\
         document.head.appendChild(s);",
    );
    browser.wait_until("the refusal in the browser's log", |b| {
        b.console_log()
            .iter()
            .any(|line| line.contains("Content Security Policy"))
    });
    assert_eq!(browser.title(), "Sign in – schoolgate");
}

#[test]
fn accounts_made_while_serving_sign_in_and_a_dsl_must_set_up_two_factor_first() {
    let school = School::fresh();
    let staff = school.create_account("s.teach", "Sam Teach", "staff");
    let browser = school.browser();
    school.sign_in(&browser, &staff);
    assert!(!staff.has_two_factor());
    assert!(browser.text().contains("Two-factor sign-in is off"));
    assert!(browser.try_find("nav a[href='/accounts']").is_none());

    // The school fixture sets up two-factor sign-in on the way, as the
    // console insists for a DSL.
    let dsl = school.create_account("d.lead", "Dana Lead", "dsl");
    let other = browser.another();
    school.sign_in(&other, &dsl);
    assert!(dsl.has_two_factor());
    assert!(other.text().contains("Two-factor sign-in is on"));
    other.assert_no_csp_violations();
}

#[test]
fn an_administrator_adds_an_account_and_its_owner_sets_a_password_with_the_link() {
    let (school, browser) = School::signed_in();
    browser.goto(&school.url("/accounts"));
    browser.fill("Full name", "Harper Stone");
    browser.fill("Username", "h.stone");
    browser.check("Headteacher");
    browser.submit("Add the account");
    let link = browser.find("#setup-link").text();
    assert!(
        link.starts_with(&format!("{}/setup/", school.base)),
        "{link}"
    );

    let headteacher = school::Account::new("h.stone", "Harper Stone", PASSWORD);
    let theirs = browser.another();
    theirs.goto(&link);
    assert_eq!(theirs.title(), "Choose your password – schoolgate");
    theirs.fill("Password", PASSWORD);
    theirs.fill("Password again", PASSWORD);
    theirs.submit("Set my password");
    assert_eq!(theirs.path(), "/sign-in?done=password-set");
    school.sign_in(&theirs, &headteacher);
    assert!(
        headteacher.has_two_factor(),
        "a headteacher needs two-factor sign-in"
    );

    browser.goto(&school.url("/accounts"));
    let row = browser
        .find_all("table tbody tr")
        .into_iter()
        .map(|row| row.text())
        .find(|text| text.contains("h.stone"))
        .expect("the new account is listed");
    assert!(row.contains("Headteacher"), "{row}");
    browser.assert_no_csp_violations();
    theirs.assert_no_csp_violations();
}

#[test]
fn a_pupils_browser_through_the_proxy_sees_the_block_page() {
    let school = School::fresh();
    let pupil = school.browser_through_the_proxy(&["bet365.com"]);
    pupil.goto("http://www.bet365.com/");
    assert_eq!(pupil.url(), "http://www.bet365.com/");
    let text = pupil.text();
    assert!(text.contains("This page is blocked"), "{text}");
    // A device schoolgate does not know gets the strictest pupil profile.
    assert!(
        text.contains("The EYFS and Key Stage 1 profile allows only approved sites"),
        "{text}"
    );
    let review = pupil
        .link("Ask for this to be checked")
        .attribute("href")
        .expect("a link");
    assert!(review.contains("/review?ref=SG-"), "{review}");
    pupil.assert_no_csp_violations();

    // Once this network is a Key Stage 2 classroom (changed from the
    // command line while serve runs), the page is blocked for what it is.
    school.add_classroom_network("ks2");
    pupil.wait_until("the new network to take effect", |b| {
        b.goto("http://www.bet365.com/");
        b.text().contains("in the Gambling group of websites")
    });
    assert!(pupil.text().contains("This page is blocked"));
}
