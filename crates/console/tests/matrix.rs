//! The full role × route matrix. The expected table below is written out by
//! hand, independently of `console::routes`; the test fails when a route is
//! added, removed or changed there without the same change here, and then
//! asks the running router, for every role and every route, whether it lets
//! the role in, proving access is enforced on the server.

mod common;

use axum::http::{Method, StatusCode};
use common::School;
use console::{Access, Role};

/// Who gets in, as this test expects it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Anyone, signed in or not.
    Anyone,
    /// Only someone half-way through sign-in (password given, code owed).
    AwaitingCode,
    /// Any signed-in account, even before two-factor enrolment.
    SignedIn,
    /// Fully signed-in accounts, by role, in the order of `ROLES`.
    Roles([bool; 7]),
}

const ROLES: [Role; 7] = [
    Role::Administrator,
    Role::Technician,
    Role::Dsl,
    Role::DeputyDsl,
    Role::Headteacher,
    Role::Staff,
    Role::Governor,
];

const Y: bool = true;
const N: bool = false;
const EVERYONE: Expect = Expect::Roles([Y, Y, Y, Y, Y, Y, Y]);
const ADMINISTRATORS: Expect = Expect::Roles([Y, N, N, N, N, N, N]);
/// The filtering policy: changed by administrators and technicians, seen by
/// the DSL, deputies and headteacher too; never staff or governors.
const POLICY_EDIT: Expect = Expect::Roles([Y, Y, N, N, N, N, N]);
const POLICY_VIEW: Expect = Expect::Roles([Y, Y, Y, Y, Y, N, N]);
/// Safeguarding records: everyone who works at the school raises concerns;
/// only the DSL, deputies and headteacher see safeguarding content.
const STAFF_MEMBERS: Expect = Expect::Roles([Y, Y, Y, Y, Y, Y, N]);
const SAFEGUARDING: Expect = Expect::Roles([N, N, Y, Y, Y, N, N]);
/// Registers: confiscations never reach technicians or governors (they
/// name pupils); agreements and training are kept by the leaders; the
/// filtering check log and the technical registers (loans, technology,
/// system access) are for those who run or oversee them.
const CONFISCATIONS: Expect = Expect::Roles([N, N, Y, Y, Y, Y, N]);
const REGISTER_LEADERS: Expect = Expect::Roles([Y, N, Y, Y, Y, N, N]);
const CHECKS: Expect = Expect::Roles([Y, Y, Y, Y, Y, N, N]);
/// Who adds where the register allows fewer than read it: agreement
/// versions (not deputies), loans and system access (headteacher,
/// administrator, technician), technology (not deputies).
const AUP_VERSION_WRITERS: Expect = Expect::Roles([Y, N, Y, N, Y, N, N]);
const LOAN_WRITERS: Expect = Expect::Roles([Y, Y, N, N, Y, N, N]);
const TECHNOLOGY_WRITERS: Expect = Expect::Roles([Y, Y, Y, N, Y, N, N]);
// Review requests and activity.
const REVIEWERS: Expect = Expect::Roles([Y, Y, Y, Y, Y, N, N]);
const SAFEGUARDING_TEAM: Expect = Expect::Roles([N, N, Y, Y, Y, N, N]);
const ACTIVITY: Expect = Expect::Roles([N, Y, Y, Y, Y, N, N]);
/// People and devices: who changes them, and who may see people.
const PEOPLE_MANAGE: Expect = Expect::Roles([Y, Y, N, N, N, N, N]);
const PEOPLE_VIEW: Expect = Expect::Roles([Y, Y, Y, Y, Y, N, N]);

/// Reports: the weekly one names pupils; the governors' one is counts only.
const WEEKLY_REPORT: Expect = Expect::Roles([N, N, Y, Y, Y, N, N]);
const GOVERNORS_REPORT: Expect = Expect::Roles([N, N, Y, N, Y, N, Y]);
const SELFTEST: Expect = Expect::Roles([Y, Y, Y, N, N, N, N]);
/// Legal holds on safeguarding records: the DSL and the headteacher.
const HOLDERS: Expect = Expect::Roles([N, N, Y, N, Y, N, N]);

