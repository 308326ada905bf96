//! docs/taxonomy.md is the published filtering policy's list of categories
//! (UKSIC: "published filtering policy"), so it must say what the code does.
//! On a mismatch this test prints the rows the document should hold.

use std::path::Path;

use classify::taxonomy::{Category, Ut1Mapping, ut1_names};

fn category_rows() -> Vec<String> {
    Category::all()
        .iter()
        .map(|c| {
            format!(
                "| `{}` | {} | {} | {} |",
                c.id(),
                c.name(),
                c.group().name(),
                c.description()
            )
        })
        .collect()
}

fn ut1_rows() -> Vec<String> {
    ut1_names()
        .map(|(name, mapping)| match mapping {
            Ut1Mapping::Category(c) => format!("| `{name}` | `{}` | {} |", c.id(), c.name()),
            Ut1Mapping::Ignored { reason } => format!("| `{name}` | ignored | {reason} |"),
        })
        .collect()
}

#[test]
fn the_taxonomy_document_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/taxonomy.md");
    let doc = std::fs::read_to_string(&path).expect("docs/taxonomy.md exists");
    let missing: Vec<String> = category_rows()
        .into_iter()
        .chain(ut1_rows())
        .filter(|row| !doc.lines().any(|line| line == row))
        .collect();
    if !missing.is_empty() {
        println!("## Categories\n{}\n", category_rows().join("\n"));
        println!("## UT1\n{}", ut1_rows().join("\n"));
        panic!(
            "docs/taxonomy.md lacks {} rows, first {:?}",
            missing.len(),
            missing[0]
        );
    }
    for attribution in ["Université Toulouse Capitole", "CC BY-SA 4.0"] {
        assert!(
            doc.contains(attribution),
            "the UT1 attribution names {attribution}"
        );
    }
}
