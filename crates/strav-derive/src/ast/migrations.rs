//! `embed_migrations!("dir")`'s input: the migration files found under
//! `dir`, one folder per domain, read at compile time.
//!
//! The directory is read here, not in the expansion, so the expansion
//! stays a function of values that a test can write down.

use std::path::{Path, PathBuf};

use syn::LitStr;

pub struct MigrationDir {
    /// Domains in name order, each domain's files in name order: the order
    /// the embedded list has, so a build does not depend on the order the
    /// file system lists them in.
    pub files: Vec<MigrationFile>,
}

pub struct MigrationFile {
    /// The folder the file is in.
    pub domain: String,
    /// The file name, which carries the version and the direction.
    pub name: String,
    /// Absolute, as `include_str!` in the expansion needs it.
    pub path: String,
}

impl MigrationDir {
    /// Reads `dir`, relative to the `Cargo.toml` of the crate being built.
    /// Errors point at `dir`; the first one ends the reading.
    pub fn read(dir: &LitStr) -> syn::Result<Self> {
        let root = std::env::var("CARGO_MANIFEST_DIR").map_err(|_| {
            syn::Error::new(
                dir.span(),
                "embed_migrations! needs CARGO_MANIFEST_DIR (build with cargo)",
            )
        })?;
        let base = PathBuf::from(root).join(dir.value());
        let mut files = Vec::new();
        for domain_dir in entries(dir, &base, |p| p.is_dir())? {
            let domain = file_name(&domain_dir);
            let sql = |p: &Path| p.extension().is_some_and(|x| x == "sql");
            for file in entries(dir, &domain_dir, sql)? {
                files.push(MigrationFile {
                    domain: domain.clone(),
                    name: file_name(&file),
                    path: file.display().to_string(),
                });
            }
        }
        Ok(MigrationDir { files })
    }
}

/// The entries of `path` that `keep` accepts, sorted.
fn entries(dir: &LitStr, path: &Path, keep: impl Fn(&Path) -> bool) -> syn::Result<Vec<PathBuf>> {
    let read = std::fs::read_dir(path).map_err(|e| {
        syn::Error::new(
            dir.span(),
            format!("cannot read migrations directory {}: {e}", path.display()),
        )
    })?;
    let mut found: Vec<PathBuf> = read
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| keep(p))
        .collect();
    found.sort();
    Ok(found)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
