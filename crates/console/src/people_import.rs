//! Importing pupils and staff from a CSV file as the school's management
//! information system (SIMS, Arbor, Bromcom …) exports it. Pure: no store,
//! no async, so every step can be tested on its own.
//!
//! The steps: [`read`] the file (UTF-8 with or without a byte-order mark,
//! UTF-16 from Excel's "Unicode text", else Windows-1252; commas, semicolons
//! or tabs; quoted fields with commas and line breaks; blank lines), [`guess`]
//! which column is which from the headings, [`plan`] each row into a person
//! (or a [`RowError`] naming the row and column), and [`compare`] the plan
//! with the people already stored for the preview.
//!
//! Row numbers are as a spreadsheet shows the file: the heading row is row
//! 1, and a quoted field with line breaks in it is still one row.
//!
//! Profiles by year group (issue 5): Nursery, Reception, Year 1 and Year 2
//! get `eyfs-ks1`; Years 3 to 6 get `ks2`; staff get `staff`. The shipped
//! policy has no secondary profile, so Years 7 to 13 get the profile the
//! person importing chooses on the mapping page: by default a profile named
//! `ks3`, `ks4`, `ks3-ks4`, `secondary` or `ks5` if the policy has one, else
//! `ks2` (the nearest pupil profile that is not a walled garden), with a
//! hint that a secondary school should add its own.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use jiff::civil::Date;
use serde::Serialize;
use store::{ImportedPerson, PersonKind, PersonRecord};

use crate::handlers::valid_username;

/// The largest file accepted (5 MiB: some 50,000 people).
pub const UPLOAD_LIMIT: usize = 5 * 1024 * 1024;
/// More rows than this is not one school's roll.
pub const ROW_LIMIT: usize = 100_000;
/// Longer than this is not a name, a class or an address.
const FIELD_LIMIT: usize = 200;

/// What a column can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Username,
    MisId,
    GivenName,
    FamilyName,
    YearGroup,
    ClassGroup,
    Email,
    DateOfBirth,
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::GivenName,
        Field::FamilyName,
        Field::YearGroup,
        Field::ClassGroup,
        Field::Email,
        Field::MisId,
        Field::Username,
        Field::DateOfBirth,
    ];

    /// The form field's name.
    pub fn id(self) -> &'static str {
        match self {
            Field::Username => "username",
            Field::MisId => "mis_id",
            Field::GivenName => "given_name",
            Field::FamilyName => "family_name",
            Field::YearGroup => "year_group",
            Field::ClassGroup => "class_group",
            Field::Email => "email",
            Field::DateOfBirth => "date_of_birth",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Field::Username => "Username",
            Field::MisId => "MIS identifier (UPN, admission number or staff code)",
            Field::GivenName => "Given name (forename)",
            Field::FamilyName => "Family name (surname)",
            Field::YearGroup => "Year group",
            Field::ClassGroup => "Class or registration group",
            Field::Email => "Email",
            Field::DateOfBirth => "Date of birth (day/month/year)",
        }
    }

    /// Headings MIS exports use for this, best first, compared without
    /// case, spaces or punctuation.
    fn headings(self) -> &'static [&'static str] {
        match self {
            Field::Username => &[
                "username",
                "networkusername",
                "login",
                "loginname",
                "logonname",
                "userid",
                "networklogin",
            ],
            Field::MisId => &[
                "upn",
                "uniquepupilnumber",
                "admissionnumber",
                "admissionno",
                "adno",
                "misid",
                "staffcode",
                "employeenumber",
                "payrollnumber",
                "pupilid",
                "studentid",
                "id",
            ],
            Field::GivenName => &[
                "preferredforename",
                "forename",
                "legalforename",
                "firstname",
                "givenname",
                "preferredfirstname",
                "knownas",
            ],
            Field::FamilyName => &[
                "preferredsurname",
                "surname",
                "legalsurname",
                "lastname",
                "familyname",
            ],
            Field::YearGroup => &[
                "yeargroup",
                "year",
                "ncyear",
                "currentncyear",
                "ncyearactual",
                "yr",
            ],
            Field::ClassGroup => &[
                "reggroup",
                "registrationgroup",
                "form",
                "class",
                "formgroup",
                "tutorgroup",
                "classgroup",
                "regform",
            ],
            Field::Email => &[
                "email",
                "primaryemail",
                "emailaddress",
                "schoolemail",
                "workemail",
                "pupilemail",
                "studentemail",
            ],
            Field::DateOfBirth => &["dateofbirth", "dob", "birthdate", "birthday"],
        }
    }
}

