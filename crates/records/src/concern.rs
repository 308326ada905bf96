//! A concern as a member of staff raises it (issue 6, "Concerns"), the small
//! set of categories the DSL owns, and the pupils a concern is about.
//!
//! Pupils are always named by their username in the people register and
//! their full name, never by initials: wrong or ambiguous pupils on a
//! record are the complaint most often made of the products schools use.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::amendment::{Amendment, RecordKind, RecordRef, current};
use crate::{RecordsError, Role, required};

/// Most categories a school may have in use at once: past a dozen, staff
/// stop reading the guidance and pick the first one that looks close.
pub const MAX_CATEGORIES: usize = 12;

/// A category a concern can be given, with the guidance staff read when
/// choosing it. The DSL owns the set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// Lower case letters, digits and hyphens: `bullying`.
    pub key: String,
    pub label: String,
    pub guidance: String,
}

impl Category {
    fn new(key: &str, label: &str, guidance: &str) -> Category {
        Category {
            key: key.to_owned(),
            label: label.to_owned(),
            guidance: guidance.to_owned(),
        }
    }

    pub fn validate(&self) -> Result<(), RecordsError> {
        let key_ok = !self.key.is_empty()
            && self
                .key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !key_ok {
            return Err(RecordsError::Invalid(format!(
                "category key '{}' must be lower-case letters, digits and hyphens, such as 'bullying'",
                self.key
            )));
        }
        required(
            "the category's name",
            &self.label,
            "give the name staff will see",
        )?;
        required(
            "the category's guidance",
            &self.guidance,
            "say in a sentence when staff should choose it",
        )
    }
}

/// The categories a new install starts with: few, each with guidance.
pub fn default_categories() -> Vec<Category> {
    vec![
        Category::new(
            "nudes",
            "Nudes or semi-nudes",
            "A child has sent, received, been asked for or shared nude or semi-nude pictures or videos. Do not look at, copy, print or forward them; tell the DSL straight away.",
        ),
        Category::new(
            "grooming-exploitation",
            "Grooming or exploitation",
            "Someone may be building a relationship with a child online to abuse or exploit them, sexually or criminally (for example asking them to keep secrets, meet up, or carry things).",
        ),
        Category::new(
            "sexual-harassment",
            "Sexual comments or harassment",
            "Unwanted sexual comments, messages, pressure or threats between children online.",
        ),
        Category::new(
            "bullying",
            "Bullying online",
            "Repeated unkind, threatening or excluding behaviour through messages, games, social media or group chats.",
        ),
        Category::new(
            "hate",
            "Online hate",
            "Content or messages attacking someone for their race, religion, disability, sexual orientation or gender identity, sent to or posted by a member of the school.",
        ),
        Category::new(
            "extremism",
            "Radicalisation or extremism",
            "A child is viewing, sharing or being drawn towards extremist material or views, or is in contact with people promoting them.",
        ),
        Category::new(
            "harmful-content",
            "Harmful or upsetting content",
            "A child has seen content that upset or could harm them (violence, self-harm, pornography), including anything that got past the school's filter.",
        ),
        Category::new(
            "wellbeing",
            "Other worry about wellbeing online",
            "Anything else about a child's life online that worries you: sleep, gaming, spending, contact with strangers, their mood.",
        ),
        Category::new(
            "staff-conduct",
            "About a member of staff",
            "Something a member of staff or volunteer did online with or about a child. Only the headteacher and the DSL will see it.",
        ),
    ]
}

/// Checks a whole set of categories a DSL wants in use.
pub fn validate_categories(set: &[Category]) -> Result<(), RecordsError> {
    if set.is_empty() {
        return Err(RecordsError::Missing {
            field: "the categories",
            hint: "keep at least one category for concerns to be given",
        });
    }
    if set.len() > MAX_CATEGORIES {
        return Err(RecordsError::Invalid(format!(
            "{} categories is too many to choose from quickly; keep to {MAX_CATEGORIES} or fewer",
            set.len()
        )));
    }
    for (i, c) in set.iter().enumerate() {
        c.validate()?;
        if set[..i].iter().any(|o| o.key == c.key) {
            return Err(RecordsError::Invalid(format!(
                "category key '{}' is used twice",
                c.key
            )));
        }
    }
    Ok(())
}

