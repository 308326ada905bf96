//! Readable differences between two policies, for the audit trail (§7.3.1:
//! every change to the filtering policy is logged and recorded).
//!
//! The difference is worked out on the policies' structure, not their text,
//! so it reads as the change a person made: "profile ks2: blocked_categories
//! added gambling", not a pair of changed lines.

use toml::Value;

use crate::model::Policy;

/// One line per change; empty when the policies are the same.
pub fn diff(old: &Policy, new: &Policy) -> Vec<String> {
    let mut out = Vec::new();
    match (Value::try_from(old), Value::try_from(new)) {
        (Ok(a), Ok(b)) => diff_value("", &a, &b, &mut out),
        // Plain data always converts; say so rather than hide a change.
        _ => out.push("the policy changed (the difference could not be worked out)".to_owned()),
    }
    out
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(is_scalar) => {
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Table(_))
}

fn key_of(v: &Value) -> Option<String> {
    let table = v.as_table()?;
    table
        .get("id")
        .or_else(|| table.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// How a path reads: `profile ks2`, `profile staff: schedule Lunch: to`.
fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}: {key}")
    }
}

fn diff_value(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Table(ta), Value::Table(tb)) => {
            for (key, va) in ta {
                let here = join(path, key);
                match tb.get(key) {
                    Some(vb) => diff_value(&here, va, vb, out),
                    None => out.push(format!("{here} removed (was {})", show(va))),
                }
            }
            for (key, vb) in tb {
                if !ta.contains_key(key) {
                    out.push(format!("{} set to {}", join(path, key), show(vb)));
                }
            }
        }
        (Value::Array(xa), Value::Array(xb)) if xa.iter().chain(xb).all(is_scalar) => {
            let added: Vec<String> = xb.iter().filter(|v| !xa.contains(v)).map(show).collect();
            let removed: Vec<String> = xa.iter().filter(|v| !xb.contains(v)).map(show).collect();
            if !added.is_empty() {
                out.push(format!("{path} added {}", added.join(", ")));
            }
            if !removed.is_empty() {
                out.push(format!("{path} removed {}", removed.join(", ")));
            }
        }
        (Value::Array(xa), Value::Array(xb))
            if xa.iter().chain(xb).all(|v| key_of(v).is_some()) =>
        {
            // Tables named by id (profiles) or name (schedules) are matched
            // by that name, so reordering is not a change.
            let noun = path.rsplit(": ").next().unwrap_or(path);
            let parent = path.rsplit_once(": ").map_or("", |(p, _)| p);
            for va in xa {
                let key = key_of(va).unwrap_or_default();
                let here = join(parent, &format!("{noun} {key}"));
                match xb
                    .iter()
                    .find(|vb| key_of(vb).as_deref() == Some(key.as_str()))
                {
                    Some(vb) => diff_value(&here, va, vb, out),
                    None => out.push(format!("{here} removed")),
                }
            }
            for vb in xb {
                let key = key_of(vb).unwrap_or_default();
                if !xa
                    .iter()
                    .any(|va| key_of(va).as_deref() == Some(key.as_str()))
                {
                    out.push(format!("{} added", join(parent, &format!("{noun} {key}"))));
                }
            }
        }
        _ if a != b => out.push(format!("{path} changed from {} to {}", show(a), show(b))),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults::default_policy;
    use classify::taxonomy::Category;

    #[test]
    fn same_policy_has_no_difference() {
        assert!(diff(&default_policy(), &default_policy()).is_empty());
    }

    #[test]
    fn changes_read_as_what_a_person_did() {
        let old = default_policy();
        let mut new = old.clone();
        new.school.name = "Dallimore Primary".into();
        let ks2 = new
            .profiles
            .iter_mut()
            .find(|p| p.id == "ks2")
            .expect("ks2");
        ks2.blocked_categories
            .remove(Category::from_id("games").expect("games"));
        ks2.allow.push("scratch.mit.edu".into());
        let staff = new
            .profiles
            .iter_mut()
            .find(|p| p.id == "staff")
            .expect("staff");
        staff.schedules[1].to = "13:30".parse().expect("time");
        new.profiles.retain(|p| p.id != "guest");

        let lines = diff(&old, &new);
        assert!(
            lines.contains(&"school: name changed from Our school to Dallimore Primary".to_owned()),
            "{lines:#?}"
        );
        assert!(
            lines.contains(&"profile ks2: blocked_categories removed games".to_owned()),
            "{lines:#?}"
        );
        assert!(
            lines.contains(&"profile ks2: allow added scratch.mit.edu".to_owned()),
            "{lines:#?}"
        );
        assert!(
            lines.contains(
                &"profile staff: schedule Lunch: to changed from 13:00 to 13:30".to_owned()
            ),
            "{lines:#?}"
        );
        assert!(
            lines.contains(&"profile guest removed".to_owned()),
            "{lines:#?}"
        );
        assert_eq!(lines.len(), 5, "{lines:#?}");
    }
}