/// THE expected matrix. Columns: administrator, technician, dsl, deputy-dsl,
/// headteacher, staff, governor.
#[rustfmt::skip]
fn expected() -> Vec<(Method, &'static str, Expect)> {
    use Expect::{Anyone, AwaitingCode, SignedIn};
    vec![
        (Method::GET,    "/sign-in",                              Anyone),
        (Method::POST,   "/sign-in",                              Anyone),
        (Method::GET,    "/sign-in/code",                         AwaitingCode),
        (Method::POST,   "/sign-in/code",                         AwaitingCode),
        (Method::POST,   "/sign-out",                             SignedIn),
        (Method::POST,   "/sign-out-everywhere",                  SignedIn),
        (Method::GET,    "/setup/{token}",                        Anyone),
        (Method::POST,   "/setup/{token}",                        Anyone),
        (Method::GET,    "/assets/{file}",                        Anyone),
        (Method::GET,    "/",                                     EVERYONE),
        (Method::GET,    "/account",                              EVERYONE),
        (Method::POST,   "/account/password",                     EVERYONE),
        (Method::GET,    "/account/two-factor",                   SignedIn),
        (Method::POST,   "/account/two-factor",                   SignedIn),
        (Method::GET,    "/account/tokens",                       EVERYONE),
        (Method::POST,   "/account/tokens",                       EVERYONE),
        (Method::POST,   "/account/tokens/{id}/revoke",           EVERYONE),
        (Method::GET,    "/accounts",                             ADMINISTRATORS),
        (Method::POST,   "/accounts",                             ADMINISTRATORS),
        (Method::GET,    "/accounts/{username}",                  ADMINISTRATORS),
        (Method::POST,   "/accounts/{username}/disable",          ADMINISTRATORS),
        (Method::POST,   "/accounts/{username}/enable",           ADMINISTRATORS),
        (Method::POST,   "/accounts/{username}/reset-two-factor", ADMINISTRATORS),
        (Method::POST,   "/accounts/{username}/unlock",           ADMINISTRATORS),
        (Method::POST,   "/accounts/{username}/setup-link",       ADMINISTRATORS),
        (Method::GET,    "/api/v1/me",                            EVERYONE),
        (Method::GET,    "/api/v1/tokens",                        EVERYONE),
        (Method::DELETE, "/api/v1/tokens/{id}",                   EVERYONE),
        (Method::GET,    "/api/v1/accounts",                      ADMINISTRATORS),
        (Method::GET,    "/api/v1/openapi.json",                  Anyone),
        // The filtering policy.
        (Method::GET,    "/policy",                               POLICY_VIEW),
        (Method::GET,    "/policy/profiles/{id}",                 POLICY_VIEW),
        (Method::POST,   "/policy/profiles/{id}/settings",        POLICY_EDIT),
        (Method::POST,   "/policy/profiles/{id}/overrides",       POLICY_EDIT),
        (Method::POST,   "/policy/profiles/{id}/overrides/remove", POLICY_EDIT),
        (Method::POST,   "/policy/profiles/{id}/schedules",       POLICY_EDIT),
        (Method::POST,   "/policy/profiles/{id}/schedules/remove", POLICY_EDIT),
        (Method::GET,    "/policy/history",                       POLICY_VIEW),
        (Method::GET,    "/policy/history/{number}",              POLICY_VIEW),
        (Method::GET,    "/policy/test",                          POLICY_VIEW),
        (Method::GET,    "/api/v1/policy",                        POLICY_VIEW),
        (Method::PUT,    "/api/v1/policy",                        POLICY_EDIT),
        (Method::GET,    "/api/v1/policy/history",                POLICY_VIEW),
        (Method::POST,   "/api/v1/check",                         POLICY_VIEW),
        (Method::GET,    "/api/v1/lists",                         POLICY_VIEW),
        // Safeguarding records: every member of staff raises concerns and
        // sees their own; the DSL, deputies and headteacher see the rest.
        (Method::GET,    "/concerns/new",                         STAFF_MEMBERS),
        (Method::POST,   "/concerns",                             STAFF_MEMBERS),
        (Method::GET,    "/my-concerns",                          STAFF_MEMBERS),
        (Method::GET,    "/my-concerns/{id}",                     STAFF_MEMBERS),
        (Method::GET,    "/concerns",                             SAFEGUARDING),
        (Method::GET,    "/concerns/{id}",                        SAFEGUARDING),
        (Method::POST,   "/concerns/{id}/category",               SAFEGUARDING),
        (Method::POST,   "/concerns/{id}/pupils",                 SAFEGUARDING),
        (Method::POST,   "/concerns/{id}/amend",                  SAFEGUARDING),
        (Method::POST,   "/concerns/{id}/incident",               SAFEGUARDING),
        (Method::GET,    "/incidents",                            SAFEGUARDING),
        (Method::GET,    "/incidents/{id}",                       SAFEGUARDING),
        (Method::POST,   "/incidents/{id}/steps",                 SAFEGUARDING),
        (Method::POST,   "/incidents/{id}/referrals",             SAFEGUARDING),
        (Method::POST,   "/incidents/{id}/referrals/{referral}/response", SAFEGUARDING),
        (Method::POST,   "/incidents/{id}/attachments",           SAFEGUARDING),
        (Method::GET,    "/incidents/{id}/attachments/{attachment}", SAFEGUARDING),
        (Method::POST,   "/incidents/{id}/close",                 SAFEGUARDING),
        (Method::POST,   "/incidents/{id}/amend",                 SAFEGUARDING),
        (Method::POST,   "/incidents/{id}/hold",                  HOLDERS),
        (Method::POST,   "/concerns/{id}/hold",                   HOLDERS),
        (Method::POST,   "/referral-directory/{id}/withdraw",     SAFEGUARDING),
        (Method::GET,    "/referral-directory",                   SAFEGUARDING),
        (Method::POST,   "/referral-directory",                   SAFEGUARDING),
        (Method::POST,   "/referral-directory/national",          SAFEGUARDING),
        (Method::GET,    "/pupils",                               SAFEGUARDING),
        (Method::GET,    "/pupils/{username}",                    SAFEGUARDING),
        (Method::POST,   "/pupils/{username}",                    SAFEGUARDING),
        (Method::POST,   "/pupils/{username}/file",               SAFEGUARDING),
        (Method::GET,    "/concern-categories",                   SAFEGUARDING),
        (Method::POST,   "/concern-categories",                   Expect::Roles([N, N, Y, Y, N, N, N])),
        // The policy's registers.
        (Method::GET,    "/registers",                            EVERYONE),
        (Method::GET,    "/registers/confiscated-devices",        CONFISCATIONS),
        (Method::POST,   "/registers/confiscated-devices",        CONFISCATIONS),
        (Method::POST,   "/registers/confiscated-devices/{id}/release", CONFISCATIONS),
        (Method::GET,    "/registers/acceptable-use",             REGISTER_LEADERS),
        (Method::POST,   "/registers/acceptable-use/versions",    AUP_VERSION_WRITERS),
        (Method::POST,   "/registers/acceptable-use/acceptances", REGISTER_LEADERS),
        (Method::GET,    "/registers/training",                   REGISTER_LEADERS),
        (Method::POST,   "/registers/training",                   REGISTER_LEADERS),
        (Method::GET,    "/registers/filtering-checks",           CHECKS),
        (Method::POST,   "/registers/filtering-checks",           CHECKS),
        (Method::GET,    "/registers/equipment-loans",            CHECKS),
        (Method::POST,   "/registers/equipment-loans",            LOAN_WRITERS),
        (Method::POST,   "/registers/equipment-loans/{id}/return", LOAN_WRITERS),
        (Method::GET,    "/registers/technology",                 CHECKS),
        (Method::POST,   "/registers/technology",                 TECHNOLOGY_WRITERS),
        (Method::GET,    "/registers/system-access",              CHECKS),
        (Method::POST,   "/registers/system-access",              LOAN_WRITERS),
        (Method::GET,    "/registers/policy-reviews",             EVERYONE),
        (Method::POST,   "/registers/policy-reviews",             AUP_VERSION_WRITERS),
        (Method::GET,    "/registers/parental-consents",          CONFISCATIONS),
        (Method::POST,   "/registers/parental-consents",          CONFISCATIONS),
        (Method::GET,    "/registers/file-transfers",             SAFEGUARDING),
        (Method::POST,   "/registers/file-transfers",             SAFEGUARDING),
        (Method::POST,   "/registers/file-transfers/{id}/receipt", SAFEGUARDING),
        // Review requests and activity.
        (Method::GET,    "/reviews",                              REVIEWERS),
        (Method::GET,    "/reviews/report",                       EVERYONE),
        (Method::POST,   "/reviews/report",                       EVERYONE),
        (Method::GET,    "/reviews/mine",                         EVERYONE),
        (Method::GET,    "/reviews/{id}",                         REVIEWERS),
        (Method::GET,    "/reviews/{id}/breach",                  SAFEGUARDING_TEAM),
        (Method::POST,   "/reviews/{id}/decision",                REVIEWERS),
        (Method::GET,    "/activity",                             ACTIVITY),
        (Method::GET,    "/activity.csv",                         ACTIVITY),
        (Method::GET,    "/activity/people/{username}",           ACTIVITY),
        (Method::GET,    "/api/v1/activity",                      ACTIVITY),
        (Method::GET,    "/api/v1/reviews",                       REVIEWERS),
        (Method::POST,   "/api/v1/reviews",                       EVERYONE),
        (Method::POST,   "/api/v1/reviews/{id}/decision",         REVIEWERS),
        // Reports and the filter self-test.
        (Method::GET,    "/reports/weekly",                       WEEKLY_REPORT),
        (Method::GET,    "/reports/weekly.csv",                   WEEKLY_REPORT),
        (Method::GET,    "/reports/governors",                    GOVERNORS_REPORT),
        (Method::GET,    "/reports/governors.pdf",                GOVERNORS_REPORT),
        (Method::GET,    "/checks/selftest",                      SELFTEST),
        (Method::POST,   "/checks/selftest",                      SELFTEST),
        // People and devices.
        (Method::GET,    "/people",                               PEOPLE_VIEW),
        (Method::GET,    "/people/import",                        PEOPLE_MANAGE),
        (Method::POST,   "/people/import",                        PEOPLE_MANAGE),
        (Method::POST,   "/people/import/preview",                PEOPLE_MANAGE),
        (Method::POST,   "/people/import/confirm",                PEOPLE_MANAGE),
        (Method::POST,   "/people/leavers",                       PEOPLE_MANAGE),
        (Method::GET,    "/people/{username}",                    PEOPLE_VIEW),
        (Method::POST,   "/people/{username}",                    PEOPLE_MANAGE),
        (Method::POST,   "/people/{username}/disable",            PEOPLE_MANAGE),
        (Method::POST,   "/people/{username}/enable",             PEOPLE_MANAGE),
        (Method::GET,    "/devices",                              PEOPLE_MANAGE),
        (Method::POST,   "/devices",                              PEOPLE_MANAGE),
        (Method::GET,    "/devices/{name}",                       PEOPLE_MANAGE),
        (Method::POST,   "/devices/{name}",                       PEOPLE_MANAGE),
        (Method::POST,   "/devices/{name}/remove",                PEOPLE_MANAGE),
        (Method::GET,    "/networks",                             PEOPLE_MANAGE),
        (Method::POST,   "/networks",                             PEOPLE_MANAGE),
        (Method::GET,    "/networks/{name}",                      PEOPLE_MANAGE),
        (Method::POST,   "/networks/{name}",                      PEOPLE_MANAGE),
        (Method::POST,   "/networks/{name}/remove",               PEOPLE_MANAGE),
        (Method::GET,    "/api/v1/people",                        PEOPLE_VIEW),
        (Method::GET,    "/api/v1/people/{username}",             PEOPLE_VIEW),
        (Method::PATCH,  "/api/v1/people/{username}",             PEOPLE_MANAGE),
        (Method::GET,    "/api/v1/devices",                       PEOPLE_MANAGE),
        (Method::POST,   "/api/v1/devices",                       PEOPLE_MANAGE),
        (Method::DELETE, "/api/v1/devices/{name}",                PEOPLE_MANAGE),
        (Method::GET,    "/api/v1/networks",                      PEOPLE_MANAGE),
        (Method::POST,   "/api/v1/networks",                      PEOPLE_MANAGE),
        (Method::DELETE, "/api/v1/networks/{name}",               PEOPLE_MANAGE),
        // Alerts (monitoring): the safeguarding team only.
        (Method::GET,    "/alerts",                               SAFEGUARDING_TEAM),
        (Method::GET,    "/alerts/rates",                         SAFEGUARDING_TEAM),
        (Method::GET,    "/alerts/library",                       SAFEGUARDING_TEAM),
        (Method::POST,   "/alerts/library",                       SAFEGUARDING_TEAM),
        (Method::GET,    "/alerts/{id}",                          SAFEGUARDING_TEAM),
        (Method::POST,   "/alerts/{id}/triage",                   SAFEGUARDING_TEAM),
        (Method::GET,    "/api/v1/alerts",                        SAFEGUARDING_TEAM),
        (Method::POST,   "/api/v1/alerts/{id}/triage",            SAFEGUARDING_TEAM),
    ]
}

