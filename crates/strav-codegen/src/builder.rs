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
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Write { path, source }
    };
    fs::create_dir_all(out_dir).map_err(write_error(out_dir))?;
    let mut report = Report::default();
    for file in files {
        let path = out_dir.join(&file.path);
        match fs::read(&path) {
            Ok(existing) if existing == file.contents.as_bytes() => report.unchanged.push(path),
            _ => {
                fs::write(&path, &file.contents).map_err(write_error(&path))?;
                report.written.push(path);
            }
        }
    }
    let read_error = |source| Error::Read {
        path: out_dir.to_path_buf(),
        source,
    };
    let mut stale = Vec::new();
    for entry in fs::read_dir(out_dir).map_err(read_error)? {
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
    for path in stale {
        fs::remove_file(&path).map_err(write_error(&path))?;
        report.removed.push(path);
    }
    Ok(report)
}
