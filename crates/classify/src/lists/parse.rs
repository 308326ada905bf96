//! The line parser behind every format.

use super::{ImportReport, JUNK_KEPT, JUNK_TEXT_CHARS, JunkLine, ListError, ListFormat};
use crate::canon::{CanonUrl, canonical_host};

/// One file's entries, canonical, sorted and without repeats.
pub(super) struct Parsed {
    pub domains: Vec<String>,
    pub urls: Vec<String>,
    pub report: ImportReport,
}

/// Names that hosts files give to the machine itself or its network. Blocking
/// them means nothing, so they are skipped rather than counted as junk.
const LOCAL_NAMES: &[&str] = &[
    "localhost",
    "localhost.localdomain",
    "local",
    "broadcasthost",
    "ip6-localhost",
    "ip6-loopback",
    "ip6-localnet",
    "ip6-mcastprefix",
    "ip6-allnodes",
    "ip6-allrouters",
    "ip6-allhosts",
    "0.0.0.0",
];

// A file is refused when more than half of its entries are junk, however
// short it is: a few bad lines in a good list are normal, but a file that is
// mostly bad is the wrong file (an HTML error page saved as a list, say).

pub(super) fn parse(source: &str, bytes: &[u8], format: ListFormat) -> Result<Parsed, ListError> {
    let mut parser = Parser {
        format,
        domains: Vec::new(),
        urls: Vec::new(),
        report: ImportReport {
            source: source.to_owned(),
            ..ImportReport::default()
        },
        url: CanonUrl::default(),
        accepted: 0,
    };
    // Lists saved by Windows editors may start with a byte-order mark.
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if !body.is_empty() {
        // A final newline ends the last line rather than starting an empty one.
        let body = body.strip_suffix(b"\n").unwrap_or(body);
        for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
            parser.line(i + 1, raw);
        }
    }
    parser.finish()
}

struct Parser {
    format: ListFormat,
    domains: Vec<String>,
    urls: Vec<String>,
    report: ImportReport,
    /// Reused for every URL so parsing does not allocate twice per line.
    url: CanonUrl,
    /// Entries accepted, repeats included.
    accepted: usize,
}

impl Parser {
    fn line(&mut self, number: usize, raw: &[u8]) {
        self.report.lines += 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let content = strip_comment(line, self.format).trim_ascii();
        if content.is_empty() {
            self.report.skipped += 1;
            return;
        }
        // Comments were cut at the byte level first, so a comment in Latin-1
        // does not make a good line junk.
        let Ok(text) = std::str::from_utf8(content) else {
            self.junk(number, line, "it is not UTF-8 text".to_owned());
            return;
        };
        match self.format {
            ListFormat::Hosts => self.hosts_line(number, line, text),
            ListFormat::Ut1 | ListFormat::Domains => {
                if text.contains(char::is_whitespace) {
                    let why = "it has a space in it; put one domain on each line";
                    self.junk(number, line, why.to_owned());
                } else {
                    self.domain(number, line, text);
                }
            }
            ListFormat::Urls => {
                if text.contains(char::is_whitespace) {
                    let why = "it has a space in it; put one URL on each line and write spaces in a URL as %20";
                    self.junk(number, line, why.to_owned());
                } else {
                    self.url(number, line, text);
                }
            }
        }
    }

    fn hosts_line(&mut self, number: usize, line: &[u8], text: &str) {
        let mut words = text.split_whitespace();
        let Some(address) = words.next() else {
            // Only Unicode spaces, which trim_ascii leaves: a blank line.
            self.report.skipped += 1;
            return;
        };
        if !is_address(address) {
            let why = "a hosts-file line starts with an address such as 0.0.0.0, then the names";
            self.junk(number, line, why.to_owned());
            return;
        }
        let mut names = 0;
        for name in words {
            names += 1;
            self.domain(number, line, name);
        }
        if names == 0 {
            self.junk(
                number,
                line,
                "there is no name after the address".to_owned(),
            );
        }
    }

    fn domain(&mut self, number: usize, line: &[u8], word: &str) {
        // `*.example.com` and `.example.com` are common ways to say "and its
        // subdomains", which a domain entry means anyway.
        let host = word
            .strip_prefix("*.")
            .or_else(|| word.strip_prefix('.'))
            .unwrap_or(word);
        if is_local(host) {
            self.report.skipped += 1;
            return;
        }
        match canonical_host(host) {
            Ok(host) if is_local(&host) => self.report.skipped += 1,
            Ok(host) => {
                self.domains.push(host);
                self.accepted += 1;
            }
            Err(e) => self.junk(number, line, e.to_string()),
        }
    }

    fn url(&mut self, number: usize, line: &[u8], word: &str) {
        let after_scheme = word.find("://").map_or(word, |i| &word[i + 3..]);
        if let Err(e) = self.url.parse_into(word) {
            self.junk(number, line, e.to_string());
            return;
        }
        if after_scheme.contains(['/', '?', '#']) {
            self.urls.push(self.url.as_key().to_owned());
            self.accepted += 1;
            return;
        }
        // Only a host: the whole site is listed, which is what a domain entry
        // says. The host goes through canonical_host too, so that it is the
        // same key a domains list would give.
        match canonical_host(self.url.host()) {
            Ok(host) if is_local(&host) => self.report.skipped += 1,
            Ok(host) => {
                self.domains.push(host);
                self.accepted += 1;
            }
            Err(e) => self.junk(number, line, e.to_string()),
        }
    }