/// Which column (by position) holds each field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Mapping(pub HashMap<Field, usize>);

impl Mapping {
    pub fn column(&self, field: Field) -> Option<usize> {
        self.0.get(&field).copied()
    }
}

/// A problem with one row (the heading row is row 1): which row, which
/// column (the file's own heading, or the field's name), what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: usize,
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "row {}, {column}: {}", self.row, self.message),
            None => write!(f, "row {}: {}", self.row, self.message),
        }
    }
}

/// The file, read: its headings and its rows with their numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub headings: Vec<String>,
    /// Row number and fields; blank rows left out.
    pub rows: Vec<(usize, Vec<String>)>,
    /// `,`, `;` or a tab.
    pub delimiter: char,
    /// How the bytes were read: "UTF-8", "UTF-16" or "Windows-1252".
    pub encoding: &'static str,
}

/// Windows-1252's characters for 0x80–0x9F (the rest are Latin-1).
const CP1252: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

/// The text of the file (without a byte-order mark), and how it was read.
pub fn decode(bytes: &[u8]) -> (String, &'static str) {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return (String::from_utf8_lossy(rest).into_owned(), "UTF-8");
    }
    let utf16 = |rest: &[u8], little: bool| {
        let units = rest.chunks(2).map(|pair| {
            let (a, b) = (pair[0], pair.get(1).copied().unwrap_or(0));
            if little {
                u16::from_le_bytes([a, b])
            } else {
                u16::from_be_bytes([a, b])
            }
        });
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect::<String>()
    };
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return (utf16(rest, true), "UTF-16");
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return (utf16(rest, false), "UTF-16");
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), "UTF-8"),
        Err(_) => (
            bytes
                .iter()
                .map(|&b| match b {
                    0x80..=0x9F => CP1252[usize::from(b - 0x80)],
                    _ => char::from(b),
                })
                .collect(),
            "Windows-1252",
        ),
    }
}

/// The separator the heading row uses most, outside quotes.
fn sniff(text: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in text.trim_start_matches(['\r', '\n']).chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => break,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    [b',', b';', b'\t'][best]
}

/// Reads the file. The first row that is not blank holds the headings.
pub fn read(bytes: &[u8]) -> Result<Table, RowError> {
    if bytes.len() > UPLOAD_LIMIT {
        return Err(RowError {
            row: 1,
            column: None,
            message: format!(
                "the file is larger than {} MB; split it into smaller files",
                UPLOAD_LIMIT / (1024 * 1024)
            ),
        });
    }
    let (text, encoding) = decode(bytes);
    let delimiter = sniff(&text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut headings: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    // Line breaks inside quoted fields so far: a spreadsheet shows each
    // record as one row however many lines it spans.
    let mut inner_breaks: u64 = 0;
    let mut record = csv::StringRecord::new();
    let bytes = text.as_bytes();
    // The csv reader's position can point at the line break before a
    // record (after blank lines it skipped): step over breaks to the
    // record's first line, then take off the breaks inside earlier quoted
    // fields.
    let row_at = |position: &csv::Position, inner_breaks: u64| -> usize {
        let (mut line, mut at) = (position.line(), position.byte() as usize);
        while let Some(b'\r' | b'\n') = bytes.get(at) {
            if bytes[at] == b'\n' {
                line += 1;
            }
            at += 1;
        }
        usize::try_from(line.saturating_sub(inner_breaks).max(1)).unwrap_or(usize::MAX)
    };
    loop {
        let before = reader.position().clone();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(RowError {
                    row: row_at(&before, inner_breaks),
                    column: None,
                    message: format!(
                        "this row could not be read ({e}); check it in a spreadsheet and save the file as CSV again"
                    ),
                });
            }
        }
        let row = row_at(record.position().unwrap_or(&before), inner_breaks);
        let fields: Vec<String> = record.iter().map(|f| f.trim().to_owned()).collect();
        inner_breaks += record
            .iter()
            .map(|f| f.matches('\n').count() as u64)
            .sum::<u64>();
        if fields.iter().all(String::is_empty) {
            continue;
        }
        if headings.is_none() {
            headings = Some(fields);
            continue;
        }
        if rows.len() >= ROW_LIMIT {
            return Err(RowError {
                row,
                column: None,
                message: format!(
                    "the file has more than {ROW_LIMIT} rows, more than one school's roll; split it into smaller files"
                ),
            });
        }
        rows.push((row, fields));
    }
    let Some(headings) = headings else {
        return Err(RowError {
            row: 1,
            column: None,
            message: "the file is empty; export the list from your MIS as CSV and try again".into(),
        });
    };
    Ok(Table {
        headings,
        rows,
        delimiter: char::from(delimiter),
        encoding,
    })
}

