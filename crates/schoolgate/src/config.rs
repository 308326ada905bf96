//! The configuration file, `schoolgate.toml`: what `serve` listens on and
//! how it runs. The filtering policy is not here: it lives in the database
//! with its history (`schoolgate policy`).
//!
//! Unknown keys are refused and bad values named; `serve` and `check-config`
//! exit with status 64 before binding any port when the file is wrong.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::exit::Failure;

/// The whole file. Every table is optional and has working defaults.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub activity: ActivitySettings,
    #[serde(default)]
    pub console: ConsoleSettings,
    #[serde(default)]
    pub metrics: MetricsSettings,
    #[serde(default)]
    pub reload: ReloadSettings,
    /// The web proxy (`crates/proxy`): listeners, limits, sign-in, the login
    /// agent and the PAC file.
    #[serde(default)]
    pub proxy: proxy::Settings,
    /// The DNS filter, for guest and BYOD networks; it runs only when the
    /// file has a `[dns]` table.
    #[serde(default)]
    pub dns: Option<dns::Settings>,
    /// The SMTP server alerts and reports are emailed through
    /// (`docs/alerts-delivery.md`); no email is sent without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<notify::MailSettings>,
    /// Webhooks: each `[[webhook]]` gets a signed JSON POST for the
    /// messages whose kind and severity it takes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhook: Vec<notify::WebhookSettings>,
    /// Monitoring (the warm path, `crates/schoolgate/src/monitoring.rs`):
    /// on or off, alert thresholds, school hours, out-of-hours contacts.
    #[serde(default)]
    pub monitoring: crate::monitoring::MonitoringSettings,
    /// How long safeguarding records are kept (records::retention).
    #[serde(default)]
    pub retention: RetentionSettings,
    /// The weekly and governors' reports and the filter self-test
    /// (`docs/reports.md`).
    #[serde(default)]
    pub reports: ReportsSettings,
}

/// Retention of safeguarding records, in years per kind of record. Left
/// out, each follows the records management toolkit; a school may keep
/// child protection files and allegations longer, never shorter.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// From the pupil's date of birth (toolkit: 25, the minimum).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_protection_years: Option<i16>,
    /// From when the allegation was made (toolkit: 10, the minimum).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staff_allegation_years: Option<i16>,
    /// From when the incident was closed (toolkit: 6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_without_pupil_years: Option<i16>,
}

impl RetentionSettings {
    /// The schedule in force, or the key the records crate refused and why.
    pub fn schedule(&self) -> Result<records::RetentionSchedule, (String, String)> {
        use records::RetentionClass as C;
        let mut schedule = records::RetentionSchedule::default();
        for (key, class, years) in [
            (
                "child_protection_years",
                C::ChildProtection,
                self.child_protection_years,
            ),
            (
                "staff_allegation_years",
                C::StaffAllegation,
                self.staff_allegation_years,
            ),
            (
                "incident_without_pupil_years",
                C::IncidentWithoutPupil,
                self.incident_without_pupil_years,
            ),
        ] {
            let Some(years) = years else { continue };
            let mut rule = schedule.rule(class);
            rule.years = years;
            schedule
                .set(rule)
                .map_err(|e| (format!("retention.{key}"), e.to_string()))?;
        }
        Ok(schedule)
    }
}

/// `[reports]`: who the weekly report goes to (§7.3.4 names the person),
/// the school's name on the reports, and the school's own platforms the
/// filter self-test must find reachable.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportsSettings {
    pub school_name: String,
    pub weekly_recipients: Vec<String>,
    pub school_platforms: Vec<String>,
    /// `serve` emails the weekly report for the seven days before this day
    /// of the week ("monday")...
    pub weekly_report_day: String,
    /// ...at this time, in the policy's `school.timezone` ("07:30").
    pub weekly_report_at: String,
}

impl Default for ReportsSettings {
    fn default() -> Self {
        ReportsSettings {
            school_name: String::new(),
            weekly_recipients: Vec::new(),
            school_platforms: Vec::new(),
            weekly_report_day: "monday".into(),
            weekly_report_at: "07:30".into(),
        }
    }
}

impl ReportsSettings {
    /// The day and time `serve` emails the weekly report.
    pub fn weekly_report_when(
        &self,
    ) -> Result<(jiff::civil::Weekday, jiff::civil::Time), (String, String)> {
        use jiff::civil::Weekday as W;
        let day = match self.weekly_report_day.trim().to_ascii_lowercase().as_str() {
            "monday" => W::Monday,
            "tuesday" => W::Tuesday,
            "wednesday" => W::Wednesday,
            "thursday" => W::Thursday,
            "friday" => W::Friday,
            "saturday" => W::Saturday,
            "sunday" => W::Sunday,
            _ => {
                return Err((
                    "reports.weekly_report_day".into(),
                    format!(
                        "\"{}\" is not a day of the week; write it like \"monday\"",
                        self.weekly_report_day
                    ),
                ));
            }
        };
        let time = self.weekly_report_at.trim().parse().map_err(|_| {
            (
                "reports.weekly_report_at".to_owned(),
                format!(
                    "\"{}\" is not a time of day; write it like \"07:30\"",
                    self.weekly_report_at
                ),
            )
        })?;
        Ok((day, time))
    }
}

