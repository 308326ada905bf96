//! The proxy auto-configuration file (`/proxy.pac`, and `/wpad.dat` for
//! WPAD): private ranges, plain intranet names and the school's own
//! addresses go DIRECT, everything else through the proxy.
//!
//! IP ranges are only tested when the host is written as an address, so the
//! browser never has to resolve a name to pick a route (slow, and it would
//! leak the lookup around the filter).

use std::fmt::Write;

use crate::settings::{SchoolAddress, parse_school_address};

/// Private and local ranges that never go through the proxy.
const PRIVATE_V4: &[(&str, &str)] = &[
    ("10.0.0.0", "255.0.0.0"),
    ("172.16.0.0", "255.240.0.0"),
    ("192.168.0.0", "255.255.0.0"),
    ("127.0.0.0", "255.0.0.0"),
    ("169.254.0.0", "255.255.0.0"),
];

fn mask_v4(prefix: u8) -> String {
    let mask: u32 = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix as u32)
    };
    std::net::Ipv4Addr::from(mask).to_string()
}

/// The PAC file for browsers that reach the proxy at `proxy` (`host:port`).
pub fn pac_file(proxy: &str, school_addresses: &[String]) -> String {
    let mut domains = Vec::new();
    let mut ranges: Vec<(String, String)> = PRIVATE_V4
        .iter()
        .map(|(a, m)| ((*a).to_owned(), (*m).to_owned()))
        .collect();
    for entry in school_addresses {
        match parse_school_address(entry) {
            Some(SchoolAddress::Domain(d)) => domains.push(d),
            Some(SchoolAddress::Range(ipnet::IpNet::V4(net))) => {
                ranges.push((net.network().to_string(), mask_v4(net.prefix_len())));
            }
            // Old PAC engines cannot test IPv6 ranges; such addresses go
            // through the proxy, which is safe.
            Some(SchoolAddress::Range(ipnet::IpNet::V6(_))) | None => {}
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// schoolgate: the school's web filter. Generated; do not edit by hand."
    );
    let _ = writeln!(out, "function FindProxyForURL(url, host) {{");
    let _ = writeln!(out, "  host = host.toLowerCase();");
    let _ = writeln!(
        out,
        "  if (isPlainHostName(host) || host === \"localhost\" || host === \"::1\" || host === \"[::1]\") {{\n    return \"DIRECT\";\n  }}"
    );
    for d in &domains {
        let _ = writeln!(
            out,
            "  if (host === \"{d}\" || dnsDomainIs(host, \".{d}\")) {{\n    return \"DIRECT\";\n  }}"
        );
    }
    let _ = writeln!(out, "  if (/^\\d+\\.\\d+\\.\\d+\\.\\d+$/.test(host)) {{");
    for (addr, mask) in &ranges {
        let _ = writeln!(
            out,
            "    if (isInNet(host, \"{addr}\", \"{mask}\")) {{\n      return \"DIRECT\";\n    }}"
        );
    }
    let _ = writeln!(out, "  }}");
    // Proxy addresses are checked in `validate`; quotes cannot get in.
    let proxy = proxy.replace(['"', '\\', '\n', '\r'], "");
    let _ = writeln!(out, "  return \"PROXY {proxy}\";");
    let _ = writeln!(out, "}}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn school_addresses_and_private_ranges_go_direct() {
        let pac = pac_file(
            "proxy.school.example:3128",
            &["intranet.school.example".into(), "192.0.2.0/24".into()],
        );
        assert!(
            pac.contains("return \"PROXY proxy.school.example:3128\";"),
            "{pac}"
        );
        assert!(
            pac.contains("dnsDomainIs(host, \".intranet.school.example\")"),
            "{pac}"
        );
        assert!(
            pac.contains("isInNet(host, \"192.0.2.0\", \"255.255.255.0\")"),
            "{pac}"
        );
        assert!(
            pac.contains("isInNet(host, \"10.0.0.0\", \"255.0.0.0\")"),
            "{pac}"
        );
    }

    #[test]
    fn masks() {
        assert_eq!(mask_v4(0), "0.0.0.0");
        assert_eq!(mask_v4(12), "255.240.0.0");
        assert_eq!(mask_v4(32), "255.255.255.255");
    }
}
