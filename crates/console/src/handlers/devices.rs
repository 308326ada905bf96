//! The device registry (a name for an address or range: type, owner,
//! school-owned or personal) and networks (address ranges and the profile
//! for anyone on them not otherwise identified, such as guest Wi-Fi), for
//! administrators and technicians. Addresses are checked here with a clear
//! message; profiles must exist in the policy in force.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use ipnet::IpNet;
use minijinja::context;
use minijinja::value::Serde;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use store::{Device, Network, Store, StoreError};

use super::people::{profiles, segment, unknown_profile};
use super::{Done, see_other};
use crate::access::Caller;
use crate::csrf::CsrfKey;
use crate::pages::{Layout, render};
use crate::{AppError, Console};

/// `10.0.5.17` as a one-address range, `10.0.5.0/24` as itself (host bits
/// cleared), as the gate reads them.
pub fn parse_range(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .map(|n| n.trunc())
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

fn check_name(what: &str, name: &str) -> Option<String> {
    let name = name.trim();
    (name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control)).then(
        || format!("Give the {what} a name of 1 to 100 characters, such as \"IT suite PC 07\"."),
    )
}

/// A device as a form or the API gives it.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct DeviceForm {
    #[serde(default)]
    pub name: String,
    /// Laptop, tablet, desktop, phone …
    #[serde(default)]
    pub kind: String,
    /// One address (`10.0.5.17`) or a range (`10.0.5.0/24`).
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub owner: String,
    /// `yes` from the form's checkbox; the API sends `school_owned`.
    #[serde(default)]
    pub school_owned: Option<String>,
}

/// Checks a device; the errors name the field.
pub fn check_device(form: &DeviceForm) -> Result<Device, Vec<(&'static str, String)>> {
    let mut errors = Vec::new();
    if let Some(e) = check_name("device", &form.name) {
        errors.push(("name", e));
    }
    let range = parse_range(&form.address);
    if range.is_none() {
        errors.push((
            "address",
            if form.address.trim().is_empty() {
                "Enter the device's IP address, such as 10.0.5.17, or a range such as 10.0.5.0/24."
                    .to_owned()
            } else {
                format!(
                    "'{}' is not an IP address or range. Write it like 10.0.5.17 or 10.0.5.0/24.",
                    form.address.trim()
                )
            },
        ));
    }
    for (field, value) in [("kind", &form.kind), ("owner", &form.owner)] {
        if value.chars().count() > 200 || value.chars().any(char::is_control) {
            errors.push((
                field,
                "Keep this to one line of at most 200 characters.".to_owned(),
            ));
        }
    }
    match range {
        Some(range) if errors.is_empty() => Ok(Device {
            name: form.name.trim().to_owned(),
            kind: form.kind.trim().to_owned(),
            address: range.to_string(),
            owner: form.owner.trim().to_owned(),
            school_owned: form
                .school_owned
                .as_deref()
                .is_some_and(|v| matches!(v, "yes" | "true" | "on")),
        }),
        _ => Err(errors),
    }
}

/// A network as a form gives it.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct NetworkForm {
    #[serde(default)]
    pub name: String,
    /// Ranges separated by commas, spaces or new lines.
    #[serde(default)]
    pub ranges: String,
    #[serde(default)]
    pub profile: String,
}