fn as_expect(access: Access) -> Expect {
    match access {
        Access::Anyone => Expect::Anyone,
        Access::AwaitingCode => Expect::AwaitingCode,
        Access::SignedIn => Expect::SignedIn,
        Access::Roles(roles) => Expect::Roles(ROLES.map(|r| roles.contains(&r))),
    }
}

/// A real path for a route's pattern.
fn sample(path: &str) -> String {
    path.replace("{token}", "no-such-link")
        .replace("{file}", "console.css")
        .replace("{username}", "t.target")
        .replace("{id}", "999")
        .replace("{number}", "999")
        .replace("{name}", "No%20such%20device")
}

/// Whether the answer means the route let the caller in.
fn entered(page: &common::Page) -> bool {
    let refused = page.status == StatusCode::FORBIDDEN
        || page.status == StatusCode::UNAUTHORIZED && page.body.contains("Sign in first")
        || page.status == StatusCode::SEE_OTHER
            && matches!(
                page.location(),
                Some("/sign-in" | "/sign-in/code" | "/account/two-factor")
            );
    !refused
}

#[test]
fn the_router_is_built_from_exactly_the_expected_table() {
    let actual: Vec<(Method, &'static str, Expect)> =
        console::routes::table::<store::sqlite::SqliteStore>()
            .into_iter()
            .map(|r| (r.entry.method, r.entry.path, as_expect(r.entry.access)))
            .collect();
    let expected = expected();
    for row in &actual {
        assert!(
            expected.contains(row),
            "the route {} {} ({:?}) has no row, or a different one, in this test's matrix; \
             add it to expected() with the roles it should admit",
            row.0,
            row.1,
            row.2
        );
    }
    for row in &expected {
        assert!(
            actual.contains(row),
            "the matrix expects {} {} ({:?}) but the router has no such route",
            row.0,
            row.1,
            row.2
        );
    }
    assert_eq!(actual.len(), expected.len(), "a route appears twice");
}

#[tokio::test]
async fn every_role_is_let_in_or_refused_by_the_server_as_the_matrix_says() {
    let school = School::new().await;
    for role in ROLES {
        school
            .account(&format!("{role}.user"), role.id(), true)
            .await;
    }
    school.account("t.target", "staff", false).await;

    for (method, pattern, expect) in expected() {
        let path = sample(pattern);
        for (column, role) in ROLES.iter().enumerate() {
            let mut browser = school.signed_in(&format!("{role}.user")).await;
            browser.get("/account/two-factor").await; // for the form token
            let token = browser.csrf.clone().expect("a form token");
            let page = if method == Method::POST {
                browser.post(&path, &[]).await
            } else {
                browser
                    .call(method.clone(), &path, &[("x-csrf-token", &token)])
                    .await
            };
            let should = match expect {
                Expect::Anyone | Expect::SignedIn => true,
                Expect::AwaitingCode => false,
                Expect::Roles(row) => row[column],
            };
            assert_eq!(
                entered(&page),
                should,
                "{method} {path} as {role}: {} {:?}\n{}",
                page.status,
                page.location(),
                page.body
            );
            if !should && matches!(expect, Expect::Roles(_)) {
                assert_eq!(
                    page.status,
                    StatusCode::FORBIDDEN,
                    "{method} {path} as {role}"
                );
            }
        }

        // Nobody signed in: only open routes.
        let mut stranger = school.browser();
        stranger.get("/sign-in").await;
        let token = stranger.csrf.clone().expect("a form token");
        let page = if method == Method::POST {
            stranger.post(&path, &[]).await
        } else {
            stranger
                .call(method.clone(), &path, &[("x-csrf-token", &token)])
                .await
        };
        assert_eq!(
            entered(&page),
            expect == Expect::Anyone,
            "{method} {path} signed out: {} {:?}",
            page.status,
            page.location()
        );
    }
}

#[tokio::test]
async fn a_privileged_account_without_two_factor_reaches_only_enrolment() {
    let school = School::new().await;
    for role in ROLES {
        school
            .account(&format!("{role}.new"), role.id(), false)
            .await;
    }
    school.account("t.target", "staff", false).await;
    for (method, pattern, expect) in expected() {
        let path = sample(pattern);
        for role in ROLES {
            let mut browser = school.signed_in(&format!("{role}.new")).await;
            browser.get("/account/two-factor").await;
            let token = browser.csrf.clone().expect("a form token");
            let page = if method == Method::POST {
                browser.post(&path, &[]).await
            } else {
                browser
                    .call(method.clone(), &path, &[("x-csrf-token", &token)])
                    .await
            };
            let should = match expect {
                Expect::Anyone | Expect::SignedIn => true,
                Expect::AwaitingCode => false,
                Expect::Roles(_) if role.requires_two_factor() => false,
                Expect::Roles(row) => row[ROLES.iter().position(|r| *r == role).unwrap_or(0)],
            };
            assert_eq!(
                entered(&page),
                should,
                "{method} {path} as {role} before enrolment: {} {:?}",
                page.status,
                page.location()
            );
            if !should && matches!(expect, Expect::Roles(_)) && role.requires_two_factor() {
                match page.status {
                    StatusCode::SEE_OTHER => {
                        assert_eq!(page.location(), Some("/account/two-factor"));
                    }
                    status => assert_eq!(status, StatusCode::FORBIDDEN, "{path}"),
                }
            }
        }
    }
}

#[tokio::test]
async fn navigation_offers_each_role_only_what_it_can_reach() {
    let school = School::new().await;
    for role in ROLES {
        school
            .account(&format!("{role}.user"), role.id(), true)
            .await;
    }
    for role in ROLES {
        let mut browser = school.signed_in(&format!("{role}.user")).await;
        let home = browser.get("/").await;
        assert_eq!(home.status, StatusCode::OK, "{role}");
        assert!(
            home.body
                .contains(role.summary().split('.').next().unwrap_or("")),
            "{role}"
        );
        assert_eq!(
            home.body.contains(">Accounts</a>"),
            role == Role::Administrator,
            "{role}"
        );
        assert!(home.body.contains(">API tokens</a>"), "{role}");
    }
}
