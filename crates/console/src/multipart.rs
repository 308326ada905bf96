//! Reading `multipart/form-data` bodies (RFC 7578): the forms that upload a
//! file, such as the people import. The body is already in memory and
//! bounded (see [`crate::people_import::UPLOAD_LIMIT`]), so this is a plain
//! scan for the boundary; it never panics on any input.

/// One field of the form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    /// The file's name as the browser gave it, for file inputs.
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

/// A multipart form, read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Form {
    pub parts: Vec<Part>,
}

impl Form {
    /// The first field with this name, as text (invalid UTF-8 replaced).
    pub fn text(&self, name: &str) -> Option<String> {
        self.part(name)
            .map(|p| String::from_utf8_lossy(&p.data).into_owned())
    }

    pub fn part(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.name == name)
    }
}

/// The boundary from a `multipart/form-data; boundary=…` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty() && b.len() <= 70)
    })
}

/// Whether a content type is a multipart form.
pub fn is_multipart(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|k| k.trim().eq_ignore_ascii_case("multipart/form-data"))
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// A parameter of a `Content-Disposition` header: `name="csrf"`.
fn parameter(header: &str, wanted: &str) -> Option<String> {
    let mut rest = header;
    while let Some(i) = rest.find(';') {
        rest = rest[i + 1..].trim_start();
        let Some((key, value)) = rest.split_once('=') else {
            break;
        };
        let (value, after) = if let Some(quoted) = value.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            (&quoted[..end], &quoted[(end + 1).min(quoted.len())..])
        } else {
            let end = value.find(';').unwrap_or(value.len());
            (&value[..end], &value[end..])
        };
        if key.trim().eq_ignore_ascii_case(wanted) {
            return Some(value.to_owned());
        }
        rest = after;
    }
    None
}

/// Why a body is not a usable multipart form.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("the form could not be read: {0}; reload the page and send it again")]
pub struct MultipartError(&'static str);

/// Reads every part of the body.
pub fn parse(content_type: &str, body: &[u8]) -> Result<Form, MultipartError> {
    let boundary = boundary(content_type).ok_or(MultipartError("it names no boundary"))?;
    let delimiter = format!("--{boundary}").into_bytes();
    let next_delimiter = format!("\r\n--{boundary}").into_bytes();
    let mut at =
        find(body, &delimiter, 0).ok_or(MultipartError("it has no parts"))? + delimiter.len();
    let mut parts = Vec::new();
    loop {
        if body[at..].starts_with(b"--") {
            return Ok(Form { parts });
        }
        if !body[at..].starts_with(b"\r\n") {
            return Err(MultipartError("a part does not start on its own line"));
        }
        at += 2;
        let headers_end = find(body, b"\r\n\r\n", at)
            .ok_or(MultipartError("a part has no end to its headers"))?;
        let headers = String::from_utf8_lossy(&body[at..headers_end]);
        let disposition = headers
            .split("\r\n")
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.trim()
                    .eq_ignore_ascii_case("content-disposition")
                    .then_some(value.trim())
            })
            .ok_or(MultipartError("a part has no name"))?;
        let name = parameter(disposition, "name").ok_or(MultipartError("a part has no name"))?;
        let filename = parameter(disposition, "filename");
        let data_start = headers_end + 4;
        let data_end = find(body, &next_delimiter, data_start)
            .ok_or(MultipartError("it stops part-way through"))?;
        parts.push(Part {
            name,
            filename,
            data: body[data_start..data_end].to_vec(),
        });
        at = data_end + next_delimiter.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPE: &str = "multipart/form-data; boundary=----sgBoundary42";

    fn body(parts: &[(&str, Option<&str>, &str)]) -> Vec<u8> {
        let mut out = String::new();
        for (name, filename, data) in parts {
            out.push_str("------sgBoundary42\r\n");
            match filename {
                Some(f) => out.push_str(&format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv\r\n\r\n"
                )),
                None => out.push_str(&format!(
                    "Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                )),
            }
            out.push_str(data);
            out.push_str("\r\n");
        }
        out.push_str("------sgBoundary42--\r\n");
        out.into_bytes()
    }

    #[test]
    fn fields_and_files_are_read() {
        let bytes = body(&[
            ("csrf", None, "abc"),
            (
                "file",
                Some("pupils; 2026.csv"),
                "UPN,Forename\r\nA1,Ada\r\n",
            ),
        ]);
        let form = parse(TYPE, &bytes).expect("parse");
        assert_eq!(form.text("csrf").as_deref(), Some("abc"));
        let file = form.part("file").expect("file");
        assert_eq!(file.filename.as_deref(), Some("pupils; 2026.csv"));
        assert_eq!(file.data, b"UPN,Forename\r\nA1,Ada\r\n");
        assert_eq!(form.text("missing"), None);
    }

    #[test]
    fn broken_bodies_are_errors_not_panics() {
        assert!(parse("text/plain", b"x").is_err());
        assert!(parse(TYPE, b"").is_err());
        assert!(
            parse(
                TYPE,
                b"------sgBoundary42\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end"
            )
            .is_err()
        );
        assert!(parse(TYPE, b"------sgBoundary42").is_err());
        assert!(parse(TYPE, b"------sgBoundary42\r\n").is_err());
        assert_eq!(
            parse(TYPE, b"------sgBoundary42--").expect("empty").parts,
            []
        );
        assert_eq!(
            boundary("multipart/form-data; boundary=\"q\""),
            Some("q".into())
        );
        assert!(is_multipart("Multipart/Form-Data; boundary=x"));
    }
}