/// Checks a network against the profiles in force.
pub fn check_network(
    name: &str,
    ranges: &[String],
    profile: &str,
    profiles: &[(String, String)],
) -> Result<Network, Vec<(&'static str, String)>> {
    let mut errors = Vec::new();
    if let Some(e) = check_name("network", name) {
        errors.push(("name", e));
    }
    let mut parsed = Vec::new();
    let mut bad = Vec::new();
    for r in ranges.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
        match parse_range(r) {
            Some(range) => parsed.push(range.to_string()),
            None => bad.push(format!("'{r}'")),
        }
    }
    if !bad.is_empty() {
        errors.push((
            "ranges",
            format!(
                "{} {} not an address range. Write ranges like 10.20.0.0/16, one per line.",
                bad.join(", "),
                if bad.len() == 1 { "is" } else { "are" }
            ),
        ));
    } else if parsed.is_empty() {
        errors.push((
            "ranges",
            "Enter at least one address range, such as 10.20.0.0/16.".to_owned(),
        ));
    }
    if let Some(problem) = unknown_profile(profiles, profile.trim()) {
        errors.push(("profile", problem));
    }
    if errors.is_empty() {
        Ok(Network {
            name: name.trim().to_owned(),
            ranges: parsed,
            profile: profile.trim().to_owned(),
        })
    } else {
        Err(errors)
    }
}

fn split_ranges(text: &str) -> Vec<String> {
    text.split([',', '\n', '\r', ' ', '\t'])
        .filter(|r| !r.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

type FieldErrors = Vec<(&'static str, String)>;

/// A device for `POST /api/v1/devices`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceIn {
    pub name: String,
    #[serde(default)]
    pub kind: String,
    pub address: String,
    #[serde(default)]
    pub owner: String,
    pub school_owned: bool,
}

/// A network for `POST /api/v1/networks`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkIn {
    pub name: String,
    pub ranges: Vec<String>,
    pub profile: String,
}

/// What the pages need to know of devices and of networks, so one set of
/// handlers (list and add, edit, remove) serves both.
pub trait Entry: Serialize + Sized + Send + Sync + 'static {
    type Form: Serialize + DeserializeOwned + Default + Send + Sync + 'static;
    /// What the API's POST takes.
    type Input: DeserializeOwned + Send + 'static;
    fn from_input(input: Self::Input) -> Self::Form;
    /// `/devices`: the list, and the parent of each entry's page.
    const PATH: &'static str;
    const NOUN: &'static str;
    /// The list's title ("Devices") and one entry's ("Device").
    const TITLES: (&'static str, &'static str);
    const TEMPLATE: &'static str;
    fn name(&self) -> &str;
    fn form_name(form: &Self::Form) -> &str;
    fn set_form_name(form: &mut Self::Form, name: String);
    /// The add form as it starts.
    fn blank() -> Self::Form;
    fn to_form(self) -> Self::Form;
    fn check(form: &Self::Form, profiles: &[(String, String)]) -> Result<Self, FieldErrors>;
    fn all<S: Store>(store: &S) -> impl Future<Output = Result<Vec<Self>, StoreError>> + Send;
    fn save<S: Store>(
        &self,
        store: &S,
        actor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn remove<S: Store>(
        store: &S,
        name: &str,
        actor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl Entry for Device {
    type Form = DeviceForm;
    type Input = DeviceIn;
    fn from_input(d: DeviceIn) -> DeviceForm {
        DeviceForm {
            name: d.name,
            kind: d.kind,
            address: d.address,
            owner: d.owner,
            school_owned: d.school_owned.then(|| "yes".to_owned()),
        }
    }
    const PATH: &'static str = "/devices";
    const NOUN: &'static str = "device";
    const TITLES: (&'static str, &'static str) = ("Devices", "Device");
    const TEMPLATE: &'static str = "devices.html";
    fn name(&self) -> &str {
        &self.name
    }
    fn form_name(form: &DeviceForm) -> &str {
        &form.name
    }
    fn set_form_name(form: &mut DeviceForm, name: String) {
        form.name = name;
    }
    fn blank() -> DeviceForm {
        DeviceForm {
            school_owned: Some("yes".into()),
            ..DeviceForm::default()
        }
    }
    fn to_form(self) -> DeviceForm {
        DeviceForm {
            name: self.name,
            kind: self.kind,
            address: self.address,
            owner: self.owner,
            school_owned: self.school_owned.then(|| "yes".to_owned()),
        }
    }
    fn check(form: &DeviceForm, _: &[(String, String)]) -> Result<Device, FieldErrors> {
        check_device(form)
    }
    fn all<S: Store>(store: &S) -> impl Future<Output = Result<Vec<Device>, StoreError>> + Send {
        store.devices()
    }
    fn save<S: Store>(
        &self,
        store: &S,
        actor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        store.save_device(self, actor)
    }
    fn remove<S: Store>(
        store: &S,
        name: &str,
        actor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        store.remove_device(name, actor)
    }
}

impl Entry for Network {
    type Form = NetworkForm;
    type Input = NetworkIn;
    fn from_input(n: NetworkIn) -> NetworkForm {
        NetworkForm {
            name: n.name,
            ranges: n.ranges.join("\n"),
            profile: n.profile,
        }
    }
    const PATH: &'static str = "/networks";
    const NOUN: &'static str = "network";
    const TITLES: (&'static str, &'static str) = ("Networks", "Network");
    const TEMPLATE: &'static str = "networks.html";
    fn name(&self) -> &str {
        &self.name
    }
    fn form_name(form: &NetworkForm) -> &str {
        &form.name
    }
    fn set_form_name(form: &mut NetworkForm, name: String) {
        form.name = name;
    }
    fn blank() -> NetworkForm {
        NetworkForm {
            profile: "guest".into(),
            ..NetworkForm::default()
        }
    }
    fn to_form(self) -> NetworkForm {
        NetworkForm {
            name: self.name,
            ranges: self.ranges.join("\n"),
            profile: self.profile,
        }
    }
    fn check(form: &NetworkForm, profiles: &[(String, String)]) -> Result<Network, FieldErrors> {
        check_network(
            &form.name,
            &split_ranges(&form.ranges),
            &form.profile,
            profiles,
        )
    }
    fn all<S: Store>(store: &S) -> impl Future<Output = Result<Vec<Network>, StoreError>> + Send {
        store.networks()
    }
    fn save<S: Store>(
        &self,
        store: &S,
        actor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        store.save_network(self, actor)
    }
    fn remove<S: Store>(
        store: &S,
        name: &str,
        actor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        store.remove_network(name, actor)
    }
}

#[derive(Serialize)]
struct Row<'a, E> {
    href: String,
    item: &'a E,
}

/// What a page shows besides its form.
struct Shown<'a> {
    editing: bool,
    errors: &'a [(&'static str, String)],
    status: StatusCode,
    notice: Option<&'static str>,
}

