//! Printing a report page to PDF with headless Chromium, the way a person
//! would print it from the browser (the page carries its own print CSS).
//! No PDF library: Chromium's print engine lays out what the screen shows.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Chromium program, if one is installed.
pub fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(name))
                    .find(|p| p.is_file())
            })
        })
}

/// Prints `html` to a PDF's bytes. Slow (a browser starts): call it from
/// blocking code (`spawn_blocking` in a server).
pub fn print_pdf(html: &str) -> Result<Vec<u8>, String> {
    let program = chromium().ok_or_else(|| {
        "Chromium is not installed on this server, so the PDF cannot be made; print the page from your browser instead (it is laid out for A4)".to_owned()
    })?;
    let dir = tempdir()?;
    let page = dir.join("report.html");
    let out = dir.join("report.pdf");
    let result = (|| {
        std::fs::write(&page, html)
            .map_err(|e| format!("could not write the page to print: {e}"))?;
        let status = Command::new(&program)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-pdf-header-footer",
            ])
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .arg(format!("--print-to-pdf={}", out.display()))
            .arg(format!("file://{}", page.display()))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("could not start {}: {e}", program.display()))?;
        let bytes = std::fs::read(&out).map_err(|_| {
            format!("Chromium did not produce the PDF ({status}); print the page from your browser instead")
        })?;
        if !bytes.starts_with(b"%PDF") {
            return Err("Chromium produced something that is not a PDF".to_owned());
        }
        Ok(bytes)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn tempdir() -> Result<PathBuf, String> {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random)
        .map_err(|e| format!("no randomness for a temporary folder: {e}"))?;
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "schoolgate-pdf-{}",
        random
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("could not make a temporary folder: {e}"))?;
    Ok(dir)
}

/// Writes `html` printed as PDF to `path`.
pub fn write_pdf(html: &str, path: &Path) -> Result<(), String> {
    let bytes = print_pdf(html)?;
    std::fs::write(path, bytes).map_err(|e| format!("could not write {}: {e}", path.display()))
}
