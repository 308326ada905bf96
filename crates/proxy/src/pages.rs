//! The pages the proxy writes itself: block pages, error pages and its own
//! small site. Plain British English that a nine-year-old and a teacher both
//! understand; no scripts, fonts or images from anywhere else; everything
//! echoed is escaped.

use std::fmt::Write;

/// Escapes text for HTML element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
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

/// "1 second", "10 seconds".
pub fn seconds(n: u64) -> String {
    if n == 1 {
        "1 second".to_owned()
    } else {
        format!("{n} seconds")
    }
}

/// Percent-encodes a query value.
pub fn encode_query_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Arial,sans-serif;\
background:#f4f6f8;color:#1d2530;margin:0;padding:2rem 1rem;line-height:1.5}\
main{max-width:40rem;margin:0 auto;background:#fff;border-radius:12px;padding:2rem;\
box-shadow:0 2px 8px rgba(0,0,0,.08)}h1{font-size:1.6rem;margin-top:0}\
.school{color:#4a5868;font-weight:600;margin:0 0 .5rem}\
.address{word-break:break-all;background:#f0f2f5;padding:.5rem .75rem;border-radius:6px;\
font-family:ui-monospace,Consolas,monospace}.why{font-size:1.1rem}\
a.button,button{display:inline-block;background:#1f5fa8;color:#fff;padding:.6rem 1.1rem;\
border-radius:6px;text-decoration:none;border:0;font-size:1rem;cursor:pointer}\
.small{color:#4a5868;font-size:.9rem}textarea,input[type=text]{width:100%;box-sizing:border-box;\
font-size:1rem;padding:.5rem;border:1px solid #b8c2cc;border-radius:6px}label{font-weight:600}";

/// A whole page around `body`, which must already be escaped.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{}</title>\n<style>{STYLE}</style>\n\
         </head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n",
        escape(title)
    )
}

/// Why a page was blocked, as the block page says it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// In a blocked category: its name and what it covers.
    Category {
        name: &'static str,
        description: &'static str,
    },
    /// Any other rule (walled garden, deny list, schedule, IP address): the
    /// rule's plain reason.
    Rule(String),
}

/// What a block page shows.
#[derive(Clone, Debug)]
pub struct BlockPage<'a> {
    pub school: &'a str,
    pub address: &'a str,
    pub why: Why,
    pub reference: &'a str,
    pub time: &'a str,
    /// Where the "ask for this to be checked" link goes.
    pub review_link: &'a str,
}

impl BlockPage<'_> {
    pub fn render(&self) -> String {
        let why = match &self.why {
            Why::Category { name, description } => format!(
                "<p class=\"why\">It is blocked because it is in the <strong>{}</strong> group of websites.</p>\n\
                 <p>{}</p>",
                escape(name),
                escape(description)
            ),
            Why::Rule(reason) => format!("<p class=\"why\">{}</p>", escape(reason)),
        };
        let body = format!(
            "<p class=\"school\">{school}</p>\n\
             <h1>This page is blocked</h1>\n\
             <p>The school's web filter has stopped this page from opening.</p>\n\
             <p class=\"address\">{address}</p>\n\
             {why}\n\
             <p>If you think you need this page for your work, tell your teacher. \
             You can also ask for it to be checked: someone at school will look at it.</p>\n\
             <p><a class=\"button\" href=\"{link}\">Ask for this to be checked</a></p>\n\
             <p class=\"small\">Reference: <strong>{reference}</strong><br>Time: {time}</p>",
            school = escape(self.school),
            address = escape(self.address),
            link = escape(self.review_link),
            reference = escape(self.reference),
            time = escape(self.time),
        );
        page("This page is blocked", &body)
    }
}

/// The page for a statutory block: the standard text and nothing else.
pub fn statutory_page(text: &str) -> String {
    page(
        "Access denied",
        &format!("<h1>Access denied</h1>\n<p>{}</p>", escape(text)),
    )
}

/// A page for when something went wrong between the proxy and a website.
pub fn problem_page(title: &str, what: &str, next: &str, time: &str) -> String {
    page(
        title,
        &format!(
            "<h1>{}</h1>\n<p>{}</p>\n<p>{}</p>\n<p class=\"small\">Time: {}</p>",
            escape(title),
            escape(what),
            escape(next),
            escape(time)
        ),
    )
}

/// The proxy's own front page.
pub fn index_page(school: &str, pac_link: &str) -> String {
    page(
        "schoolgate web filter",
        &format!(
            "<p class=\"school\">{}</p>\n<h1>This is the school's web filter</h1>\n\
             <p>schoolgate checks the websites people visit on the school's connection, \
             blocks those that are harmful or not right for school, and keeps a record, \
             as the school's online safety policy explains.</p>\n\
             <p>Browsers find it through the automatic proxy configuration file: \
             <a href=\"{}\">{}</a>.</p>",
            escape(school),
            escape(pac_link),
            escape(pac_link)
        ),
    )
}

/// The form that asks for a block to be checked.
pub fn review_form(school: &str, reference: &str) -> String {
    page(
        "Ask for a page to be checked",
        &format!(
            "<p class=\"school\">{}</p>\n<h1>Ask for a page to be checked</h1>\n\
             <p>Someone at school will look at the page and decide whether it should be \
             unblocked. Your request is kept with the school's filtering records.</p>\n\
             <form method=\"post\" action=\"/review\">\n\
             <p><label for=\"ref\">Reference (from the blocked page)</label><br>\n\
             <input type=\"text\" id=\"ref\" name=\"ref\" value=\"{}\" maxlength=\"12\" required></p>\n\
             <p><label for=\"message\">Why do you need it? (you can leave this empty)</label><br>\n\
             <textarea id=\"message\" name=\"message\" rows=\"4\" maxlength=\"1000\"></textarea></p>\n\
             <p><button type=\"submit\">Send</button></p>\n</form>",
            escape(school),
            escape(reference)
        ),
    )
}