/// The activity log.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActivitySettings {
    /// Days an event is kept before the purge removes it.
    pub retention_days: u32,
    /// How often the purge runs, in minutes.
    pub purge_every_minutes: u32,
    /// Events the queue holds before new ones are dropped (and counted).
    /// The writer runs at the lowest priority, so on a machine whose cores
    /// are all busy the queue takes the whole burst; each waiting event is
    /// a few hundred bytes.
    pub queue_capacity: usize,
    /// Events written in one transaction at most: small enough that a
    /// writer held back by busy cores holds the write lock only briefly.
    pub batch: usize,
}

impl Default for ActivitySettings {
    fn default() -> Self {
        ActivitySettings {
            retention_days: 365,
            purge_every_minutes: 60,
            queue_capacity: 1_048_576,
            batch: 1_000,
        }
    }
}

/// The web console.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleSettings {
    /// Where the console listens.
    pub listen: SocketAddr,
    /// A PEM certificate chain: with `tls_private_key`, the console is
    /// served over HTTPS and its cookies are marked Secure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_certificate: Option<PathBuf>,
    /// The PEM private key for `tls_certificate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_private_key: Option<PathBuf>,
    /// The address people reach the console at, for the links it prints
    /// and shows (default: the listening address). An `https://` address
    /// marks cookies Secure, for a console behind a TLS-terminating proxy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        ConsoleSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            tls_certificate: None,
            tls_private_key: None,
            public_url: None,
        }
    }
}

/// The Prometheus metrics endpoint.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// Where `/metrics` is served; leave out to turn it off.
    pub listen: Option<SocketAddr>,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 9180))),
        }
    }
}

/// How `serve` notices changes made by other commands.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReloadSettings {
    /// How often to look for a changed policy, lists, people or networks.
    pub poll_seconds: u64,
}

impl Default for ReloadSettings {
    fn default() -> Self {
        ReloadSettings { poll_seconds: 2 }
    }
}

