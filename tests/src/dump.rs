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

/// `pg_dump --schema-only` of one schema. The only normalisation: the
/// `\restrict <key>` / `\unrestrict <key>` lines, whose key is random per run.
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
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("\\restrict ") && !l.starts_with("\\unrestrict "))
        .collect::<Vec<_>>()
        .join("\n")
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
