//! Migration files: `database/migrations/<domain>/<YYYYMMDDHHMMSS>_<slug>.up.sql`
//! and `.down.sql`, read from disk or embedded in the binary.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The marker that, as a file's first line, runs it outside a transaction.
pub const NO_TRANSACTION_MARKER: &str = "-- strav:no-transaction";

/// One migration: a version, its `up` SQL and, usually, its `down` SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// `YYYYMMDDHHMMSS` from the file name.
    pub version: i64,
    /// The slug from the file name (`add_orders_table`).
    pub name: String,
    /// Where the `up` file came from, for messages.
    pub file: String,
    /// The `up` SQL.
    pub up: Cow<'static, str>,
    /// The `down` SQL, when there is a `.down.sql` file.
    pub down: Option<Cow<'static, str>>,
    /// The file starts with `-- strav:no-transaction`.
    pub no_transaction: bool,
    /// SHA-256 of the `up` SQL, hex: an applied migration whose file changed is drift.
    pub checksum: String,
}

/// Every domain's migrations, each domain's sorted by version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migrations {
    domains: BTreeMap<String, Vec<Migration>>,
}

impl Migrations {
    /// Reads `dir/<domain>/*.sql` for every domain directory under `dir`.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let mut files = Vec::new();
        let entries = std::fs::read_dir(dir).map_err(|e| io_error(dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_error(dir, e))?;
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            let domain = entry.file_name().to_string_lossy().into_owned();
            let mut names: Vec<PathBuf> = std::fs::read_dir(&path)
                .map_err(|e| io_error(&path, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "sql"))
                .collect();
            names.sort();
            for file in names {
                let text = std::fs::read_to_string(&file).map_err(|e| io_error(&file, e))?;
                let name = file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                files.push((domain.clone(), name, Cow::Owned(text)));
            }
        }
        Self::from_files(files)
    }

    /// Builds the set from `(domain, file name, contents)`; what
    /// [`crate::embed_migrations!`] expands to.
    pub fn from_embedded(files: &[(&'static str, &'static str, &'static str)]) -> Result<Self> {
        Self::from_files(
            files
                .iter()
                .map(|(d, n, t)| (d.to_string(), n.to_string(), Cow::Borrowed(*t))),
        )
    }

    fn from_files(
        files: impl IntoIterator<Item = (String, String, Cow<'static, str>)>,
    ) -> Result<Self> {
        let mut ups: BTreeMap<(String, i64), Migration> = BTreeMap::new();
        let mut downs: BTreeMap<(String, i64), (String, Cow<'static, str>)> = BTreeMap::new();
        for (domain, file, text) in files {
            crate::schema_name::check_domain(&domain)?;
            let (version, name, up) = parse_file_name(&file).ok_or_else(|| Error::Migration {
                schema: None,
                file: Some(format!("{domain}/{file}")),
                message: "migration files are named <YYYYMMDDHHMMSS>_<slug>.up.sql or .down.sql (slug: lower-case letters, digits, _)".into(),
            })?;
            let path = format!("{domain}/{file}");
            if up {
                let no_transaction = text.trim_start().starts_with(NO_TRANSACTION_MARKER);
                let checksum = hex(&Sha256::digest(text.as_bytes()));
                let m = Migration {
                    version,
                    name: name.to_owned(),
                    file: path.clone(),
                    up: text,
                    down: None,
                    no_transaction,
                    checksum,
                };
                if let Some(other) = ups.insert((domain.clone(), version), m) {
                    return Err(Error::Migration {
                        schema: None,
                        file: Some(path),
                        message: format!(
                            "version {version} is used twice in domain {domain} (also {}); give each migration its own timestamp",
                            other.file
                        ),
                    });
                }
            } else {
                downs.insert((domain, version), (path, text));
            }
        }
        for ((domain, version), (path, text)) in downs {
            match ups.get_mut(&(domain, version)) {
                Some(m) => m.down = Some(text),
                None => {
                    return Err(Error::Migration {
                        schema: None,
                        file: Some(path),
                        message: "a .down.sql file without its .up.sql".into(),
                    })
                }
            }
        }
        let mut domains: BTreeMap<String, Vec<Migration>> = BTreeMap::new();
        for ((domain, _), m) in ups {
            domains.entry(domain).or_default().push(m);
        }
        Ok(Migrations { domains })
    }

    /// The migrations of `domain`, oldest first (empty when it has none).
    pub fn domain(&self, domain: &str) -> &[Migration] {
        self.domains.get(domain).map_or(&[], Vec::as_slice)
    }

    /// The domains that have migrations.
    pub fn domains(&self) -> impl Iterator<Item = &str> {
        self.domains.keys().map(String::as_str)
    }
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Migration {
        schema: None,
        file: Some(path.display().to_string()),
        message: format!("cannot read: {e}"),
    }
}

/// `20260101120000_add_orders.up.sql` → (20260101120000, "add_orders", true).
fn parse_file_name(file: &str) -> Option<(i64, &str, bool)> {
    let (stem, up) = match file.strip_suffix(".up.sql") {
        Some(s) => (s, true),
        None => (file.strip_suffix(".down.sql")?, false),
    };
    let (version, slug) = stem.split_once('_')?;
    if version.len() != 14 || !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if slug.is_empty()
        || !slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    Some((version.parse().ok()?, slug, up))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Splits SQL into statements at top-level `;`, respecting quotes
/// (`'..'`, `E'..'`, `".."`), dollar quotes (`$tag$..$tag$`) and comments
/// (`--`, nested `/* */`). Needed only for files that run outside a
/// transaction: PostgreSQL runs a multi-statement message as one implicit
/// transaction, where `CREATE INDEX CONCURRENTLY` is refused.
pub fn split_statements(sql: &str) -> Vec<&str> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut start) = (0, 0);
    while i < b.len() {
        match b[i] {
            b'\'' => {
                let escapes = i > 0
                    && matches!(b[i - 1], b'E' | b'e')
                    && !is_ident_byte(b, i.wrapping_sub(2));
                i += 1;
                while i < b.len() {
                    if escapes && b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if b[i] == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 1;
                i += 2;
                while i < b.len() && depth > 0 {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
            }
            b'$' if !is_ident_byte(b, i.wrapping_sub(1)) => {
                // A dollar-quote tag: $$ or $name$ (not a $1 parameter).
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                let tag_ok = j < b.len()
                    && b[j] == b'$'
                    && !b[i + 1..j].first().is_some_and(u8::is_ascii_digit);
                if tag_ok {
                    let tag = &sql[i..=j];
                    match sql[j + 1..].find(tag) {
                        Some(end) => i = j + 1 + end + tag.len(),
                        None => i = b.len(),
                    }
                } else {
                    i += 1;
                }
            }
            b';' => {
                push_statement(&mut out, &sql[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    push_statement(&mut out, &sql[start.min(sql.len())..]);
    out
}

fn is_ident_byte(b: &[u8], i: usize) -> bool {
    b.get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

fn push_statement<'a>(out: &mut Vec<&'a str>, s: &'a str) {
    if has_code(s) {
        out.push(s.trim());
    }
}

/// Whether `s` holds anything but whitespace and comments.
fn has_code(s: &str) -> bool {
    let mut rest = s.trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            return !rest.is_empty();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(
            parse_file_name("20260101120000_add_orders.up.sql"),
            Some((20260101120000, "add_orders", true))
        );
        assert_eq!(
            parse_file_name("20260101120000_add_orders.down.sql"),
            Some((20260101120000, "add_orders", false))
        );
        for bad in [
            "2026_add.up.sql",
            "20260101120000-add.up.sql",
            "20260101120000_Add.up.sql",
            "20260101120000_.up.sql",
            "20260101120000_add.sql",
        ] {
            assert_eq!(parse_file_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn sets_pair_up_and_down_and_reject_mistakes() {
        let set = Migrations::from_embedded(&[
            (
                "tenant",
                "20260102000000_b.up.sql",
                "-- strav:no-transaction\nCREATE INDEX CONCURRENTLY x ON t (a);",
            ),
            (
                "tenant",
                "20260101000000_a.up.sql",
                "CREATE TABLE t (a int);",
            ),
            ("tenant", "20260101000000_a.down.sql", "DROP TABLE t;"),
            ("public", "20260101000000_u.up.sql", "SELECT 1"),
        ])
        .unwrap();
        let t = set.domain("tenant");
        assert_eq!(
            t.iter().map(|m| m.version).collect::<Vec<_>>(),
            [20260101000000, 20260102000000]
        );
        assert_eq!(t[0].down.as_deref(), Some("DROP TABLE t;"));
        assert!(!t[0].no_transaction && t[1].no_transaction);
        assert_eq!(t[0].checksum.len(), 64);
        assert!(set.domain("nope").is_empty());
        assert_eq!(set.domains().collect::<Vec<_>>(), ["public", "tenant"]);

        let e = Migrations::from_embedded(&[("tenant", "x.up.sql", "")]).unwrap_err();
        assert!(
            e.to_string().contains("tenant/x.up.sql") && e.to_string().contains("YYYYMMDDHHMMSS"),
            "{e}"
        );
        let e =
            Migrations::from_embedded(&[("tenant", "20260101000000_a.down.sql", "")]).unwrap_err();
        assert!(e.to_string().contains("without its .up.sql"), "{e}");
        let e = Migrations::from_embedded(&[
            ("tenant", "20260101000000_a.up.sql", ""),
            ("tenant", "20260101000000_b.up.sql", ""),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("used twice"), "{e}");
    }

    #[test]
    fn splits_only_at_top_level_semicolons() {
        let sql = r#"
-- a comment; with a semicolon
CREATE TABLE "odd;name" (a text DEFAULT 'x;y', b text DEFAULT E'it\'s;');
/* block ; /* nested ; */ still ; */
CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE plpgsql;
CREATE FUNCTION g() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;
SELECT $1::int;
CREATE INDEX CONCURRENTLY i ON t (a)
-- trailing comment only;
"#;
        let parts = split_statements(sql);
        assert_eq!(parts.len(), 5, "{parts:#?}");
        assert!(parts[0].starts_with("-- a comment") && parts[0].ends_with("'it\\'s;')"));
        assert!(parts[1].contains("$body$ BEGIN RETURN 1; END; $body$"));
        assert!(parts[2].contains("$$ SELECT 1; $$"));
        assert_eq!(parts[3], "SELECT $1::int");
        assert!(parts[4].starts_with("CREATE INDEX CONCURRENTLY"));
    }
}