fn normalise(heading: &str) -> String {
    heading
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Which column is which, from the headings; each column is used once.
pub fn guess(headings: &[String]) -> Mapping {
    let normal: Vec<String> = headings.iter().map(|h| normalise(h)).collect();
    let mut taken = BTreeSet::new();
    let mut mapping = HashMap::new();
    for field in Field::ALL {
        let found = field.headings().iter().find_map(|wanted| {
            normal
                .iter()
                .enumerate()
                .find(|(i, h)| h == wanted && !taken.contains(i))
                .map(|(i, _)| i)
        });
        if let Some(i) = found {
            taken.insert(i);
            mapping.insert(field, i);
        }
    }
    Mapping(mapping)
}

/// A year group, as stored and shown: "Nursery", "Reception", "Year 7".
pub fn parse_year(text: &str) -> Option<String> {
    let t: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '.' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect();
    match t.as_str() {
        "n" | "n1" | "n2" | "nur" | "nursery" | "fs1" | "yearn" => {
            return Some("Nursery".into());
        }
        "r" | "rec" | "reception" | "yr" | "yearr" | "yearreception" | "fs2" | "0" => {
            return Some("Reception".into());
        }
        _ => {}
    }
    let number = ["ncyear", "year", "yr", "y"]
        .iter()
        .find_map(|p| t.strip_prefix(p))
        .unwrap_or(&t);
    match number.parse::<u8>() {
        Ok(n @ 1..=13) if !number.starts_with('0') => Some(format!("Year {n}")),
        _ => None,
    }
}

/// The number of a "Year N" group; 0 for Reception and Nursery.
fn year_number(year: &str) -> u8 {
    year.strip_prefix("Year ")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// How people in this file get their profiles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProfileRules {
    /// Everyone in the file is a pupil, or everyone is staff.
    pub kind: PersonKind,
    /// The profile for Years 7 to 13.
    pub secondary: String,
}

impl ProfileRules {
    /// The profile for a pupil in `year` (or a member of staff).
    pub fn profile(&self, year: Option<&str>) -> String {
        if self.kind == PersonKind::Staff {
            return "staff".into();
        }
        match year.map(year_number) {
            Some(0..=2) | None => "eyfs-ks1".into(),
            Some(3..=6) => "ks2".into(),
            Some(_) => self.secondary.clone(),
        }
    }

    /// The profiles these rules can give, to check against the policy.
    pub fn profiles(&self) -> Vec<String> {
        match self.kind {
            PersonKind::Staff => vec!["staff".into()],
            PersonKind::Pupil => vec!["eyfs-ks1".into(), "ks2".into(), self.secondary.clone()],
        }
    }
}

/// The profile for Years 7 to 13 when nobody has chosen one: a secondary
/// profile if the policy has one, else `ks2`.
pub fn default_secondary(profiles: &[String]) -> String {
    ["ks3", "ks4", "ks3-ks4", "secondary", "ks5"]
        .iter()
        .find(|id| profiles.iter().any(|p| p == *id))
        .map_or_else(|| "ks2".to_owned(), |id| (*id).to_owned())
}

/// Where usernames come from in this file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UsernameSource {
    UsernameColumn,
    EmailLocalPart,
    MisId,
    Nowhere,
}

