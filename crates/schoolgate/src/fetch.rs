//! Fetching the UT1 distribution over HTTPS.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

/// Where Université Toulouse Capitole publishes the UT1 blacklists.
pub const UT1_DEFAULT_URL: &str =
    "https://dsi.ut-capitole.fr/blacklists/download/blacklists.tar.gz";

/// More than the whole UT1 distribution will ever be; a server sending more
/// is refused rather than allowed to fill the disk.
const MAX_DOWNLOAD: u64 = 2 << 30;

/// Downloads `url` to `dest` over HTTPS, trusting `ca_file` instead of the
/// usual authorities when given. `progress` hears (bytes so far, total if known).
pub fn download(
    url: &str,
    ca_file: Option<&Path>,
    dest: &Path,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<u64> {
    if !url.starts_with("https://") {
        bail!(
            "'{url}' is not an https:// address; lists are only fetched over HTTPS so they cannot be altered on the way"
        );
    }
    let mut tls = TlsConfig::builder();
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .with_context(|| format!("could not read the certificate file {}", path.display()))?;
        let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(PemItem::Certificate(c)) => Some(Ok(c)),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<Result<_, _>>()
            .with_context(|| format!("{} is not a PEM certificate file", path.display()))?;
        if certs.is_empty() {
            bail!(
                "{} holds no PEM certificate; give the certificate of the authority that signed the server's",
                path.display()
            );
        }
        tls = tls.root_certs(RootCerts::new_with_certs(&certs));
    }
    let agent = ureq::Agent::config_builder()
        .https_only(true)
        .tls_config(tls.build())
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_global(Some(Duration::from_secs(30 * 60)))
        .build()
        .new_agent();
    let mut response = match agent.get(url).call() {
        Ok(response) => response,
        Err(ureq::Error::StatusCode(status)) => {
            bail!(
                "the server at {url} answered with HTTP status {status} instead of the file; check the address"
            )
        }
        Err(e) => {
            return Err(e).with_context(|| {
                format!(
                    "could not fetch {url}; check the address, the network and any proxy settings, and for a mirror \
                     whose certificate comes from its own authority, give that authority with --ca-file"
                )
            });
        }
    };
    let total = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut reader = response
        .body_mut()
        .with_config()
        .limit(MAX_DOWNLOAD)
        .reader();
    let mut file =
        File::create(dest).with_context(|| format!("could not create {}", dest.display()))?;
    let mut buf = vec![0u8; 1 << 16];
    let mut done = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .with_context(|| format!("the download from {url} broke off"))?;
        if n == 0 {
            break;
        }
        file.write_all(&buf[..n])
            .with_context(|| format!("could not write {}", dest.display()))?;
        done += n as u64;
        progress(done, total);
    }
    file.sync_all()?;
    if let Some(total) = total
        && total != done
    {
        bail!("the download from {url} ended after {done} of {total} bytes; try again");
    }
    Ok(done)
}