    fn junk(&mut self, number: usize, line: &[u8], reason: String) {
        self.report.junk_count += 1;
        if self.report.junk.len() < JUNK_KEPT {
            let text = String::from_utf8_lossy(line.trim_ascii());
            let text = match text.char_indices().nth(JUNK_TEXT_CHARS) {
                Some((cut, _)) => text[..cut].to_owned(),
                None => text.into_owned(),
            };
            self.report.junk.push(JunkLine {
                line: number,
                text,
                reason,
            });
        }
    }

    fn finish(mut self) -> Result<Parsed, ListError> {
        let junk = self.report.junk_count;
        let checked = self.accepted + junk;
        let refuse = junk * 2 > checked;
        if let (true, Some(first)) = (refuse, self.report.junk.first()) {
            return Err(ListError::MostlyJunk {
                file: self.report.source,
                format: self.format,
                line: first.line,
                text: first.text.clone(),
                reason: first.reason.clone(),
                junk,
                checked,
            });
        }
        self.domains.sort_unstable();
        self.domains.dedup();
        self.urls.sort_unstable();
        self.urls.dedup();
        self.report.entries = self.domains.len() + self.urls.len();
        self.report.duplicates = self.accepted - self.report.entries;
        Ok(Parsed {
            domains: self.domains,
            urls: self.urls,
            report: self.report,
        })
    }
}

/// Cuts a comment off a line. In domain lists and hosts files `#` always
/// starts one. In URL lists `#` is also a URL's fragment, so it starts a
/// comment only at the start of the line or after a space.
fn strip_comment(line: &[u8], format: ListFormat) -> &[u8] {
    let cut = match format {
        ListFormat::Urls => line
            .iter()
            .enumerate()
            .position(|(i, &b)| b == b'#' && (i == 0 || line[i - 1].is_ascii_whitespace())),
        _ => line.iter().position(|&b| b == b'#'),
    };
    match cut {
        Some(i) => &line[..i],
        None => line,
    }
}

fn is_local(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    LOCAL_NAMES
        .iter()
        .any(|local| local.eq_ignore_ascii_case(host))
}

/// True for an IPv4 or IPv6 address, with or without an IPv6 zone (`fe80::1%lo0`).
fn is_address(word: &str) -> bool {
    let word = word
        .split_once('%')
        .map_or(word, |(address, _zone)| address);
    word.parse::<std::net::IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(format: ListFormat, text: &str) -> Parsed {
        match parse("test", text.as_bytes(), format) {
            Ok(parsed) => parsed,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn comments_are_cut_by_format() {
        assert_eq!(
            strip_comment(b"a.example # c", ListFormat::Domains),
            b"a.example "
        );
        assert_eq!(
            strip_comment(b"a.example#c", ListFormat::Domains),
            b"a.example"
        );
        assert_eq!(
            strip_comment(b"a.example/#top", ListFormat::Urls),
            b"a.example/#top"
        );
        assert_eq!(
            strip_comment(b"a.example/x\t# c", ListFormat::Urls),
            b"a.example/x\t"
        );
        assert_eq!(strip_comment(b"# all comment", ListFormat::Urls), b"");
    }

    #[test]
    fn line_counting_follows_newlines() {
        assert_eq!(parse_ok(ListFormat::Domains, "").report.lines, 0);
        assert_eq!(parse_ok(ListFormat::Domains, "\n").report.lines, 1);
        assert_eq!(parse_ok(ListFormat::Domains, "a.example").report.lines, 1);
        assert_eq!(parse_ok(ListFormat::Domains, "a.example\n").report.lines, 1);
        assert_eq!(
            parse_ok(ListFormat::Domains, "a.example\n\n").report.lines,
            2
        );
    }

    #[test]
    fn local_names_are_skipped_in_any_case() {
        let parsed = parse_ok(
            ListFormat::Hosts,
            "127.0.0.1 LocalHost localhost.localdomain.\n::1 ip6-localhost ip6-loopback\nfe80::1%lo0 localhost\n0.0.0.0 0.0.0.0 a.example\n",
        );
        assert_eq!(parsed.domains, ["a.example"]);
        assert_eq!(parsed.report.skipped, 6);
        assert_eq!(parsed.report.junk_count, 0);
    }

    #[test]
    fn junk_text_is_truncated_to_200_characters() {
        let long = format!("{}\n", "é/".repeat(300));
        let text = format!("a.example\nb.example\n{long}");
        let parsed = parse_ok(ListFormat::Domains, &text);
        assert_eq!(parsed.report.junk[0].text.chars().count(), JUNK_TEXT_CHARS);
        assert_eq!(parsed.report.junk[0].line, 3);
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_line() {
        let parsed = parse("bom", b"\xEF\xBB\xBFa.example\r\n", ListFormat::Domains);
        assert!(matches!(parsed, Ok(p) if p.domains == ["a.example"]));
    }
}