/// After a review request was recorded.
pub fn review_recorded(school: &str, reference: &str, number: i64) -> String {
    page(
        "Request recorded",
        &format!(
            "<p class=\"school\">{}</p>\n<h1>Thank you: your request has been recorded</h1>\n\
             <p>Someone at school will check the page with reference <strong>{}</strong>. \
             The request number is {}. Until it has been checked, the page stays blocked.</p>\n\
             <p><a href=\"/review/status?reference={}\">See what was decided</a> (keep the reference).</p>",
            escape(school),
            escape(reference),
            number,
            encode_query_value(reference)
        ),
    )
}

/// What was decided about a review request, as its asker may see it.
pub struct ReviewOutcome {
    /// `open`, `approved` or `declined`.
    pub status: &'static str,
    pub reason: String,
}

/// The outcome of a review request: `None` for a reference that is not
/// one, `Some(None)` for one with no request.
pub fn review_status(
    school: &str,
    reference: &str,
    outcome: Option<Option<ReviewOutcome>>,
) -> String {
    let body = match outcome {
        None => "<h1>That reference was not recognised</h1>\n\
                 <p>A reference looks like SG-7K2Q-9F4D and is shown on the blocked page.</p>"
            .to_owned(),
        Some(None) => format!(
            "<h1>No request with that reference</h1>\n<p>Nobody has asked for the page with \
             reference <strong>{}</strong> to be checked. You can ask from the blocked page.</p>",
            escape(reference)
        ),
        Some(Some(o)) => {
            let (title, what) = match o.status {
                "approved" => (
                    "The request was approved",
                    "The page will be unblocked within a few minutes.",
                ),
                "declined" => ("The request was declined", "The page stays blocked."),
                _ => (
                    "The request has not been checked yet",
                    "Someone at school will check it. Look again later.",
                ),
            };
            let reason = if o.reason.is_empty() {
                String::new()
            } else {
                format!("<p>The reason given: {}</p>", escape(&o.reason))
            };
            format!(
                "<h1>{title}</h1>\n<p>Reference <strong>{}</strong>. {what}</p>\n{reason}",
                escape(reference)
            )
        }
    };
    page(
        "Your request",
        &format!("<p class=\"school\">{}</p>\n{body}", escape(school)),
    )
}

/// The acceptable use agreement, with the button that agrees to it (§7.2).
pub fn aup_page(school: &str, text: &str, version: &str, action: &str) -> String {
    let paragraphs: String = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>\n", escape(p.trim())))
        .collect();
    page(
        "Acceptable use agreement",
        &format!(
            "<p class=\"school\">{}</p>\n<h1>Acceptable use agreement</h1>\n\
             <p>Before you use the internet at school, read the school's agreement and say \
             that you agree to it.</p>\n{paragraphs}\
             <form method=\"post\" action=\"{}\">\n\
             <input type=\"hidden\" name=\"version\" value=\"{}\">\n\
             <p><button type=\"submit\">I agree</button></p>\n</form>\n\
             <p>Help sites such as Childline, the NHS and CEOP work without agreeing.</p>",
            escape(school),
            escape(action),
            escape(version)
        ),
    )
}

/// After agreeing, or for someone with nothing to agree to.
pub fn aup_done(school: &str) -> String {
    page(
        "Acceptable use agreement",
        &format!(
            "<p class=\"school\">{}</p>\n<h1>Thank you</h1>\n\
             <p>You have agreed to the acceptable use agreement. You can now use the internet: \
             go back to the page you wanted.</p>",
            escape(school)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_echoed_is_escaped() {
        let html = BlockPage {
            school: "St <Mary's> & \"All\"",
            address: "http://x.example/<script>alert(1)</script>",
            why: Why::Rule("<b>no</b>".into()),
            reference: "SG-0000-0000",
            time: "now",
            review_link: "http://proxy/review?ref=\"><script>",
        }
        .render();
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>no"), "{html}");
        assert!(
            html.contains("St &lt;Mary&#39;s&gt; &amp; &quot;All&quot;"),
            "{html}"
        );
    }

    #[test]
    fn the_statutory_page_is_the_text_alone() {
        let html = statutory_page("Access has been denied.");
        assert!(html.contains("<p>Access has been denied.</p>"));
        assert!(!html.contains("review"));
        assert!(!html.contains("Reference"));
    }

    #[test]
    fn review_outcomes_show_the_decision_and_reason_escaped() {
        let html = review_status(
            "School",
            "SG-0000-0000",
            Some(Some(ReviewOutcome {
                status: "declined",
                reason: "<b>not for school</b>".into(),
            })),
        );
        assert!(html.contains("The request was declined"));
        assert!(html.contains("&lt;b&gt;not for school"));
        assert!(review_status("School", "x", None).contains("not recognised"));
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode_query_value("SG-7K2Q-9F4D"), "SG-7K2Q-9F4D");
        assert_eq!(encode_query_value("a b&c"), "a%20b%26c");
    }
}