/// Splits an edge's "key: problem" message, falling back to the table name.
fn split_key(table: &str, message: String) -> (String, String) {
    match message.split_once(": ") {
        Some((key, problem)) => (key.to_owned(), problem.to_owned()),
        None => (table.to_owned(), message),
    }
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Config, Failure> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::usage(format!(
                "could not read the configuration file {}: {e}; check the path given to --config",
                path.display()
            ))
        })?;
        let config: Config = toml::from_str(&text)
            .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
        config.validate().map_err(|(key, problem)| {
            Failure::usage(format!("{}: {key}: {problem}", path.display()))
        })?;
        Ok(config)
    }

    /// Finds the configuration: `--config FILE`, else `schoolgate.toml` in the
    /// data folder, else the defaults.
    pub fn find(
        explicit: Option<&Path>,
        data: &Path,
    ) -> Result<(Config, Option<PathBuf>), Failure> {
        if let Some(path) = explicit {
            return Ok((Config::load(path)?, Some(path.to_owned())));
        }
        let beside = data.join("schoolgate.toml");
        if beside.exists() {
            return Ok((Config::load(&beside)?, Some(beside)));
        }
        Ok((Config::default(), None))
    }

    /// Checks values serde cannot, naming the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        self.monitoring.validate()?;
        let a = &self.activity;
        if a.retention_days == 0 {
            return Err((
                "activity.retention_days".into(),
                "must be at least 1; the DfE standard expects logs to be kept for review".into(),
            ));
        }
        if a.purge_every_minutes == 0 {
            return Err((
                "activity.purge_every_minutes".into(),
                "must be at least 1".into(),
            ));
        }
        if a.queue_capacity < 1_000 {
            return Err((
                "activity.queue_capacity".into(),
                format!(
                    "{} is too small to absorb a burst; use at least 1000",
                    a.queue_capacity
                ),
            ));
        }
        if a.batch == 0 || a.batch > a.queue_capacity {
            return Err((
                "activity.batch".into(),
                "must be at least 1 and no more than activity.queue_capacity".into(),
            ));
        }
        let c = &self.console;
        if c.tls_certificate.is_some() != c.tls_private_key.is_some() {
            return Err((
                "console.tls_certificate".into(),
                "give both console.tls_certificate and console.tls_private_key, or neither".into(),
            ));
        }
        if let Some(url) = &c.public_url
            && (!(url.starts_with("http://") || url.starts_with("https://"))
                || url.chars().any(char::is_whitespace))
        {
            return Err((
                "console.public_url".into(),
                format!(
                    "'{url}' is not a web address; write it like https://console.school.example"
                ),
            ));
        }
        if self.reload.poll_seconds == 0 {
            return Err(("reload.poll_seconds".into(), "must be at least 1".into()));
        }
        // Each edge's checks say "<table>.<key>: <problem>".
        proxy::validate(&self.proxy).map_err(|e| split_key("proxy", e))?;
        if let Some(settings) = &self.dns {
            dns::validate(settings).map_err(|e| split_key("dns", e))?;
        }
        // Alert delivery: the notify crate names the key it objects to.
        if let Some(mail) = &self.mail {
            notify::validate_mail(mail).map_err(|e| (e.key, e.problem))?;
        }
        notify::validate_webhook(&self.webhook).map_err(|e| (e.key, e.problem))?;
        self.retention.schedule()?;
        for (i, to) in self.reports.weekly_recipients.iter().enumerate() {
            if !notify::is_mailbox(to) {
                return Err((
                    format!("reports.weekly_recipients[{i}]"),
                    format!("'{to}' is not an email address; write it like dsl@school.example"),
                ));
            }
        }
        self.reports.weekly_report_when()?;
        for (i, url) in self.reports.school_platforms.iter().enumerate() {
            if !(url.starts_with("http://") || url.starts_with("https://"))
                || url.chars().any(char::is_whitespace)
            {
                return Err((
                    format!("reports.school_platforms[{i}]"),
                    format!(
                        "'{url}' is not a web address; write it like https://learning.school.example/"
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_example_loads() {
        let text = include_str!("../../../docs/schoolgate.example.toml");
        let config: Config = toml::from_str(text).expect("example parses");
        config.validate().expect("example is valid");
    }

    #[test]
    fn unknown_keys_are_refused_with_their_name() {
        let err = toml::from_str::<Config>("[activity]\nretention_dayz = 30\n")
            .expect_err("unknown key")
            .to_string();
        assert!(err.contains("retention_dayz"), "{err}");
        let err = toml::from_str::<Config>("[proxie]\n")
            .expect_err("unknown table")
            .to_string();
        assert!(err.contains("proxie"), "{err}");
    }

    /// The commented block of the shipped example that starts with `first`,
    /// as it reads with its settings uncommented.
    fn uncommented_example(first: &str) -> String {
        include_str!("../../../docs/schoolgate.example.toml")
            .lines()
            .skip_while(|l| !l.starts_with(first))
            .take_while(|l| l.starts_with('#'))
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| !l.starts_with(' ') && (l.starts_with('[') || l.contains(" = ")))
            .map(|l| format!("{l}\n"))
            .collect()
    }

    #[test]
    fn the_shipped_example_dns_table_loads_when_uncommented() {
        // The example leaves the DNS filter off; its commented [dns] table
        // must still be right for whoever turns it on.
        let dns = uncommented_example("# [dns]");
        assert!(dns.starts_with("[dns]\n"), "{dns}");
        let config: Config = toml::from_str(&dns).expect("the [dns] example parses");
        config.validate().expect("the [dns] example is valid");
        assert!(config.dns.is_some());
    }

    #[test]
    fn bad_dns_values_name_the_key() {
        let config: Config =
            toml::from_str("[dns]\nupstreams = [\"192.0.2.53:53\"]\nattempts = 0\n")
                .expect("parses");
        assert_eq!(config.validate().expect_err("attempts").0, "dns.attempts");
        let err = toml::from_str::<Config>("[dns]\nupstream = []\n")
            .expect_err("unknown key")
            .to_string();
        assert!(err.contains("upstream"), "{err}");
    }

    #[test]
    fn bad_values_name_the_key() {
        let mut config = Config::default();
        config.activity.retention_days = 0;
        assert_eq!(
            config.validate().expect_err("zero").0,
            "activity.retention_days"
        );
        let mut config = Config::default();
        config.activity.batch = 10_000_000;
        assert_eq!(config.validate().expect_err("batch").0, "activity.batch");
        let mut config = Config::default();
        config.console.tls_certificate = Some("console.pem".into());
        assert_eq!(
            config.validate().expect_err("half TLS").0,
            "console.tls_certificate"
        );
        let mut config = Config::default();
        config.console.public_url = Some("console.school".into());
        assert_eq!(
            config.validate().expect_err("not a URL").0,
            "console.public_url"
        );
        let config: Config = toml::from_str("[proxy]\nmax_header_bytes = 10\n").expect("parses");
        assert_eq!(
            config.validate().expect_err("header limit").0,
            "proxy.max_header_bytes"
        );
        let err = toml::from_str::<Config>("[proxy]\nlisten_on = []\n")
            .expect_err("unknown proxy key")
            .to_string();
        assert!(err.contains("listen_on"), "{err}");
    }

    #[test]
    fn mail_and_webhook_tables_are_checked_and_name_the_key() {
        let config: Config = toml::from_str(
            "[mail]\nhost = \"smtp.school.example\"\nsecurity = \"none\"\nfrom = \"schoolgate@school.example\"\n",
        )
        .expect("parses");
        assert_eq!(
            config.validate().expect_err("plain text").0,
            "mail.security"
        );
        let err = toml::from_str::<Config>(
            "[mail]\nhost = \"smtp.school.example\"\nfrom = \"a@b.example\"\npassword = \"hunter2\"\n",
        )
        .expect_err("no password in the file")
        .to_string();
        assert!(err.contains("password"), "{err}");
        let config: Config = toml::from_str(
            "[[webhook]]\nname = \"pager\"\nurl = \"http://alerts.school.example/\"\nsecret_env = \"HOOK\"\n",
        )
        .expect("parses");
        assert_eq!(config.validate().expect_err("http").0, "webhook[0].url");
    }

    #[test]
    fn retention_periods_may_be_longer_but_not_below_the_toolkit() {
        let config: Config = toml::from_str(
            "[retention]\nchild_protection_years = 35\nincident_without_pupil_years = 3\n",
        )
        .expect("parses");
        let schedule = config.retention.schedule().expect("longer is allowed");
        assert_eq!(
            schedule
                .rule(records::RetentionClass::ChildProtection)
                .years,
            35
        );
        let config: Config =
            toml::from_str("[retention]\nchild_protection_years = 20\n").expect("parses");
        let (key, problem) = config.validate().expect_err("too short");
        assert_eq!(key, "retention.child_protection_years");
        assert!(problem.contains("at least 25 years"), "{problem}");
        let err = toml::from_str::<Config>("[retention]\nchild_protection = 30\n")
            .expect_err("unknown key")
            .to_string();
        assert!(err.contains("child_protection"), "{err}");
    }

    #[test]
    fn the_shipped_example_mail_and_webhook_tables_load_when_uncommented() {
        let tables = uncommented_example("# [mail]");
        assert!(tables.starts_with("[mail]\n"), "{tables}");
        let config: Config = toml::from_str(&tables).expect("the [mail] example parses");
        config.validate().expect("the [mail] example is valid");
        assert!(config.mail.is_some());
        assert_eq!(config.webhook.len(), 1);
    }

    #[test]
    fn reports_settings_are_checked_by_key() {
        let err = toml::from_str::<Config>("[reports]\nweekly_recipient = []\n")
            .expect_err("unknown key")
            .to_string();
        assert!(err.contains("weekly_recipient"), "{err}");
        let config: Config =
            toml::from_str("[reports]\nweekly_recipients = [\"not an address\"]\n").expect("parse");
        let (key, problem) = config.validate().expect_err("bad address");
        assert_eq!(key, "reports.weekly_recipients[0]");
        assert!(problem.contains("not an email address"), "{problem}");
        let config: Config =
            toml::from_str("[reports]\nschool_platforms = [\"learning.school\"]\n").expect("parse");
        assert_eq!(
            config.validate().expect_err("bad url").0,
            "reports.school_platforms[0]"
        );
    }

    #[test]
    fn schedule_settings_are_checked_by_key() {
        for (toml_text, key, hint) in [
            (
                "[reports]\nweekly_report_day = \"mondays\"\n",
                "reports.weekly_report_day",
                "\"monday\"",
            ),
            (
                "[reports]\nweekly_report_at = \"7.30am\"\n",
                "reports.weekly_report_at",
                "\"07:30\"",
            ),
            (
                "[monitoring]\ndigest_at = \"25:00\"\n",
                "monitoring.digest_at",
                "\"08:30\"",
            ),
        ] {
            let config: Config = toml::from_str(toml_text).expect("parse");
            let (found, problem) = config.validate().expect_err(toml_text);
            assert_eq!(found, key);
            assert!(problem.contains(hint), "{problem}");
        }
        let config: Config = toml::from_str(
            "[reports]\nweekly_report_day = \"Friday\"\nweekly_report_at = \"15:45\"\n[monitoring]\ndigest_at = \"06:00\"\n",
        )
        .expect("parse");
        config.validate().expect("valid");
        let (day, at) = config.reports.weekly_report_when().expect("when");
        assert_eq!(day, jiff::civil::Weekday::Friday);
        assert_eq!(at, jiff::civil::time(15, 45, 0, 0));
        let defaults = Config::default();
        assert_eq!(
            defaults.reports.weekly_report_when().expect("default").0,
            jiff::civil::Weekday::Monday
        );
        assert_eq!(defaults.monitoring.digest_at, "07:30");
    }
}