impl UsernameSource {
    pub fn describe(self) -> &'static str {
        match self {
            UsernameSource::UsernameColumn => "from the username column",
            UsernameSource::EmailLocalPart => {
                "from the email column: the part before the @, in lower case"
            }
            UsernameSource::MisId => "from the MIS identifier, in lower case",
            UsernameSource::Nowhere => "nowhere: choose a username, email or MIS identifier column",
        }
    }
}

/// The rows as people, and the rows that could not be used.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub people: Vec<(usize, ImportedPerson)>,
    pub errors: Vec<RowError>,
    /// Every username and MIS id the file names, even on rows with
    /// problems: nobody named in the file is offered as a leaver.
    pub named: BTreeSet<String>,
}

fn heading(table: &Table, mapping: &Mapping, field: Field) -> String {
    mapping
        .column(field)
        .and_then(|i| table.headings.get(i))
        .filter(|h| !h.is_empty())
        .cloned()
        .unwrap_or_else(|| field.label().to_owned())
}

pub fn username_source(mapping: &Mapping) -> UsernameSource {
    if mapping.column(Field::Username).is_some() {
        UsernameSource::UsernameColumn
    } else if mapping.column(Field::Email).is_some() {
        UsernameSource::EmailLocalPart
    } else if mapping.column(Field::MisId).is_some() {
        UsernameSource::MisId
    } else {
        UsernameSource::Nowhere
    }
}

/// A name that is only an initial ("J" or "J.").
fn is_initial(name: &str) -> bool {
    let letters: Vec<char> = name.chars().filter(|c| *c != '.').collect();
    letters.len() == 1
}

fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.contains(char::is_whitespace)
        && !domain.contains('@')
}

