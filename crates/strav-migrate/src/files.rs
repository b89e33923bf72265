//! Writing a plan as a pair of migration files that sort last.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use strav_codegen::diff::MigrationPlan;

use crate::error::{Error, Result};

/// File names keep at most this many characters of the message.
const MAX_SLUG: usize = 60;

/// The file-name part of a message: lower-case ASCII letters and digits,
/// anything else one `_`, at most 60 characters; `None` when nothing is left.
pub fn slug(message: &str) -> Option<String> {
    let mut out = String::new();
    for c in message.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    out.truncate(MAX_SLUG);
    let out = out.trim_end_matches('_');
    (!out.is_empty()).then(|| out.to_owned())
}

/// Now (UTC) as `YYYYMMDDHHMMSS`, or one second after the newest migration of
/// the domain if that is later: the new file must sort last.
fn next_version(last: Option<i64>) -> i64 {
    let now: i64 = chrono::Utc::now()
        .format("%Y%m%d%H%M%S")
        .to_string()
        .parse()
        .expect("a formatted timestamp is a number");
    match last {
        Some(last) if last >= now => {
            chrono::NaiveDateTime::parse_from_str(&last.to_string(), "%Y%m%d%H%M%S")
                .ok()
                .and_then(|t| t.checked_add_signed(chrono::TimeDelta::seconds(1)))
                .and_then(|t| t.format("%Y%m%d%H%M%S").to_string().parse().ok())
                .unwrap_or(last + 1)
        }
        _ => now,
    }
}

/// Writes `plan` as `<dir>/<version>_<slug>.up.sql` and `.down.sql`, the
/// version after `last_version`; never overwrites a file.
pub(crate) fn write_files(
    dir: &Path,
    domain: &str,
    message: &str,
    slug: &str,
    last_version: Option<i64>,
    plan: &MigrationPlan,
) -> Result<Vec<PathBuf>> {
    let version = next_version(last_version);
    let stem = format!("{version}_{slug}");
    let up_path = dir.join(format!("{stem}.up.sql"));
    let down_path = dir.join(format!("{stem}.down.sql"));
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut up = String::new();
    if plan.no_transaction {
        // The runner looks for the marker at the very start of the file.
        up.push_str(strav_orm::migrate::NO_TRANSACTION_MARKER);
        up.push('\n');
    }
    up.push_str(&format!(
        "-- {message}\n-- Written by `strav generate:migration --scope={domain}`; review it \
         before applying.\n\n{}",
        plan.up
    ));
    let down = format!(
        "-- {message} (reverts {stem}.up.sql)\n-- Written by `strav generate:migration \
         --scope={domain}`; review it before applying.\n\n{}",
        plan.down
    );
    fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_owned(),
        source,
    })?;
    for (path, text) in [(&up_path, &up), (&down_path, &down)] {
        // Never overwrite: a file of that name is somebody's migration.
        let failed = |source| Error::Write {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(failed)?;
        file.write_all(text.as_bytes()).map_err(failed)?;
    }
    Ok(vec![up_path, down_path])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(
            slug("add orders table").as_deref(),
            Some("add_orders_table")
        );
        assert_eq!(
            slug("  Add  Orders -- Table!! ").as_deref(),
            Some("add_orders_table")
        );
        assert_eq!(slug("v2: café").as_deref(), Some("v2_caf"));
        assert_eq!(slug("!!! ..."), None);
        assert_eq!(slug(""), None);
        let long = slug(&"word ".repeat(30)).unwrap();
        assert!(long.len() <= MAX_SLUG && !long.ends_with('_'), "{long}");
    }

    #[test]
    fn versions_sort_after_the_newest_migration() {
        let now = next_version(None);
        assert_eq!(now.to_string().len(), 14);
        assert_eq!(next_version(Some(29991231235959)), 30000101000000);
        assert!(next_version(Some(20000101000000)) >= now);
    }
}
