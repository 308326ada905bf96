//! CSV as RFC 4180 describes it (CRLF line ends, fields quoted when they
//! hold a comma, quote or line break, quotes doubled), with cells that a
//! spreadsheet would run as a formula made inert.

/// One CSV line, ending in CRLF.
pub fn row<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push_str(&field_text(field.as_ref()));
    }
    line.push_str("\r\n");
    line
}

/// A field: a leading `=`, `+`, `-`, `@`, tab or carriage return would make
/// spreadsheet software treat the cell as a formula (a URL or search term
/// is pupil-controlled text), so such a cell gets a leading apostrophe.
pub fn field_text(value: &str) -> String {
    let inert = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if inert.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", inert.replace('"', "\"\""))
    } else {
        inert
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_formulae() {
        assert_eq!(row(&["a", "b"]), "a,b\r\n");
        assert_eq!(field_text("say \"hi\", then"), "\"say \"\"hi\"\", then\"");
        assert_eq!(field_text("two\nlines"), "\"two\nlines\"");
        assert_eq!(
            field_text("=HYPERLINK(\"x\")"),
            "\"'=HYPERLINK(\"\"x\"\")\""
        );
        assert_eq!(field_text("+44 1234"), "'+44 1234");
        assert_eq!(field_text("-1"), "'-1");
        assert_eq!(field_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field_text("plain"), "plain");
    }
}