async fn page<S: Store, E: Entry>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    form: &E::Form,
    shown: Shown<'_>,
) -> Result<Response, AppError> {
    let items = E::all(&console.store).await?;
    let rows: Vec<Row<'_, E>> = items
        .iter()
        .map(|item| Row {
            href: format!("{}/{}", E::PATH, segment(item.name())),
            item,
        })
        .collect();
    let profiles: Vec<minijinja::Value> = profiles(console)
        .await?
        .into_iter()
        .map(|(id, name)| context! { id => id, name => name })
        .collect();
    let title = if shown.editing {
        format!("{} {}", E::TITLES.1, E::form_name(form))
    } else {
        E::TITLES.0.to_owned()
    };
    let layout = Layout::new(console, Some(caller), csrf, &title, E::PATH).notice(shown.notice);
    let action = if shown.editing {
        format!("{}/{}", E::PATH, segment(E::form_name(form)))
    } else {
        E::PATH.to_owned()
    };
    let body = render(
        E::TEMPLATE,
        &layout,
        context! {
            editing => shown.editing,
            items => Serde(&rows),
            profiles => profiles,
            form => Serde(form),
            action => action,
            errors => super::form_errors(shown.errors),
        },
    )?;
    Ok((shown.status, Html(body)).into_response())
}

/// The list, with the form to add one.
pub async fn list<S: Store, E: Entry>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    let shown = Shown {
        editing: false,
        errors: &[],
        status: StatusCode::OK,
        notice: done.notice(),
    };
    page::<S, E>(&console, &caller, &csrf, &E::blank(), shown).await
}

