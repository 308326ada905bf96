//! HTML escaping and the page frame the reports share: readable on screen,
//! printable on A4 (print CSS), no scripts.

/// Text made safe to place in HTML content or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body { font-family: system-ui, Arial, sans-serif; color: #1b1b1b; margin: 1.5rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin-top: 1.8rem; border-bottom: 2px solid #1d4f91; }
p.meta { color: #404040; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0; font-size: .95rem; }
th, td { border: 1px solid #8a8a8a; padding: .3rem .45rem; text-align: left; vertical-align: top; }
th { background: #e8eef7; }
td.n, th.n { text-align: right; }
tr.flag td { background: #fff2cc; }
.badge { display: inline-block; padding: 0 .35rem; border: 1px solid #7a4b00; color: #5c3800; background: #fff2cc; font-size: .85rem; border-radius: 3px; }
.note { font-size: .9rem; color: #333; }
svg text { font-family: system-ui, Arial, sans-serif; font-size: 12px; fill: #1b1b1b; }
@page { size: A4; margin: 15mm; }
@media print {
  body { margin: 0; font-size: 10.5pt; }
  h2 { break-after: avoid; }
  table, svg, tr { break-inside: avoid; }
  th { background: #e8eef7 !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  tr.flag td { background: #fff2cc !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
";

/// A whole page around `body`.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        escape(title)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::escape("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }
}