/// A pupil as the people register knows them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PupilRef {
    /// The person's username in the people register.
    pub username: String,
    /// Their full name as the register has it.
    pub full_name: String,
}

impl PupilRef {
    pub fn new(username: &str, full_name: &str) -> PupilRef {
        PupilRef {
            username: username.to_owned(),
            full_name: full_name.to_owned(),
        }
    }

    /// A username and a full name: at least two words, and neither the first
    /// nor the last an initial ("J Smith", "J.S." and "Jo S." are refused).
    pub fn validate(&self) -> Result<(), RecordsError> {
        required(
            "the pupil's username",
            &self.username,
            "choose the pupil from the list",
        )?;
        let words: Vec<&str> = self.full_name.split_whitespace().collect();
        let letters = |w: &str| w.chars().filter(|c| c.is_alphabetic()).count();
        let full = words.len() >= 2
            && words.first().is_some_and(|w| letters(w) >= 2)
            && words.last().is_some_and(|w| letters(w) >= 2);
        if full {
            Ok(())
        } else {
            Err(RecordsError::NotAFullName {
                name: self.full_name.clone(),
            })
        }
    }
}

/// How a pupil comes into a concern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Involvement {
    /// The child the concern is about.
    Subject,
    /// Another child involved (who shared, who saw, who was with them).
    Involved,
}

impl Involvement {
    pub fn id(self) -> &'static str {
        match self {
            Involvement::Subject => "subject",
            Involvement::Involved => "involved",
        }
    }

    pub fn from_id(id: &str) -> Result<Involvement, RecordsError> {
        match id {
            "subject" => Ok(Involvement::Subject),
            "involved" => Ok(Involvement::Involved),
            _ => Err(RecordsError::Unknown {
                what: "involvement",
                value: id.to_owned(),
            }),
        }
    }
}

/// What a member of staff writes when raising a concern.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewConcern {
    /// The console account that raised it.
    pub raised_by: String,
    pub raised_by_role: Role,
    pub raised_at: Timestamp,
    /// The children the concern is about.
    pub pupils: Vec<PupilRef>,
    /// Other children involved.
    pub others_involved: Vec<PupilRef>,
    /// What happened, in the child's own words where the child told you.
    pub child_words: String,
    /// What you did straight away (write "none" if nothing).
    pub immediate_action: String,
    pub happened_at: Timestamp,
    /// Where it happened: a room, a website or app, at home.
    pub location: String,
    /// The category the member of staff thinks fits; the DSL sets the final one.
    pub suggested_category: Option<String>,
    /// The concern is about a member of staff or volunteer: only the
    /// headteacher and DSL see it.
    pub about_staff: bool,
}

/// Clock drift between a browser and the server we let pass.
const FUTURE_SLACK: SignedDuration = SignedDuration::from_mins(10);

