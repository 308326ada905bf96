//! Who is behind an address at a given time (DESIGN C5).
//!
//! The profile is chosen in this order: the person's own profile (from proxy
//! sign-in or a login-agent session), else the profile of the network the
//! address is on (a guest Wi-Fi range gets `guest`), else the profile for
//! people schoolgate cannot identify, which is the strictest pupil profile.
//! The device is the one the session names, else the most specific entry of
//! the device registry that holds the address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use jiff::Timestamp;
use store::{Device, Network, Person};

/// Why a profile was chosen, for the activity log and explanations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Basis {
    /// The person's own profile.
    Person,
    /// The network the address is on.
    Network(Arc<str>),
    /// Nobody could be identified: the strictest pupil profile.
    Unidentified,
}

/// Who is asking, as far as schoolgate can tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Who {
    pub user: Option<Arc<str>>,
    pub device: Option<Arc<str>>,
    /// Whether the device is the school's, when the registry knows it.
    pub school_owned: Option<bool>,
    /// The profile id to filter with; `None` means the unidentified profile.
    pub profile: Option<Arc<str>>,
    pub basis: Basis,
}

/// Why an identity record could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error(
        "device '{device}': '{address}' is not an IP address or range (such as 10.0.5.17 or 10.0.5.0/24)"
    )]
    BadDeviceAddress { device: String, address: String },
    #[error("network '{network}': '{range}' is not an address range (such as 10.20.0.0/16)")]
    BadNetworkRange { network: String, range: String },
}

/// Parses `10.0.5.17` as a one-address range and `10.0.5.0/24` as itself.
pub fn parse_range(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .map(|n| n.trunc())
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

#[derive(Clone, Debug)]
struct PersonEntry {
    profile: Arc<str>,
    password_hash: Option<String>,
    disabled: bool,
}

#[derive(Clone, Debug)]
struct DeviceEntry {
    range: IpNet,
    name: Arc<str>,
    school_owned: bool,
}

#[derive(Clone, Debug)]
struct NetworkEntry {
    range: IpNet,
    name: Arc<str>,
    profile: Arc<str>,
}

/// A login-agent session: someone on a device at an address until a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user: Arc<str>,
    pub device: Option<Arc<str>>,
    pub expires: Timestamp,
}

/// People, devices and networks, loaded from the store and swapped whole
/// when they change.
#[derive(Clone, Debug, Default)]
pub struct IdentityTable {
    people: HashMap<String, PersonEntry>,
    /// Most specific range first.
    devices: Vec<DeviceEntry>,
    /// Most specific range first.
    networks: Vec<NetworkEntry>,
}

impl IdentityTable {
    pub fn new(
        people: &[Person],
        devices: &[Device],
        networks: &[Network],
    ) -> Result<IdentityTable, IdentityError> {
        let people = people
            .iter()
            .map(|p| {
                (
                    p.username.clone(),
                    PersonEntry {
                        profile: Arc::from(p.profile.as_str()),
                        password_hash: p.password_hash.clone(),
                        disabled: p.disabled,
                    },
                )
            })
            .collect();
        let mut device_entries = Vec::with_capacity(devices.len());
        for d in devices {
            let range = parse_range(&d.address).ok_or_else(|| IdentityError::BadDeviceAddress {
                device: d.name.clone(),
                address: d.address.clone(),
            })?;
            device_entries.push(DeviceEntry {
                range,
                name: Arc::from(d.name.as_str()),
                school_owned: d.school_owned,
            });
        }
        device_entries.sort_by_key(|d| std::cmp::Reverse(d.range.prefix_len()));
        let mut network_entries = Vec::new();
        for n in networks {
            for r in &n.ranges {
                let range = parse_range(r).ok_or_else(|| IdentityError::BadNetworkRange {
                    network: n.name.clone(),
                    range: r.clone(),
                })?;
                network_entries.push(NetworkEntry {
                    range,
                    name: Arc::from(n.name.as_str()),
                    profile: Arc::from(n.profile.as_str()),
                });
            }
        }
        network_entries.sort_by_key(|n| std::cmp::Reverse(n.range.prefix_len()));
        Ok(IdentityTable {
            people,
            devices: device_entries,
            networks: network_entries,
        })
    }

    /// The registered device holding this address, most specific first.
    fn device(&self, ip: IpAddr) -> Option<&DeviceEntry> {
        self.devices.iter().find(|d| d.range.contains(&ip))
    }

    fn network(&self, ip: IpAddr) -> Option<&NetworkEntry> {
        self.networks.iter().find(|n| n.range.contains(&ip))
    }

    /// The stored password hash of an enabled person.
    pub fn password_hash(&self, user: &str) -> Option<&str> {
        self.people
            .get(user)
            .filter(|p| !p.disabled)
            .and_then(|p| p.password_hash.as_deref())
    }

