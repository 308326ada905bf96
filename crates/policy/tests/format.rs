//! The TOML format: the shipped default and the documented example load,
//! round trips are exact, and unknown keys are refused.

use policy::Policy;
use policy::defaults::default_policy;

#[test]
fn the_default_policy_round_trips_through_toml() {
    let policy = default_policy();
    policy.validate().expect("the default policy is valid");
    let text = policy.to_toml();
    assert_eq!(Policy::from_toml(&text).expect("parse"), policy);
}

#[test]
fn the_documented_example_loads() {
    let doc = include_str!("../../../docs/policy-format.md");
    let start = doc.find("```toml\n").expect("an example") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("end of example");
    let policy = Policy::from_toml(&doc[start..end]).expect("the documented example is valid");
    assert_eq!(policy.profiles.len(), 1);
    assert_eq!(policy.profiles[0].schedules[0].name, "Golden time");
}

#[test]
fn unknown_keys_are_refused_with_their_name_and_line() {
    let text = default_policy().to_toml().replacen(
        "walled_garden = true",
        "walled_garden = true\nwaled_garden = true",
        1,
    );
    let err = Policy::from_toml(&text)
        .expect_err("unknown key")
        .to_string();
    assert!(err.contains("waled_garden"), "{err}");
    assert!(err.contains("line"), "{err}");
    let text = default_policy()
        .to_toml()
        .replacen("[school]", "[school]\nmotto = \"x\"", 1);
    let err = Policy::from_toml(&text)
        .expect_err("unknown key")
        .to_string();
    assert!(err.contains("motto"), "{err}");
}

#[test]
fn validation_names_the_place() {
    let mut p = default_policy();
    p.profiles[1].id = "ks2".into();
    p.profiles[0].id = "ks2".into();
    let err = p.validate().expect_err("duplicate").to_string();
    assert!(err.contains("profile[1] (ks2).id"), "{err}");

    let mut p = default_policy();
    p.profiles[2].schedules[0].to = "10:00".parse().expect("time");
    let err = p.validate().expect_err("backwards").to_string();
    assert!(err.contains("schedule[0] (Morning break)"), "{err}");
    assert!(err.contains("the end must be later"), "{err}");

    let mut p = default_policy();
    p.school.timezone = "Europe/Londres".into();
    assert!(
        p.validate()
            .expect_err("zone")
            .to_string()
            .contains("school.timezone")
    );

    let mut p = default_policy();
    p.profiles[0].allow.clear();
    let err = p.validate().expect_err("empty garden").to_string();
    assert!(err.contains("would block every site"), "{err}");
}

// Acceptable use (§7.2): the profile option that makes the proxy show the
// agreement first.

#[test]
fn the_acceptable_use_option_defaults_off_and_round_trips_and_shows_in_the_diff() {
    let old = default_policy();
    assert!(old.profiles.iter().all(|p| !p.require_acceptable_use));
    assert!(!old.to_toml().contains("require_acceptable_use"));
    let mut new = old.clone();
    new.profiles[0].require_acceptable_use = true;
    let text = new.to_toml();
    assert!(text.contains("require_acceptable_use = true"), "{text}");
    let back = Policy::from_toml(&text).expect("parse");
    assert_eq!(back, new);
    assert!(back.profiles[0].require_acceptable_use);
    let changes = policy::diff::diff(&old, &new);
    assert!(
        changes.iter().any(|c| c.contains("require_acceptable_use")),
        "{changes:?}"
    );
}