impl NewConcern {
    /// Checks everything a concern needs before it is stored.
    pub fn validate(&self, categories: &[Category]) -> Result<(), RecordsError> {
        if !self.raised_by_role.may_raise_concern() {
            return Err(RecordsError::NotAllowed(
                "governors do not raise concerns in schoolgate; tell the DSL directly".into(),
            ));
        }
        required(
            "who raised the concern",
            &self.raised_by,
            "sign in again and retry",
        )?;
        if self.pupils.is_empty() && !self.about_staff {
            return Err(RecordsError::Missing {
                field: "the pupils",
                hint: "choose at least one child the concern is about",
            });
        }
        for p in self.pupils.iter().chain(&self.others_involved) {
            p.validate()?;
        }
        let all: Vec<&str> = self
            .pupils
            .iter()
            .chain(&self.others_involved)
            .map(|p| p.username.as_str())
            .collect();
        if let Some(twice) = all.iter().enumerate().find(|(i, u)| all[..*i].contains(u)) {
            return Err(RecordsError::Invalid(format!(
                "pupil '{}' is listed twice; keep them once, either as the child the concern is about or as another child involved",
                twice.1
            )));
        }
        required(
            "what happened",
            &self.child_words,
            "write what happened, in the child's own words where they told you",
        )?;
        required(
            "the immediate action",
            &self.immediate_action,
            "say what you did straight away, or write 'none'",
        )?;
        required(
            "where it happened",
            &self.location,
            "say where: a room, an app or website, at home",
        )?;
        if self.happened_at > self.raised_at + FUTURE_SLACK {
            return Err(RecordsError::Invalid(
                "the time it happened is in the future; check the date and time".into(),
            ));
        }
        if let Some(key) = &self.suggested_category {
            find_category(categories, key)?;
        }
        Ok(())
    }
}

pub(crate) fn find_category<'a>(
    categories: &'a [Category],
    key: &str,
) -> Result<&'a Category, RecordsError> {
    categories
        .iter()
        .find(|c| c.key == key)
        .ok_or_else(|| RecordsError::Unknown {
            what: "category",
            value: key.to_owned(),
        })
}

/// A pupil linked to or unlinked from a concern. The pupils a concern was
/// raised with are its first links; later changes are made by DSL roles
/// only, with a reason, and never erase the earlier ones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PupilLinkChange {
    pub concern_id: i64,
    pub pupil: PupilRef,
    pub involvement: Involvement,
    pub linked: bool,
    pub actor: String,
    pub role: Role,
    pub at: Timestamp,
    pub reason: String,
}

impl PupilLinkChange {
    /// Checks a change made after the concern was raised.
    pub fn validate(&self) -> Result<(), RecordsError> {
        if !self.role.is_dsl_role() {
            return Err(RecordsError::NotAllowed(
                "only the DSL or a deputy DSL may link or unlink pupils; ask them to correct it"
                    .into(),
            ));
        }
        self.pupil.validate()?;
        required(
            "the reason",
            &self.reason,
            "say why the pupil is being linked or unlinked",
        )
    }
}

/// The final category, set by a DSL role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryDecision {
    pub concern_id: i64,
    pub category: String,
    pub actor: String,
    pub role: Role,
    pub at: Timestamp,
    pub reason: String,
}

impl CategoryDecision {
    pub fn validate(&self, categories: &[Category]) -> Result<(), RecordsError> {
        if !self.role.is_dsl_role() {
            return Err(RecordsError::NotAllowed(
                "only the DSL or a deputy DSL may set a concern's final category; you can suggest one when raising it"
                    .into(),
            ));
        }
        find_category(categories, &self.category)?;
        required("the reason", &self.reason, "say why this category fits")
    }
}

/// A concern as stored: what was raised, and every change since.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Concern {
    pub id: i64,
    pub raised: NewConcern,
    /// Every link and unlink, oldest first (the first ones are the pupils
    /// it was raised with).
    pub links: Vec<PupilLinkChange>,
    /// Every category decision, oldest first; the last is in force.
    pub categories: Vec<CategoryDecision>,
    pub amendments: Vec<Amendment>,
}

/// The fields of a concern an amendment may correct.
pub const AMENDABLE_FIELDS: [&str; 4] =
    ["child_words", "immediate_action", "location", "happened_at"];

impl Concern {
    /// The pupil links a concern starts with, made by whoever raised it.
    pub fn initial_links(id: i64, raised: &NewConcern) -> Vec<PupilLinkChange> {
        let link = |pupil: &PupilRef, involvement| PupilLinkChange {
            concern_id: id,
            pupil: pupil.clone(),
            involvement,
            linked: true,
            actor: raised.raised_by.clone(),
            role: raised.raised_by_role,
            at: raised.raised_at,
            reason: "named when the concern was raised".into(),
        };
        raised
            .pupils
            .iter()
            .map(|p| link(p, Involvement::Subject))
            .chain(
                raised
                    .others_involved
                    .iter()
                    .map(|p| link(p, Involvement::Involved)),
            )
            .collect()
    }