/// Checks every row and turns the good ones into people.
pub fn plan(table: &Table, mapping: &Mapping, rules: &ProfileRules) -> Plan {
    let mut out = Plan::default();
    let source = username_source(mapping);
    for (field, what) in [
        (Field::GivenName, "given names (forenames)"),
        (Field::FamilyName, "family names (surnames)"),
    ] {
        if mapping.column(field).is_none() {
            out.errors.push(RowError {
                row: 1,
                column: None,
                message: format!("no column is chosen for {what}; choose one in the mapping"),
            });
        }
    }
    if rules.kind == PersonKind::Pupil && mapping.column(Field::YearGroup).is_none() {
        out.errors.push(RowError {
            row: 1,
            column: None,
            message: "no column is chosen for year groups, which pupils' profiles come from; choose one in the mapping".into(),
        });
    }
    if source == UsernameSource::Nowhere {
        out.errors.push(RowError {
            row: 1,
            column: None,
            message: "no column gives usernames: choose a username, email or MIS identifier column in the mapping".into(),
        });
    }
    if !out.errors.is_empty() {
        return out;
    }
    let mut seen_usernames: HashMap<String, usize> = HashMap::new();
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    for (row, fields) in &table.rows {
        let row = *row;
        let mut errors = Vec::new();
        // Fields with unusable values: reported once, not again as empty.
        let mut bad = Vec::new();
        let mut get = |field: Field| -> Option<String> {
            let value = mapping
                .column(field)
                .and_then(|i| fields.get(i))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())?;
            if value.chars().count() > FIELD_LIMIT || value.chars().any(char::is_control) {
                errors.push(RowError {
                    row,
                    column: Some(heading(table, mapping, field)),
                    message: format!(
                        "this is not a usable value (longer than {FIELD_LIMIT} characters, or with line breaks or control characters)"
                    ),
                });
                bad.push(field);
                return None;
            }
            Some(value)
        };
        let given = get(Field::GivenName);
        let family = get(Field::FamilyName);
        let year_text = get(Field::YearGroup);
        let class_group = get(Field::ClassGroup);
        let email = get(Field::Email);
        let mis_id = get(Field::MisId);
        let username_text = get(Field::Username);
        let birth_text = get(Field::DateOfBirth);
        let err = |field: Field, message: String| RowError {
            row,
            column: Some(heading(table, mapping, field)),
            message,
        };
        for (field, value) in [(Field::GivenName, &given), (Field::FamilyName, &family)] {
            match value {
                None if bad.contains(&field) => {}
                None => errors.push(err(field, "empty; every person needs a full name".into())),
                Some(v) if is_initial(v) => errors.push(err(
                    field,
                    format!("'{v}' is an initial; give the full name"),
                )),
                Some(_) => {}
            }
        }
        let year_group = match (rules.kind, &year_text) {
            (PersonKind::Staff, _) => None,
            (PersonKind::Pupil, None) if bad.contains(&Field::YearGroup) => None,
            (PersonKind::Pupil, None) => {
                errors.push(err(
                    Field::YearGroup,
                    "empty; a pupil's profile comes from their year group".into(),
                ));
                None
            }
            (PersonKind::Pupil, Some(text)) => {
                let year = parse_year(text);
                if year.is_none() {
                    errors.push(err(
                        Field::YearGroup,
                        format!(
                            "'{text}' is not a year group; use Nursery, Reception or Year 1 to Year 13"
                        ),
                    ));
                }
                year
            }
        };
        if let Some(e) = &email
            && !valid_email(e)
        {
            errors.push(err(Field::Email, format!("'{e}' is not an email address")));
        }
        let date_of_birth = birth_text.as_deref().and_then(|text| {
            let date = parse_date_of_birth(text);
            if date.is_none() {
                errors.push(err(
                    Field::DateOfBirth,
                    format!("'{text}' is not a date of birth; write it as day/month/year, such as 23/04/2014"),
                ));
            }
            date
        });
        let (raw, from) = match source {
            UsernameSource::UsernameColumn => (username_text.clone(), Field::Username),
            UsernameSource::EmailLocalPart => (
                email
                    .as_deref()
                    .and_then(|e| e.split_once('@'))
                    .map(|(local, _)| local.to_owned()),
                Field::Email,
            ),
            _ => (mis_id.clone(), Field::MisId),
        };
        let username = raw.as_deref().map(|r| r.trim().to_lowercase());
        match &username {
            None if bad.contains(&from) => {}
            None => errors.push(err(
                from,
                "empty, so this person has no username; fill it in or choose another column for usernames".into(),
            )),
            Some(u) if !valid_username(u) => errors.push(err(
                from,
                format!(
                    "'{}' cannot be a username: use lower-case letters, digits, dots, hyphens or underscores, starting with a letter or digit",
                    raw.as_deref().unwrap_or_default()
                ),
            )),
            Some(u) => {
                out.named.insert(u.clone());
                if let Some(first) = seen_usernames.insert(u.clone(), row) {
                    errors.push(err(
                        from,
                        format!("'{u}' is also on row {first}; each person may appear once"),
                    ));
                    seen_usernames.insert(u.clone(), first);
                }
            }
        }
        if let Some(id) = &mis_id {
            out.named.insert(id.to_lowercase());
            if let Some(first) = seen_ids.insert(id.clone(), row) {
                errors.push(err(
                    Field::MisId,
                    format!("'{id}' is also on row {first}; each person may appear once"),
                ));
                seen_ids.insert(id.clone(), first);
            }
        }
        if !errors.is_empty() {
            out.errors.extend(errors);
            continue;
        }
        let (Some(username), Some(given_name), Some(family_name)) = (username, given, family)
        else {
            continue;
        };
        let profile = rules.profile(year_group.as_deref());
        out.people.push((
            row,
            ImportedPerson {
                username,
                mis_id,
                given_name,
                family_name,
                year_group,
                class_group,
                email,
                kind: rules.kind,
                date_of_birth,
                profile,
            },
        ));
    }
    out
}

/// A date of birth as MIS exports write it: UK day/month/year
/// (`23/04/2014`, `3/4/2014`) or ISO (`2014-04-23`). A year before 1900 or
/// two-digit years are refused: they are more likely a mistake than a pupil.
pub fn parse_date_of_birth(text: &str) -> Option<Date> {
    let text = text.trim();
    let (year, month, day) = if let Some((d, rest)) = text.split_once('/') {
        let (m, y) = rest.split_once('/')?;
        (y, m, d)
    } else {
        let mut parts = text.splitn(3, '-');
        let y = parts.next()?;
        let m = parts.next()?;
        (y, m, parts.next()?)
    };
    let number = |t: &str, max_len: usize| {
        (!t.is_empty() && t.len() <= max_len && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<i16>().ok())
            .flatten()
    };
    let year = number(year, 4).filter(|y| *y >= 1900)?;
    let month = i8::try_from(number(month, 2)?).ok()?;
    let day = i8::try_from(number(day, 2)?).ok()?;
    Date::new(year, month, day).ok()
}

