//! The console's roles as this crate needs them. The names match
//! `console::roles` (stored as `deputy-dsl` and so on); the console maps its
//! own role to this one, so this crate does not depend on the console.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Administrator,
    Technician,
    Dsl,
    DeputyDsl,
    Headteacher,
    Staff,
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

    /// The DSL and deputies: they own concerns and incidents, set the final
    /// category, link and unlink pupils, work procedures and refer. A
    /// headteacher who is also the school's DSL holds the `dsl` role.
    pub fn is_dsl_role(self) -> bool {
        matches!(self, Role::Dsl | Role::DeputyDsl)
    }

    /// Roles that read safeguarding records beyond what they raised
    /// themselves (DESIGN.md, "Who uses it").
    pub fn reads_safeguarding(self) -> bool {
        matches!(self, Role::Dsl | Role::DeputyDsl | Role::Headteacher)
    }

    /// Roles that may see allegations about staff. The issue says "visible
    /// only to the headteacher and DSL": deputies are left out, literally.
    pub fn reads_staff_allegations(self) -> bool {
        matches!(self, Role::Dsl | Role::Headteacher)
    }

    /// Anyone who works at the school may raise a concern; governors, who
    /// see aggregates only, do not.
    pub fn may_raise_concern(self) -> bool {
        !matches!(self, Role::Governor)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Role {
    type Err = crate::RecordsError;

    fn from_str(s: &str) -> Result<Role, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.id() == s)
            .ok_or_else(|| crate::RecordsError::Unknown {
                what: "role",
                value: s.to_owned(),
            })
    }
}
