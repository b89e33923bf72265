//! The `build.rs` API: read, validate, render, and write only what changed.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::catalog::Catalog;
use crate::diagnostics::Error;
use crate::emit::{GeneratedFile, GENERATED_MARKER};
use crate::project::Project;

/// Generates model code from a schemas directory.
///
/// ```no_run
/// // build.rs
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     strav_codegen::Builder::new()
///         .schemas("database/schemas")
///         .config("config/generators.toml")
///         .out_dir(std::env::var("OUT_DIR")?)
///         .generate()?;
///     Ok(())
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    schemas: PathBuf,
    config: Option<PathBuf>,
    config_explicit: bool,
    out_dir: Option<PathBuf>,
    cargo_directives: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

/// What [`Builder::generate`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Files whose content changed (or that did not exist), as paths in the output dir.
    pub written: Vec<PathBuf>,
    /// Files left untouched because their content was already right.
    pub unchanged: Vec<PathBuf>,
    /// Earlier generated files of domains that no longer exist.
    pub removed: Vec<PathBuf>,
    /// Every input file and directory (what `cargo:rerun-if-changed` was told).
    pub inputs: Vec<PathBuf>,
}

impl Builder {
    /// Defaults: schemas in `database/schemas`, naming from `config/generators.toml` if that
    /// file exists, output to `$OUT_DIR`, `cargo:rerun-if-changed` lines printed.
    pub fn new() -> Self {
        Builder {
            schemas: PathBuf::from("database/schemas"),
            config: Some(PathBuf::from("config/generators.toml")),
            config_explicit: false,
            out_dir: None,
            cargo_directives: true,
        }
    }

    /// The directory holding `<domain>/<table>.toml`.
    pub fn schemas(mut self, dir: impl Into<PathBuf>) -> Self {
        self.schemas = dir.into();
        self
    }

    /// The naming config; once set explicitly, a missing file is an error.
    pub fn config(mut self, file: impl Into<PathBuf>) -> Self {
        self.config = Some(file.into());
        self.config_explicit = true;
        self
    }

    /// Use default naming and ignore any `config/generators.toml`.
    pub fn without_config(mut self) -> Self {
        self.config = None;
        self.config_explicit = true;
        self
    }

    /// Where `mod.rs` and the domain modules go (created if missing).
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Print `cargo:rerun-if-changed=...` for every input (default `true`; turn it off
    /// outside build scripts, such as in the CLI).
    pub fn cargo_directives(mut self, on: bool) -> Self {
        self.cargo_directives = on;
        self
    }

    /// The config file that will be read: the explicit one, or the default one if it exists.
    fn config_path(&self) -> Option<&Path> {
        match &self.config {
            Some(path) if self.config_explicit || path.exists() => Some(path.as_path()),
            _ => None,
        }
    }

    /// Reads the inputs without validating them.
    pub fn project(&self) -> Result<Project, Error> {
        Project::load(&self.schemas, self.config_path())
    }

    /// Reads and validates: the catalog, or every problem found.
    pub fn catalog(&self) -> Result<Catalog, Error> {
        self.project()?.catalog()
    }

    /// Reads, validates, renders and writes. A file whose content is already right is not
    /// touched, so cargo does not rebuild the crate that includes it.
    pub fn generate(&self) -> Result<Report, Error> {
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::NoOutDir)?,
        };
        if self.cargo_directives {
            // Printed before validation: after a failed build cargo must still rerun the
            // script when the user fixes a file. The directories make new files count too.
            let mut stdout = std::io::stdout().lock();
            if let Some(config) = self.config_path() {
                let _ = writeln!(stdout, "cargo:rerun-if-changed={}", config.display());
            }
            let _ = writeln!(stdout, "cargo:rerun-if-changed={}", self.schemas.display());
        }
        let project = self.project()?;
        if self.cargo_directives {
            let mut stdout = std::io::stdout().lock();
            for input in &project.inputs {
                let _ = writeln!(stdout, "cargo:rerun-if-changed={}", input.display());
            }
        }
        let files = project.render()?;
        let mut report = write_files(&out_dir, &files)?;
        report.inputs = project.inputs;
        Ok(report)
    }
}

/// Writes `files` into `out_dir`, skipping those already up to date, and removes generated
/// `.rs` files that are no longer produced.
pub fn write_files(out_dir: &Path, files: &[GeneratedFile]) -> Result<Report, Error> {
    let mut report = write_files_only(out_dir, files)?;
    for path in stale_files(out_dir, files)? {
        fs::remove_file(&path).map_err(write_error(&path))?;
        report.removed.push(path);
    }
    Ok(report)
}

/// Writes `files` into `out_dir` like [`write_files`], but removes nothing: for
/// regenerating part of the output (one domain and `mod.rs`) next to generated files that
/// this call does not produce.
pub fn write_files_only(out_dir: &Path, files: &[GeneratedFile]) -> Result<Report, Error> {
    fs::create_dir_all(out_dir).map_err(write_error(out_dir))?;
    let mut report = Report::default();
    for file in files {
        let path = out_dir.join(&file.path);
        if is_up_to_date(&path, file) {
            report.unchanged.push(path);
        } else {
            fs::write(&path, &file.contents).map_err(write_error(&path))?;
            report.written.push(path);
        }
    }
    Ok(report)
}

