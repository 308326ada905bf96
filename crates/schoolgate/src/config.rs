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
    pub metrics: MetricsSettings,
    #[serde(default)]
    pub reload: ReloadSettings,
    /// The web proxy (`crates/proxy`): listeners, limits, sign-in, the login
    /// agent and the PAC file.
    #[serde(default)]
    pub proxy: proxy::Settings,
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
    pub queue_capacity: usize,
    /// Events written in one transaction at most.
    pub batch: usize,
}

impl Default for ActivitySettings {
    fn default() -> Self {
        ActivitySettings {
            retention_days: 365,
            purge_every_minutes: 60,
            queue_capacity: 131_072,
            batch: 2_000,
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
        if self.reload.poll_seconds == 0 {
            return Err(("reload.poll_seconds".into(), "must be at least 1".into()));
        }
        // The proxy's checks say "proxy.<key>: <problem>".
        proxy::validate(&self.proxy).map_err(|e| match e.split_once(": ") {
            Some((key, problem)) => (key.to_owned(), problem.to_owned()),
            None => ("proxy".to_owned(), e),
        })?;
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
}