    /// The pupils linked now: the latest change for each wins.
    pub fn current_pupils(&self) -> Vec<(PupilRef, Involvement)> {
        let mut current: Vec<(PupilRef, Involvement)> = Vec::new();
        for change in &self.links {
            current.retain(|(p, _)| p.username != change.pupil.username);
            if change.linked {
                current.push((change.pupil.clone(), change.involvement));
            }
        }
        current
    }

    /// Whether the pupil is linked to this concern now.
    pub fn names_pupil(&self, username: &str) -> bool {
        self.current_pupils()
            .iter()
            .any(|(p, _)| p.username == username)
    }

    /// The final category, if a DSL role has set one.
    pub fn category(&self) -> Option<&str> {
        self.categories.last().map(|c| c.category.as_str())
    }

    /// A field as it reads now: the last amendment's text, or what was
    /// written when the concern was raised.
    pub fn field(&self, name: &str) -> Option<String> {
        let original = match name {
            "child_words" => self.raised.child_words.clone(),
            "immediate_action" => self.raised.immediate_action.clone(),
            "location" => self.raised.location.clone(),
            "happened_at" => self.raised.happened_at.to_string(),
            _ => return None,
        };
        let record = RecordRef {
            kind: RecordKind::Concern,
            id: self.id,
        };
        Some(current(&self.amendments, record, name, original))
    }

