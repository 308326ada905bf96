//! The device registry (a name for an address or range: type, owner,
//! school-owned or personal) and networks (address ranges and the profile
//! for anyone on them not otherwise identified, such as guest Wi-Fi), for
//! administrators and technicians. Addresses are checked here with a clear
//! message; profiles must exist in the policy in force.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use ipnet::IpNet;
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};
use store::{Device, Network, Store};

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

#[derive(Serialize)]
struct DeviceRow {
    href: String,
    device: Device,
}

#[allow(clippy::too_many_arguments)]
async fn devices_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    form: &DeviceForm,
    editing: bool,
    errors: &[(&str, String)],
    status: StatusCode,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    let devices: Vec<DeviceRow> = console
        .store
        .devices()
        .await?
        .into_iter()
        .map(|device| DeviceRow {
            href: format!("/devices/{}", segment(&device.name)),
            device,
        })
        .collect();
    let title = if editing {
        format!("Device {}", form.name)
    } else {
        "Devices".to_owned()
    };
    let layout = Layout::new(console, Some(caller), csrf, &title, "/devices").notice(notice);
    let body = render(
        "devices.html",
        &layout,
        context! {
            editing => editing,
            devices => Serde(&devices),
            form => Serde(form),
            school_owned => form.school_owned.is_some(),
            action => if editing { format!("/devices/{}", segment(&form.name)) } else { "/devices".to_owned() },
            errors => super::form_errors(errors),
        },
    )?;
    Ok((status, Html(body)).into_response())
}

pub async fn devices<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    let form = DeviceForm {
        school_owned: Some("yes".into()),
        ..DeviceForm::default()
    };
    devices_page(
        &console,
        &caller,
        &csrf,
        &form,
        false,
        &[],
        StatusCode::OK,
        done.notice(),
    )
    .await
}

async fn save_device<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    form: DeviceForm,
    editing: bool,
) -> Result<Response, AppError> {
    let mut result = check_device(&form);
    if !editing
        && let Ok(device) = &result
        && console
            .store
            .devices()
            .await?
            .iter()
            .any(|d| d.name == device.name)
    {
        result = Err(vec![(
            "name",
            format!(
                "There is already a device called '{}'. Choose another name, or edit that one.",
                device.name
            ),
        )]);
    }
    match result {
        Ok(device) => {
            console
                .store
                .save_device(&device, caller.username())
                .await?;
            Ok(see_other("/devices?done=device-saved", &[]))
        }
        Err(errors) => {
            devices_page(
                console,
                caller,
                csrf,
                &form,
                editing,
                &errors,
                StatusCode::BAD_REQUEST,
                None,
            )
            .await
        }
    }
}

pub async fn add_device<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<DeviceForm>,
) -> Result<Response, AppError> {
    save_device(&console, &caller, &csrf, form, false).await
}

async fn find_device<S: Store>(console: &Console<S>, name: &str) -> Result<Device, AppError> {
    console
        .store
        .devices()
        .await?
        .into_iter()
        .find(|d| d.name == name)
        .ok_or_else(AppError::not_found)
}

pub async fn device<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let d = find_device(&console, &name).await?;
    let form = DeviceForm {
        name: d.name,
        kind: d.kind,
        address: d.address,
        owner: d.owner,
        school_owned: d.school_owned.then(|| "yes".to_owned()),
    };
    devices_page(
        &console,
        &caller,
        &csrf,
        &form,
        true,
        &[],
        StatusCode::OK,
        None,
    )
    .await
}

pub async fn edit_device<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(name): Path<String>,
    Form(mut form): Form<DeviceForm>,
) -> Result<Response, AppError> {
    let existing = find_device(&console, &name).await?;
    // The name is the device's key: it is not changed here.
    form.name = existing.name;
    save_device(&console, &caller, &csrf, form, true).await
}

