//! The roles a console account can have, in the school's words (DESIGN.md,
//! "Who uses it"). What each role may reach is in [`crate::routes`], the one
//! table the router is built from.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Runs the console: accounts and roles. No safeguarding content by
    /// virtue of the role.
    Administrator,
    /// IT technician or provider: filtering policy, lists, devices and
    /// networks; never safeguarding content.
    Technician,
    /// Designated Safeguarding Lead.
    Dsl,
    DeputyDsl,
    /// Everything the DSL sees, plus allegations about staff.
    Headteacher,
    /// Raises concerns, asks for sites to be reviewed.
    Staff,
    /// Aggregate reports only, never a named child.
    Governor,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Administrator,
        Role::Technician,
        Role::Dsl,
        Role::DeputyDsl,
        Role::Headteacher,
        Role::Staff,
        Role::Governor,
    ];

    /// The roles that see safeguarding content.
    pub const SAFEGUARDING: [Role; 3] = [Role::Dsl, Role::DeputyDsl, Role::Headteacher];

    /// The roles that run filtering (policy, lists, devices, networks).
    pub const FILTERING: [Role; 2] = [Role::Administrator, Role::Technician];

    /// As stored and typed: `deputy-dsl`.
    pub fn id(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Technician => "technician",
            Role::Dsl => "dsl",
            Role::DeputyDsl => "deputy-dsl",
            Role::Headteacher => "headteacher",
            Role::Staff => "staff",
            Role::Governor => "governor",
        }
    }

    /// As a person reads it.
    pub fn label(self) -> &'static str {
        match self {
            Role::Administrator => "Administrator",
            Role::Technician => "IT technician",
            Role::Dsl => "Designated Safeguarding Lead",
            Role::DeputyDsl => "Deputy DSL",
            Role::Headteacher => "Headteacher",
            Role::Staff => "Staff",
            Role::Governor => "Governor",
        }
    }

    /// What the role is for, shown on its home page.
    pub fn summary(self) -> &'static str {
        match self {
            Role::Administrator => {
                "You manage who can use the console: accounts, roles and two-factor sign-in."
            }
            Role::Technician => {
                "You look after filtering: the policy, the lists, devices and networks. \
                 Safeguarding records are not shown to technicians."
            }
            Role::Dsl | Role::DeputyDsl => {
                "You receive alerts, own concerns and incidents, and report on online safety."
            }
            Role::Headteacher => "You see everything the DSL sees, and allegations about staff.",
            Role::Staff => {
                "You can raise a concern and ask for a website to be unblocked or blocked."
            }
            Role::Governor => {
                "You see reports in aggregate only. No child is ever named, and numbers under \
                 five are shown as \"fewer than 5\"."
            }
        }
    }

    /// Privileged roles must sign in with a second factor (issue 5).
    pub fn requires_two_factor(self) -> bool {
        matches!(
            self,
            Role::Dsl | Role::DeputyDsl | Role::Headteacher | Role::Administrator
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A role name that is not one of ours.
#[derive(Debug, thiserror::Error)]
#[error(
    "'{0}' is not a role; use one of administrator, technician, dsl, deputy-dsl, headteacher, staff or governor"
)]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(text: &str) -> Result<Role, UnknownRole> {
        let wanted = text.trim().to_ascii_lowercase().replace('_', "-");
        Role::ALL
            .into_iter()
            .find(|r| r.id() == wanted)
            .ok_or_else(|| UnknownRole(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_back_from_their_ids() {
        for role in Role::ALL {
            assert_eq!(role.id().parse::<Role>().expect("parse"), role);
        }
        assert_eq!(
            "Deputy_DSL".parse::<Role>().expect("parse"),
            Role::DeputyDsl
        );
        let err = "caretaker".parse::<Role>().expect_err("unknown");
        assert!(err.to_string().contains("caretaker"));
    }

    #[test]
    fn privileged_roles_need_a_second_factor() {
        let needing: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.requires_two_factor())
            .collect();
        assert_eq!(
            needing,
            [
                Role::Administrator,
                Role::Dsl,
                Role::DeputyDsl,
                Role::Headteacher
            ]
        );
    }
}