    /// Works out who is behind `ip`: `user` is someone the proxy has
    /// authenticated, `session` the login agent's word for the address.
    pub fn identify(
        &self,
        ip: IpAddr,
        user: Option<&str>,
        session: Option<&Session>,
        now: Timestamp,
    ) -> Who {
        let session = session.filter(|s| s.expires > now);
        let user: Option<Arc<str>> = match (user, session) {
            (Some(u), _) => Some(Arc::from(u)),
            (None, Some(s)) => Some(s.user.clone()),
            (None, None) => None,
        };
        let registered = self.device(ip);
        let device = session
            .and_then(|s| s.device.clone())
            .or_else(|| registered.map(|d| d.name.clone()));
        let school_owned = registered.map(|d| d.school_owned);
        // A disabled person (a leaver) is filtered as someone unknown.
        let own_profile = user
            .as_deref()
            .and_then(|u| self.people.get(u))
            .filter(|p| !p.disabled)
            .map(|p| p.profile.clone());
        let (profile, basis) = match own_profile {
            Some(profile) => (Some(profile), Basis::Person),
            None => match self.network(ip) {
                Some(n) => (Some(n.profile.clone()), Basis::Network(n.name.clone())),
                None => (None, Basis::Unidentified),
            },
        };
        Who {
            user,
            device,
            school_owned,
            profile,
            basis,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::ToSpan;

    fn table() -> IdentityTable {
        let people = [
            Person {
                username: "ada.pupil".into(),
                display_name: "Ada Pupil".into(),
                profile: "ks2".into(),
                password_hash: None,
                disabled: false,
            },
            Person {
                username: "left.pupil".into(),
                display_name: "Left Pupil".into(),
                profile: "ks2".into(),
                password_hash: Some("x".into()),
                disabled: true,
            },
        ];
        let devices = [
            Device {
                name: "TROLLEY".into(),
                kind: "laptops".into(),
                address: "10.0.5.0/24".into(),
                owner: String::new(),
                school_owned: true,
            },
            Device {
                name: "LAPTOP-07".into(),
                kind: "laptop".into(),
                address: "10.0.5.17".into(),
                owner: String::new(),
                school_owned: true,
            },
        ];
        let networks = [
            Network {
                name: "Guest Wi-Fi".into(),
                ranges: vec!["10.20.0.0/16".into()],
                profile: "guest".into(),
            },
            Network {
                name: "Staff".into(),
                ranges: vec!["10.0.0.0/8".into()],
                profile: "staff".into(),
            },
        ];
        IdentityTable::new(&people, &devices, &networks).expect("table")
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn person_then_network_then_unidentified() {
        let t = table();
        let now = Timestamp::now();
        let who = t.identify(ip("10.20.1.1"), Some("ada.pupil"), None, now);
        assert_eq!(
            (who.profile.as_deref(), who.basis),
            (Some("ks2"), Basis::Person)
        );
        let who = t.identify(ip("10.20.1.1"), None, None, now);
        assert_eq!(who.profile.as_deref(), Some("guest"));
        assert_eq!(who.basis, Basis::Network("Guest Wi-Fi".into()));
        // The most specific network wins: 10.20/16 over 10/8.
        let who = t.identify(ip("10.9.9.9"), None, None, now);
        assert_eq!(who.profile.as_deref(), Some("staff"));
        let who = t.identify(ip("192.0.2.1"), None, None, now);
        assert_eq!((who.profile, who.basis), (None, Basis::Unidentified));
        // Someone authenticated but unknown to the store gets the network's profile.
        let who = t.identify(ip("10.20.1.1"), Some("stranger"), None, now);
        assert_eq!(who.user.as_deref(), Some("stranger"));
        assert_eq!(who.profile.as_deref(), Some("guest"));
    }

    #[test]
    fn leavers_are_filtered_as_unknown_and_cannot_sign_in() {
        let t = table();
        let who = t.identify(ip("192.0.2.1"), Some("left.pupil"), None, Timestamp::now());
        assert_eq!(who.basis, Basis::Unidentified);
        assert_eq!(t.password_hash("left.pupil"), None);
    }

    #[test]
    fn sessions_name_the_user_until_they_expire() {
        let t = table();
        let now = Timestamp::now();
        let session = Session {
            user: "ada.pupil".into(),
            device: Some("ADA-IPAD".into()),
            expires: now + 1.hour(),
        };
        let who = t.identify(ip("10.0.5.17"), None, Some(&session), now);
        assert_eq!(who.user.as_deref(), Some("ada.pupil"));
        assert_eq!(who.device.as_deref(), Some("ADA-IPAD"));
        let later = now + 2.hours();
        let who = t.identify(ip("10.0.5.17"), None, Some(&session), later);
        assert_eq!(who.user, None);
        // The registry's most specific device: the laptop, not the trolley.
        assert_eq!(who.device.as_deref(), Some("LAPTOP-07"));
        assert_eq!(who.school_owned, Some(true));
        assert_eq!(
            t.identify(ip("10.0.5.18"), None, None, now)
                .device
                .as_deref(),
            Some("TROLLEY")
        );
    }

    #[test]
    fn bad_addresses_are_named() {
        let device = Device {
            name: "X".into(),
            kind: String::new(),
            address: "10.0.5".into(),
            owner: String::new(),
            school_owned: false,
        };
        let err = IdentityTable::new(&[], &[device], &[])
            .expect_err("bad")
            .to_string();
        assert!(err.contains("device 'X'"), "{err}");
        assert_eq!(
            parse_range("10.0.5.77/24"),
            Some("10.0.5.0/24".parse().expect("net"))
        );
        assert_eq!(
            parse_range("fd00::1"),
            Some("fd00::1/128".parse().expect("net"))
        );
    }
}