    /// Whether only the headteacher and the DSL may read it.
    pub fn is_staff_allegation(&self) -> bool {
        self.raised.about_staff || self.category() == Some("staff-conduct")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn concern() -> NewConcern {
        NewConcern {
            raised_by: "r.teacher".into(),
            raised_by_role: Role::Staff,
            raised_at: at("2026-03-02T10:00:00Z"),
            pupils: vec![PupilRef::new("amara.okafor", "Amara Okafor")],
            others_involved: vec![PupilRef::new("tobias.lindqvist", "Tobias Lindqvist")],
            child_words: "He said 'send me a picture or I'll tell everyone'.".into(),
            immediate_action: "Reassured her and came straight to the DSL.".into(),
            happened_at: at("2026-03-01T19:30:00Z"),
            location: "At home, on a messaging app".into(),
            suggested_category: Some("nudes".into()),
            about_staff: false,
        }
    }

    #[test]
    fn a_complete_concern_is_accepted() {
        concern().validate(&default_categories()).expect("valid");
    }

    #[test]
    fn initials_are_refused_full_names_accepted() {
        for bad in ["AO", "A.O.", "A Okafor", "Amara O.", "Amara", ""] {
            let err = PupilRef::new("x", bad).validate().expect_err(bad);
            assert!(matches!(err, RecordsError::NotAFullName { .. }), "{bad}");
        }
        for good in ["Amara Okafor", "Mary J Smith", "Zoë Ní Bhriain", "Jo Li"] {
            PupilRef::new("x", good).validate().expect(good);
        }
        let mut c = concern();
        c.others_involved[0].full_name = "T.L.".into();
        assert!(matches!(
            c.validate(&default_categories()),
            Err(RecordsError::NotAFullName { .. })
        ));
    }

    #[test]
    fn missing_parts_are_named() {
        let cats = default_categories();
        let mut c = concern();
        c.pupils.clear();
        assert!(
            c.validate(&cats)
                .unwrap_err()
                .to_string()
                .contains("pupils")
        );
        let mut c = concern();
        c.child_words = "  ".into();
        assert!(
            c.validate(&cats)
                .unwrap_err()
                .to_string()
                .contains("what happened")
        );
        let mut c = concern();
        c.immediate_action.clear();
        assert!(c.validate(&cats).unwrap_err().to_string().contains("none"));
        let mut c = concern();
        c.suggested_category = Some("everything".into());
        assert_eq!(
            c.validate(&cats),
            Err(RecordsError::Unknown {
                what: "category",
                value: "everything".into()
            })
        );
        let mut c = concern();
        c.others_involved[0].username = "amara.okafor".into();
        assert!(
            c.validate(&cats)
                .unwrap_err()
                .to_string()
                .contains("listed twice")
        );
        let mut c = concern();
        c.happened_at = at("2026-03-03T10:00:00Z");
        assert!(c.validate(&cats).is_err());
        let mut c = concern();
        c.raised_by_role = Role::Governor;
        assert!(matches!(
            c.validate(&cats),
            Err(RecordsError::NotAllowed(_))
        ));
    }

    #[test]
    fn the_category_set_stays_small_and_well_formed() {
        validate_categories(&default_categories()).expect("defaults");
        let many: Vec<Category> = (0..13)
            .map(|i| Category::new(&format!("c{i}"), "Name", "Guidance"))
            .collect();
        assert!(validate_categories(&many).is_err());
        assert!(validate_categories(&[]).is_err());
        let twice = vec![Category::new("a", "A", "g"), Category::new("a", "B", "g")];
        assert!(validate_categories(&twice).is_err());
        assert!(Category::new("Bad Key", "A", "g").validate().is_err());
        assert!(Category::new("ok", "A", " ").validate().is_err());
    }

    /// A stored concern about Amara Okafor (with Tobias Lindqvist
    /// involved), for the tests of other modules.
    pub(crate) fn sample(id: i64, raised_by: &str, raised_at: &str, about_staff: bool) -> Concern {
        let raised = NewConcern {
            raised_by: raised_by.into(),
            raised_at: at(raised_at),
            happened_at: at(raised_at),
            about_staff,
            ..concern()
        };
        Concern {
            id,
            links: Concern::initial_links(id, &raised),
            raised,
            categories: vec![],
            amendments: vec![],
        }
    }

    fn stored() -> Concern {
        sample(7, "r.teacher", "2026-03-02T10:00:00Z", false)
    }

    #[test]
    fn only_dsl_roles_set_the_final_category() {
        let cats = default_categories();
        let mut d = CategoryDecision {
            concern_id: 7,
            category: "nudes".into(),
            actor: "r.teacher".into(),
            role: Role::Staff,
            at: at("2026-03-02T11:00:00Z"),
            reason: "fits".into(),
        };
        for role in [
            Role::Staff,
            Role::Headteacher,
            Role::Technician,
            Role::Governor,
        ] {
            d.role = role;
            assert!(matches!(
                d.validate(&cats),
                Err(RecordsError::NotAllowed(_))
            ));
        }
        for role in [Role::Dsl, Role::DeputyDsl] {
            d.role = role;
            d.validate(&cats).expect("dsl role");
        }
        d.reason.clear();
        assert!(d.validate(&cats).is_err());
    }

    #[test]
    fn linking_and_unlinking_keeps_history_and_needs_a_dsl_role() {
        let mut c = stored();
        assert_eq!(c.current_pupils().len(), 2);
        let unlink = PupilLinkChange {
            concern_id: 7,
            pupil: PupilRef::new("tobias.lindqvist", "Tobias Lindqvist"),
            involvement: Involvement::Involved,
            linked: false,
            actor: "d.lead".into(),
            role: Role::Dsl,
            at: at("2026-03-02T12:00:00Z"),
            reason: "Wrong Tobias: it was a boy at another school".into(),
        };
        unlink.validate().expect("dsl may unlink");
        let by_staff = PupilLinkChange {
            role: Role::Staff,
            ..unlink.clone()
        };
        assert!(matches!(
            by_staff.validate(),
            Err(RecordsError::NotAllowed(_))
        ));
        c.links.push(unlink);
        assert!(!c.names_pupil("tobias.lindqvist"));
        assert!(c.names_pupil("amara.okafor"));
        assert_eq!(c.links.len(), 3, "the earlier link is kept");
    }
}
