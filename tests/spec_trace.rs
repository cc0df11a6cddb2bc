//! spec-trace.md must have a row for every normative statement of the change
//! request, and every test a row names must exist.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

struct Row {
    strength: String,
    tests: Vec<(String, String)>,
    status: String,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn requirement_ids() -> Vec<(String, String)> {
    let text =
        fs::read_to_string(root().join("tests/data/requirements.tsv")).expect("requirements.tsv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut cells = l.split('\t');
            let id = cells.next().expect("id").to_owned();
            let strength = cells.next().expect("strength").to_owned();
            (id, strength)
        })
        .collect()
}

/// Test references of the form `path.rs::fn_name` inside backticks.
fn test_refs(cell: &str) -> Vec<(String, String)> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|r| {
            r.split_once(".rs::")
                .map(|(p, f)| (format!("{p}.rs"), f.to_owned()))
        })
        .collect()
}

/// The heading of the second table: statements of the RFCs the crate
/// implements beyond the change request.
const BEYOND: &str = "## Beyond the change request";

/// The rows of the change request's table (`beyond == false`) or of the
/// second table (`beyond == true`).
fn rows_of(beyond: bool) -> BTreeMap<String, Row> {
    let text = fs::read_to_string(root().join("spec-trace.md")).expect("spec-trace.md");
    let (first, second) = text.split_once(BEYOND).unwrap_or((&text, ""));
    let table = if beyond { second } else { first };
    let mut rows = BTreeMap::new();
    for line in table.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if cells.len() != 5 || cells[0] == "ID" || cells[0].starts_with("---") {
            continue;
        }
        let previous = rows.insert(
            cells[0].to_owned(),
            Row {
                strength: cells[1].to_owned(),
                tests: test_refs(cells[3]),
                status: cells[4].to_owned(),
            },
        );
        assert!(
            previous.is_none(),
            "spec-trace.md has two rows for {}",
            cells[0]
        );
    }
    rows
}

fn trace_rows() -> BTreeMap<String, Row> {
    rows_of(false)
}

fn defines_test_fn(source: &str, name: &str) -> bool {
    source.match_indices("fn ").any(|(at, _)| {
        let rest = &source[at + 3..];
        rest.starts_with(name)
            && !rest[name.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn every_requirement_has_a_row_with_its_strength() {
    let rows = trace_rows();
    let ids = requirement_ids();
    assert_eq!(
        ids.len(),
        128,
        "requirements.tsv holds the change request's 128 statements"
    );
    for (id, strength) in &ids {
        let row = rows
            .get(id)
            .unwrap_or_else(|| panic!("spec-trace.md has no row for {id}"));
        assert_eq!(&row.strength, strength, "strength of {id}");
        assert!(
            matches!(row.status.as_str(), "pending" | "done" | "partial"),
            "status of {id} is {:?}",
            row.status
        );
        assert!(
            row.status == "pending" || !row.tests.is_empty(),
            "{id} is {} but names no test",
            row.status
        );
    }
    for id in rows.keys() {
        assert!(
            ids.iter().any(|(i, _)| i == id),
            "spec-trace.md row {id} is not in requirements.tsv"
        );
    }
}

#[test]
fn beyond_the_change_request_rows_name_tests_that_exist() {
    let rows = rows_of(true);
    assert!(!rows.is_empty(), "spec-trace.md has the second table");
    for (id, row) in &rows {
        assert!(
            matches!(row.status.as_str(), "pending" | "done" | "partial"),
            "status of {id} is {:?}",
            row.status
        );
        assert!(
            row.status == "pending" || !row.tests.is_empty(),
            "{id} is {} but names no test",
            row.status
        );
    }
}

#[test]
fn every_named_test_exists() {
    for (id, row) in trace_rows().into_iter().chain(rows_of(true)) {
        for (path, name) in &row.tests {
            let source = fs::read_to_string(root().join(path))
                .unwrap_or_else(|e| panic!("{id}: {path}: {e}"));
            assert!(
                defines_test_fn(&source, name),
                "{id}: {path} defines no fn {name}"
            );
        }
    }
}