async fn save<S: Store, E: Entry>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    form: E::Form,
    editing: bool,
) -> Result<Response, AppError> {
    let profiles = profiles(console).await?;
    let mut result = E::check(&form, &profiles);
    if !editing
        && let Ok(entry) = &result
        && E::all(&console.store)
            .await?
            .iter()
            .any(|e| e.name() == entry.name())
    {
        result = Err(vec![(
            "name",
            format!(
                "There is already a {} called '{}'. Choose another name, or edit that one.",
                E::NOUN,
                entry.name()
            ),
        )]);
    }
    match result {
        Ok(entry) => {
            entry.save(&console.store, caller.username()).await?;
            Ok(see_other(
                &format!("{}?done={}-saved", E::PATH, E::NOUN),
                &[],
            ))
        }
        Err(errors) => {
            let shown = Shown {
                editing,
                errors: &errors,
                status: StatusCode::BAD_REQUEST,
                notice: None,
            };
            page::<S, E>(console, caller, csrf, &form, shown).await
        }
    }
}

pub async fn add<S: Store, E: Entry>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<E::Form>,
) -> Result<Response, AppError> {
    save::<S, E>(&console, &caller, &csrf, form, false).await
}

async fn find<S: Store, E: Entry>(console: &Console<S>, name: &str) -> Result<E, AppError> {
    E::all(&console.store)
        .await?
        .into_iter()
        .find(|e| e.name() == name)
        .ok_or_else(AppError::not_found)
}

/// One entry's page, to edit it.
pub async fn one<S: Store, E: Entry>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let form = find::<S, E>(&console, &name).await?.to_form();
    let shown = Shown {
        editing: true,
        errors: &[],
        status: StatusCode::OK,
        notice: None,
    };
    page::<S, E>(&console, &caller, &csrf, &form, shown).await
}

pub async fn edit<S: Store, E: Entry>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(name): Path<String>,
    Form(mut form): Form<E::Form>,
) -> Result<Response, AppError> {
    let existing = find::<S, E>(&console, &name).await?;
    // The name is the entry's key: it is not changed here.
    E::set_form_name(&mut form, existing.name().to_owned());
    save::<S, E>(&console, &caller, &csrf, form, true).await
}

pub async fn remove<S: Store, E: Entry>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    E::remove(&console.store, &name, caller.username()).await?;
    Ok(see_other(
        &format!("{}?done={}-removed", E::PATH, E::NOUN),
        &[],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_ranges_are_checked() {
        assert_eq!(
            parse_range("10.0.5.17").map(|r| r.to_string()).as_deref(),
            Some("10.0.5.17/32")
        );
        assert_eq!(
            parse_range(" 10.0.5.9/24 ")
                .map(|r| r.to_string())
                .as_deref(),
            Some("10.0.5.0/24")
        );
        assert!(parse_range("fd00::/64").is_some());
        for bad in ["", "10.0.5", "10.0.5.0/33", "laptop", "10.0.0.0/8/1"] {
            assert!(parse_range(bad).is_none(), "{bad}");
        }
        let profiles = vec![("guest".to_owned(), "Guests".to_owned())];
        let errors = check_network(
            "Guest Wi-Fi",
            &["10.50.0.0/16".into(), "10.51.0/24".into()],
            "nope",
            &profiles,
        )
        .expect_err("bad");
        assert_eq!(errors[0].0, "ranges");
        assert!(
            errors[0].1.contains("'10.51.0/24' is not an address range"),
            "{}",
            errors[0].1
        );
        assert_eq!(errors[1].0, "profile");
        assert!(errors[1].1.contains("guest"), "{}", errors[1].1);
        let ok = check_network("Guest Wi-Fi", &["10.50.1.1/16".into()], "guest", &profiles)
            .expect("good");
        assert_eq!(ok.ranges, ["10.50.0.0/16"]);
    }
}