/// One person the import will change, and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    pub row: usize,
    pub username: String,
    pub display_name: String,
    pub changes: Vec<String>,
    /// Their profile was set by hand and stays.
    pub profile_kept: bool,
    /// They are disabled (a leaver) and stay so.
    pub disabled: bool,
}

/// What confirming would do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Preview {
    pub added: Vec<(usize, ImportedPerson)>,
    pub changed: Vec<Change>,
    pub unchanged: usize,
    /// Active people of the file's kind that it does not name: offered as
    /// leavers after a full import, never disabled by themselves.
    pub leavers: Vec<PersonRecord>,
}

/// The plan against the people already stored.
pub fn compare(plan: &Plan, existing: &[PersonRecord], kind: PersonKind) -> Preview {
    let by_name: HashMap<&str, &PersonRecord> =
        existing.iter().map(|p| (p.username.as_str(), p)).collect();
    let mut preview = Preview::default();
    for (row, p) in &plan.people {
        let Some(before) = by_name.get(p.username.as_str()) else {
            preview.added.push((*row, p.clone()));
            continue;
        };
        let after = before.merged_with(p);
        let changes = before.differences(&after);
        let profile_kept = before.profile_set_by_hand && before.profile != p.profile;
        if changes.is_empty() {
            preview.unchanged += 1;
        } else {
            preview.changed.push(Change {
                row: *row,
                username: p.username.clone(),
                display_name: after.display_name.clone(),
                changes,
                profile_kept,
                disabled: before.disabled,
            });
        }
    }
    preview.leavers = existing
        .iter()
        .filter(|p| !p.disabled && p.kind == kind)
        .filter(|p| {
            !plan.named.contains(&p.username)
                && !p
                    .mis_id
                    .as_ref()
                    .is_some_and(|id| plan.named.contains(&id.to_lowercase()))
        })
        .cloned()
        .collect();
    preview
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> ProfileRules {
        ProfileRules {
            kind: PersonKind::Pupil,
            secondary: "ks2".into(),
        }
    }

    fn planned(csv: &str) -> Plan {
        let table = read(csv.as_bytes()).expect("read");
        let mapping = guess(&table.headings);
        plan(&table, &mapping, &rules())
    }

    #[test]
    fn sims_headings_are_recognised() {
        let headings: Vec<String> = [
            "UPN",
            "Admission Number",
            "Legal Forename",
            "Preferred Forename",
            "Legal Surname",
            "NC Year",
            "Reg Group",
            "Primary Email",
        ]
        .map(str::to_owned)
        .to_vec();
        let m = guess(&headings);
        assert_eq!(m.column(Field::MisId), Some(0));
        assert_eq!(m.column(Field::GivenName), Some(3));
        assert_eq!(m.column(Field::FamilyName), Some(4));
        assert_eq!(m.column(Field::YearGroup), Some(5));
        assert_eq!(m.column(Field::ClassGroup), Some(6));
        assert_eq!(m.column(Field::Email), Some(7));
        assert_eq!(m.column(Field::Username), None);
        assert_eq!(username_source(&m), UsernameSource::EmailLocalPart);
    }

    #[test]
    fn year_groups_in_the_ways_schools_write_them() {
        for (text, year) in [
            ("Reception", "Reception"),
            ("R", "Reception"),
            ("YR", "Reception"),
            ("N1", "Nursery"),
            ("Year 1", "Year 1"),
            ("Y6", "Year 6"),
            ("Yr 11", "Year 11"),
            ("7", "Year 7"),
            ("13", "Year 13"),
        ] {
            assert_eq!(parse_year(text).as_deref(), Some(year), "{text}");
        }
        for bad in [
            "Yr 15",
            "14",
            "",
            "Year",
            "07",
            "Year 1A",
            "Reception class",
        ] {
            assert_eq!(parse_year(bad), None, "{bad}");
        }
        let r = rules();
        assert_eq!(r.profile(Some("Reception")), "eyfs-ks1");
        assert_eq!(r.profile(Some("Year 2")), "eyfs-ks1");
        assert_eq!(r.profile(Some("Year 3")), "ks2");
        assert_eq!(r.profile(Some("Year 6")), "ks2");
        let secondary = ProfileRules {
            secondary: "ks3".into(),
            ..r
        };
        assert_eq!(secondary.profile(Some("Year 9")), "ks3");
        assert_eq!(default_secondary(&["ks2".into(), "ks3".into()]), "ks3");
        assert_eq!(default_secondary(&["ks2".into()]), "ks2");
    }

    #[test]
    fn bom_crlf_semicolons_quotes_and_blank_lines() {
        let csv = "\u{feff}Forename;Surname;Year;Email\r\n\r\nAda;\"Lovelace; Byron\";Year 5;ada@school.example\r\n;;;\r\n\"Mary\nAnne\";Evans;Y4;mae@school.example\r\n\"Alan\";Turing;Yr 15;alan@school.example\r\n";
        let table = read(csv.as_bytes()).expect("read");
        assert_eq!(table.delimiter, ';');
        assert_eq!(table.headings, ["Forename", "Surname", "Year", "Email"]);
        assert_eq!(table.rows.len(), 3);
        // Rows as a spreadsheet numbers them: the blank line is row 2.
        assert_eq!(table.rows[0].0, 3);
        assert_eq!(table.rows[1].0, 5);
        assert_eq!(table.rows[2].0, 6);
        let plan = plan(&table, &guess(&table.headings), &rules());
        assert_eq!(plan.people.len(), 1, "{:?}", plan.errors);
        assert_eq!(plan.people[0].1.family_name, "Lovelace; Byron");
        assert_eq!(plan.people[0].1.username, "ada");
        assert_eq!(plan.errors.len(), 2, "{:?}", plan.errors);
        assert_eq!(
            plan.errors[0].to_string(),
            "row 5, Forename: this is not a usable value (longer than 200 characters, or with line breaks or control characters)"
        );
        assert_eq!(
            plan.errors[1].to_string(),
            "row 6, Year: 'Yr 15' is not a year group; use Nursery, Reception or Year 1 to Year 13"
        );
    }

    #[test]
    fn windows_1252_and_utf16_files_are_read() {
        let bytes = b"Forename,Surname,Year,UPN\nZo\xEB,Br\xE9ton,Year 3,A1\n";
        let table = read(bytes).expect("read");
        assert_eq!(table.encoding, "Windows-1252");
        assert_eq!(table.rows[0].1[0], "Zoë");
        let text = "Forename\tSurname\tYear\tUPN\r\nZoë\tBréton\tYear 3\tA1\r\n";
        let mut bytes = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let table = read(&bytes).expect("read");
        assert_eq!(table.encoding, "UTF-16");
        assert_eq!(table.delimiter, '\t');
        assert_eq!(table.rows[0].1[1], "Bréton");
        let plan = plan(&table, &guess(&table.headings), &rules());
        assert_eq!(plan.people[0].1.username, "a1");
    }

    #[test]
    fn dates_of_birth_in_uk_and_iso_form_and_a_bad_one_named_by_row_and_column() {
        let plan = planned(
            "Forename,Surname,Year,Email,Date of Birth\nAda,Lovelace,Year 5,ada@s.example,10/12/2015\nAlan,Turing,Year 5,alan@s.example,2015-06-23\nMary,Somerville,Year 5,mary@s.example,31/02/2015\nGrace,Hopper,Year 5,grace@s.example,\n",
        );
        let errors: Vec<String> = plan.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            [
                "row 4, Date of Birth: '31/02/2015' is not a date of birth; write it as day/month/year, such as 23/04/2014"
            ]
        );
        let born: Vec<Option<String>> = plan
            .people
            .iter()
            .map(|(_, p)| p.date_of_birth.map(|d| d.to_string()))
            .collect();
        assert_eq!(
            born,
            [Some("2015-12-10".into()), Some("2015-06-23".into()), None]
        );
        let m = guess(&["DOB".to_owned()]);
        assert_eq!(m.column(Field::DateOfBirth), Some(0));
        for bad in [
            "12/2015",
            "10/12/15",
            "2015-13-01",
            "1/1/1850",
            "ten/12/2015",
        ] {
            assert_eq!(parse_date_of_birth(bad), None, "{bad}");
        }
        assert_eq!(
            parse_date_of_birth("3/4/2014").map(|d| d.to_string()),
            Some("2014-04-03".into())
        );
    }

    #[test]
    fn duplicates_name_both_rows_and_initials_are_refused() {
        let plan = planned(
            "Forename,Surname,Year,Email\nAda,Lovelace,Year 5,ada@s.example\nJ,Smith,Year 5,js@s.example\nAda,Byron,Year 5,ADA@s.example\n",
        );
        let errors: Vec<String> = plan.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            [
                "row 3, Forename: 'J' is an initial; give the full name",
                "row 4, Email: 'ada' is also on row 2; each person may appear once",
            ]
        );
        assert_eq!(plan.people.len(), 1);
    }

    #[test]
    fn a_file_without_names_says_so_on_the_heading_row() {
        let plan = planned("Colour,Shape\nred,round\n");
        assert!(plan.people.is_empty());
        assert!(plan.errors.iter().all(|e| e.row == 1));
        assert!(
            plan.errors[0]
                .to_string()
                .contains("no column is chosen for given names")
        );
        assert_eq!(read(b"\r\n\r\n").expect_err("empty").row, 1);
    }

    #[test]
    fn usernames_come_from_the_best_column_there_is() {
        let plan =
            planned("Username,Forename,Surname,Year,UPN\nA.Lovelace,Ada,Lovelace,Year 5,A123\n");
        assert_eq!(plan.people[0].1.username, "a.lovelace");
        let plan = planned("Forename,Surname,Year,UPN\nAda,Lovelace,Year 5,A123\n");
        assert_eq!(plan.people[0].1.username, "a123");
        let plan = planned("Forename,Surname,Year,UPN\nAda,Lovelace,Year 5,A 123\n");
        assert_eq!(
            plan.errors[0].to_string(),
            "row 2, UPN: 'A 123' cannot be a username: use lower-case letters, digits, dots, hyphens or underscores, starting with a letter or digit"
        );
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        fn mapping_from(columns: &[Option<usize>]) -> Mapping {
            Mapping(
                Field::ALL
                    .iter()
                    .zip(columns)
                    .filter_map(|(f, c)| c.map(|c| (*f, c)))
                    .collect(),
            )
        }

        fn check(bytes: &[u8], columns: Option<&[Option<usize>]>, kind: PersonKind) {
            let table = match read(bytes) {
                Ok(table) => table,
                Err(e) => {
                    assert!(e.row >= 1);
                    assert!(e.to_string().starts_with(&format!("row {}", e.row)));
                    return;
                }
            };
            let mapping = columns.map_or_else(|| guess(&table.headings), mapping_from);
            let rules = ProfileRules {
                kind,
                secondary: "ks2".into(),
            };
            let plan = plan(&table, &mapping, &rules);
            let rows: BTreeSet<usize> = table.rows.iter().map(|(r, _)| *r).collect();
            for e in &plan.errors {
                assert!(e.row >= 1, "{e}");
                assert!(
                    e.row == 1 || rows.contains(&e.row),
                    "{e} names no row of the file"
                );
                assert!(e.to_string().starts_with(&format!("row {}", e.row)), "{e}");
            }
            for (row, p) in &plan.people {
                assert!(rows.contains(row));
                assert!(valid_username(&p.username), "{}", p.username);
                assert!(!p.given_name.is_empty() && !p.family_name.is_empty());
            }
            let _ = compare(&plan, &[], kind);
        }

        proptest! {
            #[test]
            fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
                check(&bytes, None, PersonKind::Pupil);
            }

            #[test]
            fn csv_like_text_with_any_mapping_never_panics(
                body in "[A-Za-z0-9 ,;\t\"\r\n@.%é-]{0,600}",
                columns in proptest::collection::vec(proptest::option::of(0usize..9), 7),
                staff in any::<bool>(),
            ) {
                let kind = if staff { PersonKind::Staff } else { PersonKind::Pupil };
                let text = format!("Forename,Surname,Year,Reg Group,Email,UPN,Username\n{body}");
                check(text.as_bytes(), None, kind);
                check(text.as_bytes(), Some(&columns), kind);
                check(body.as_bytes(), Some(&columns), kind);
            }
        }
    }
}
