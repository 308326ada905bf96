//! Horizontal bar charts as inline SVG, with a text equivalent (`<title>`
//! and `role="img"` with a label) for screen readers. A hidden count is
//! drawn as a pale hatched bar reaching 5, never at its true height.

use crate::html::escape;
use crate::suppress::Shown;

const BAR: u32 = 22;
const GAP: u32 = 8;
const LABEL_WIDTH: u32 = 220;
const PLOT_WIDTH: u32 = 360;

/// A chart of labelled counts.
pub fn bars(title: &str, rows: &[(String, Shown)]) -> String {
    let top = rows
        .iter()
        .map(|(_, s)| match s {
            Shown::Exact { value } => *value,
            Shown::FewerThan5 => 5,
            Shown::Between { high, .. } => *high,
        })
        .max()
        .unwrap_or(0)
        .max(5);
    let height = rows.len() as u32 * (BAR + GAP) + GAP;
    let width = LABEL_WIDTH + PLOT_WIDTH + 140;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{t}\" \
         viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">\n<title>{t}</title>\n\
         <defs><pattern id=\"hidden-count\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
         patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#dfe6f0\"/>\
         <line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#8797b0\" stroke-width=\"2\"/></pattern></defs>\n",
        t = escape(title)
    );
    for (i, (label, shown)) in rows.iter().enumerate() {
        let y = GAP + i as u32 * (BAR + GAP);
        let reach = match shown {
            Shown::Exact { value } => *value,
            Shown::FewerThan5 => 5,
            Shown::Between { high, .. } => *high,
        };
        let w = (reach * u64::from(PLOT_WIDTH) / top).max(u64::from(reach > 0)) as u32;
        let fill = if shown.is_hidden() {
            "url(#hidden-count)"
        } else {
            "#1d4f91"
        };
        svg.push_str(&format!(
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{label}</text>\
             <rect x=\"{LABEL_WIDTH}\" y=\"{y}\" width=\"{w}\" height=\"{BAR}\" fill=\"{fill}\"/>\
             <text x=\"{vx}\" y=\"{ty}\">{value}</text>\n",
            lx = LABEL_WIDTH - 8,
            ty = y + BAR / 2 + 4,
            label = escape(label),
            vx = LABEL_WIDTH + w + 6,
            value = escape(&shown.text()),
        ));
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_counts_are_not_drawn_to_scale() {
        let a = bars(
            "t",
            &[("a".into(), Shown::of(2)), ("b".into(), Shown::of(10))],
        );
        let b = bars(
            "t",
            &[("a".into(), Shown::of(4)), ("b".into(), Shown::of(10))],
        );
        assert_eq!(a, b, "the chart must not change with a hidden count");
        assert!(a.contains("fewer than 5"));
        assert!(a.contains(">10</text>"));
        assert!(a.contains("url(#hidden-count)"));
    }
}