pub async fn remove_device<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    console
        .store
        .remove_device(&name, caller.username())
        .await?;
    Ok(see_other("/devices?done=device-removed", &[]))
}

#[derive(Serialize)]
struct NetworkRow {
    href: String,
    network: Network,
}

#[allow(clippy::too_many_arguments)]
async fn networks_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    form: &NetworkForm,
    editing: bool,
    errors: &[(&str, String)],
    status: StatusCode,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    let networks: Vec<NetworkRow> = console
        .store
        .networks()
        .await?
        .into_iter()
        .map(|network| NetworkRow {
            href: format!("/networks/{}", segment(&network.name)),
            network,
        })
        .collect();
    let profiles: Vec<minijinja::Value> = profiles(console)
        .await?
        .into_iter()
        .map(|(id, name)| context! { id => id, name => name })
        .collect();
    let title = if editing {
        format!("Network {}", form.name)
    } else {
        "Networks".to_owned()
    };
    let layout = Layout::new(console, Some(caller), csrf, &title, "/networks").notice(notice);
    let body = render(
        "networks.html",
        &layout,
        context! {
            editing => editing,
            networks => Serde(&networks),
            profiles => profiles,
            form => Serde(form),
            action => if editing { format!("/networks/{}", segment(&form.name)) } else { "/networks".to_owned() },
            errors => super::form_errors(errors),
        },
    )?;
    Ok((status, Html(body)).into_response())
}

pub async fn networks<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    let form = NetworkForm {
        profile: "guest".into(),
        ..NetworkForm::default()
    };
    networks_page(
        &console,
        &caller,
        &csrf,
        &form,
        false,
        &[],
        StatusCode::OK,
        done.notice(),
    )
    .await
}

async fn save_network<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    form: NetworkForm,
    editing: bool,
) -> Result<Response, AppError> {
    let profiles = profiles(console).await?;
    let mut result = check_network(
        &form.name,
        &split_ranges(&form.ranges),
        &form.profile,
        &profiles,
    );
    if !editing
        && let Ok(network) = &result
        && console
            .store
            .networks()
            .await?
            .iter()
            .any(|n| n.name == network.name)
    {
        result = Err(vec![(
            "name",
            format!(
                "There is already a network called '{}'. Choose another name, or edit that one.",
                network.name
            ),
        )]);
    }
    match result {
        Ok(network) => {
            console
                .store
                .save_network(&network, caller.username())
                .await?;
            Ok(see_other("/networks?done=network-saved", &[]))
        }
        Err(errors) => {
            networks_page(
                console,
                caller,
                csrf,
                &form,
                editing,
                &errors,
                StatusCode::BAD_REQUEST,
                None,
            )
            .await
        }
    }
}

pub async fn add_network<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<NetworkForm>,
) -> Result<Response, AppError> {
    save_network(&console, &caller, &csrf, form, false).await
}

async fn find_network<S: Store>(console: &Console<S>, name: &str) -> Result<Network, AppError> {
    console
        .store
        .networks()
        .await?
        .into_iter()
        .find(|n| n.name == name)
        .ok_or_else(AppError::not_found)
}

pub async fn network<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let n = find_network(&console, &name).await?;
    let form = NetworkForm {
        name: n.name,
        ranges: n.ranges.join("\n"),
        profile: n.profile,
    };
    networks_page(
        &console,
        &caller,
        &csrf,
        &form,
        true,
        &[],
        StatusCode::OK,
        None,
    )
    .await
}

pub async fn edit_network<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(name): Path<String>,
    Form(mut form): Form<NetworkForm>,
) -> Result<Response, AppError> {
    let existing = find_network(&console, &name).await?;
    form.name = existing.name;
    save_network(&console, &caller, &csrf, form, true).await
}

pub async fn remove_network<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    console
        .store
        .remove_network(&name, caller.username())
        .await?;
    Ok(see_other("/networks?done=network-removed", &[]))
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
