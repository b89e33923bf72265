//! Catalog dumps for comparing schemas: `pg_dump --schema-only` of one
//! schema, and renaming a schema inside such a dump.

use std::process::Command;

use crate::TestDb;

fn pg_dump_path() -> String {
    std::env::var("PG_DUMP").unwrap_or_else(|_| {
        for p in ["/usr/lib/postgresql/15/bin/pg_dump", "/usr/bin/pg_dump"] {
            if std::path::Path::new(p).exists() {
                return p.to_owned();
            }
        }
        "pg_dump".to_owned()
    })
}

/// `pg_dump --schema-only` of one schema. Two normalisations: the
/// `\restrict <key>` / `\unrestrict <key>` lines, whose key is random per
/// run, and the entry of the trigger that keeps the registry's summary of
/// `strav_migrations` (see [`without_summary_trigger`]).
pub fn dump(t: &TestDb, schema: &str) -> String {
    let out = Command::new(pg_dump_path())
        .args([
            "--schema-only",
            "--no-password",
            "-n",
            schema,
            "-d",
            &t.url(),
        ])
        .output()
        .expect("run pg_dump");
    assert!(
        out.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text: Vec<&str> = std::str::from_utf8(&out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("\\restrict ") && !l.starts_with("\\unrestrict "))
        .collect();
    without_summary_trigger(&text).join("\n")
}

/// `lines` without the dump entry of `strav_migrations`' `strav_versions`
/// trigger. It is Strav's bookkeeping of a registered schema, not part of
/// a tenant's structure: a hand-made source has none, while its clone or
/// import, being registered, always has one.
pub fn without_summary_trigger<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    // An entry is `--`, `-- Name: ...`, `--`, then its text up to the next
    // entry's opening `--`.
    let mut out: Vec<&str> = Vec::with_capacity(lines.len());
    let mut separators_to_skip = 0;
    for line in lines {
        if line.starts_with("-- Name: strav_migrations strav_versions; Type: TRIGGER;") {
            out.pop();
            separators_to_skip = 2;
            continue;
        }
        if separators_to_skip > 0 {
            if *line == "--" {
                separators_to_skip -= 1;
            }
            if separators_to_skip > 0 {
                continue;
            }
        }
        out.push(line);
    }
    out
}

/// `text` with `from` replaced by `to` where it is a whole identifier.
pub fn substitute(text: &str, from: &str, to: &str) -> String {
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(from) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + from.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(ident) || after.is_some_and(ident) {
            out.push_str(from);
        } else {
            out.push_str(to);
        }
        rest = &rest[i + from.len()..];
    }
    out.push_str(rest);
    out
}