/// What [`write_files`] would do, touching nothing: `written` lists the files whose
/// content would change (or that do not exist), `removed` the stale generated files that
/// would be deleted. A missing `out_dir` means every file would be written. For checks
/// such as `strav generate:models --check`.
pub fn check_files(out_dir: &Path, files: &[GeneratedFile]) -> Result<Report, Error> {
    let mut report = check_files_only(out_dir, files);
    report.removed = stale_files(out_dir, files)?;
    Ok(report)
}

/// What [`write_files_only`] would do, touching nothing: like [`check_files`], but never
/// reports a file as removed.
pub fn check_files_only(out_dir: &Path, files: &[GeneratedFile]) -> Report {
    let mut report = Report::default();
    for file in files {
        let path = out_dir.join(&file.path);
        if is_up_to_date(&path, file) {
            report.unchanged.push(path);
        } else {
            report.written.push(path);
        }
    }
    report
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Write { path, source }
}

/// Whether `path` already holds exactly `file`'s bytes; unreadable counts as different.
fn is_up_to_date(path: &Path, file: &GeneratedFile) -> bool {
    fs::read(path).is_ok_and(|existing| existing == file.contents.as_bytes())
}

/// Generated `.rs` files in `out_dir` (those starting with [`GENERATED_MARKER`]) that
/// `files` does not produce, sorted; none when `out_dir` does not exist.
fn stale_files(out_dir: &Path, files: &[GeneratedFile]) -> Result<Vec<PathBuf>, Error> {
    let read_error = |source| Error::Read {
        path: out_dir.to_path_buf(),
        source,
    };
    let entries = match fs::read_dir(out_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(read_error(e)),
    };
    let mut stale = Vec::new();
    for entry in entries {
        let path = entry.map_err(read_error)?.path();
        let produced = files.iter().any(|f| out_dir.join(&f.path) == path);
        if produced || path.extension().is_none_or(|e| e != "rs") || !path.is_file() {
            continue;
        }
        let is_generated = fs::read_to_string(&path)
            .map(|text| text.starts_with(GENERATED_MARKER))
            .unwrap_or(false);
        if is_generated {
            stale.push(path);
        }
    }
    stale.sort();
    Ok(stale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, contents: &str) -> GeneratedFile {
        GeneratedFile {
            path: PathBuf::from(path),
            contents: contents.to_string(),
        }
    }

    fn generated(body: &str) -> String {
        format!("{GENERATED_MARKER} from test.\n{body}\n")
    }

    fn names(paths: &[PathBuf]) -> Vec<String> {
        paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn check_reports_what_write_would_do_and_touches_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("models");
        let files = [
            file("mod.rs", &generated("pub mod a;")),
            file("a.rs", &generated("pub struct A;")),
        ];

        // No output directory yet: everything would be written, nothing is created.
        let report = check_files(&out, &files).unwrap();
        assert_eq!(names(&report.written), ["mod.rs", "a.rs"]);
        assert!(report.unchanged.is_empty() && report.removed.is_empty());
        assert!(!out.exists());

        write_files(&out, &files).unwrap();
        fs::write(out.join("old.rs"), generated("pub struct Old;")).unwrap();
        fs::write(out.join("mine.rs"), "pub struct Mine;\n").unwrap();
        fs::write(out.join("a.rs"), generated("pub struct Edited;")).unwrap();

        let report = check_files(&out, &files).unwrap();
        assert_eq!(names(&report.written), ["a.rs"]);
        assert_eq!(names(&report.unchanged), ["mod.rs"]);
        assert_eq!(names(&report.removed), ["old.rs"]);
        // Nothing was touched: the edit and the stale file are still there.
        assert_eq!(
            fs::read_to_string(out.join("a.rs")).unwrap(),
            generated("pub struct Edited;")
        );
        assert!(out.join("old.rs").exists());

        // The same answer as a real write gives.
        assert_eq!(write_files(&out, &files).unwrap(), report);
        assert!(!out.join("old.rs").exists());
        assert!(out.join("mine.rs").exists());
    }

    #[test]
    fn writing_only_some_files_keeps_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("models");
        let all = [
            file("mod.rs", &generated("pub mod a; pub mod b;")),
            file("a.rs", &generated("pub struct A;")),
            file("b.rs", &generated("pub struct B;")),
        ];
        write_files(&out, &all).unwrap();

        let a = [file("a.rs", &generated("pub struct A2;"))];
        assert_eq!(names(&check_files_only(&out, &a).written), ["a.rs"]);
        let report = write_files_only(&out, &a).unwrap();
        assert_eq!(names(&report.written), ["a.rs"]);
        assert!(report.removed.is_empty());
        // mod.rs and b.rs are generated files that this call did not produce: kept.
        assert!(out.join("mod.rs").exists() && out.join("b.rs").exists());
        assert_eq!(names(&check_files_only(&out, &a).unchanged), ["a.rs"]);
        assert!(check_files_only(&out, &a).written.is_empty());
    }
}
