//! The inputs of a run: definition files grouped by domain, and the naming config. Read
//! from disk by [`Project::load`] or assembled in memory (tests, benchmarks, tools).

use std::fs;
use std::path::{Path, PathBuf};

use crate::catalog::Catalog;
use crate::config::Config;
use crate::definition::DefinitionFile;
use crate::diagnostics::{Diagnostic, Diagnostics, Error, SourceFile};
use crate::emit::{self, GeneratedFile};
use crate::validate;

/// Everything one generation run reads.
#[derive(Clone, Debug, Default)]
pub struct Project {
    /// `config/generators.toml`; `None` means all defaults.
    pub config: Option<SourceFile>,
    /// Sorted by relative path once loaded, so every run visits files in the same order.
    pub definitions: Vec<DefinitionFile>,
    /// Every file and directory read, for `cargo:rerun-if-changed`.
    pub inputs: Vec<PathBuf>,
    /// Layout problems found while reading (misplaced files, bad directory names).
    layout: Vec<Diagnostic>,
}

impl Project {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the naming config from text; `path` is what diagnostics print.
    pub fn with_config(mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        self.config = Some(SourceFile::new(path, text));
        self
    }

    /// Adds `<domain>/<table>.toml` from text; diagnostics print `relative` as its path.
    pub fn with_definition(
        mut self,
        domain: impl Into<String>,
        table_file: &str,
        text: impl Into<String>,
    ) -> Self {
        let domain = domain.into();
        let relative = Path::new(&domain).join(table_file);
        self.definitions.push(DefinitionFile {
            domain,
            source: SourceFile::new(relative.clone(), text),
            relative,
        });
        self
    }

    /// Reads `schemas_dir/<domain>/*.toml` and, when given, the config file. Paths in
    /// diagnostics are the given paths joined with the file names, so relative paths stay
    /// relative.
    pub fn load(schemas_dir: &Path, config: Option<&Path>) -> Result<Project, Error> {
        let mut project = Project::new();
        if let Some(path) = config {
            project.inputs.push(path.to_path_buf());
            let text = fs::read_to_string(path).map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            })?;
            project.config = Some(SourceFile::new(path, text));
        }
        project.inputs.push(schemas_dir.to_path_buf());
        for entry in read_dir_sorted(schemas_dir)? {
            let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if entry.is_dir() {
                project.inputs.push(entry.clone());
                project.load_domain(&entry, name)?;
            } else if entry.extension().is_some_and(|e| e == "toml") {
                project.inputs.push(entry.clone());
                project.layout.push(
                    Diagnostic::file(&entry, "definition file outside a domain directory")
                        .with_help(format!(
                            "move it to a domain directory, such as {}",
                            schemas_dir.join("public").join(name).display()
                        )),
                );
            }
        }
        Ok(project)
    }

    fn load_domain(&mut self, dir: &Path, domain: &str) -> Result<(), Error> {
        let files: Vec<PathBuf> = read_dir_sorted(dir)?
            .into_iter()
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
            .collect();
        for path in files {
            self.inputs.push(path.clone());
            let bytes = fs::read(&path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            let relative = Path::new(domain).join(path.file_name().unwrap_or_default());
            match String::from_utf8(bytes) {
                Ok(text) => self.definitions.push(DefinitionFile {
                    domain: domain.to_string(),
                    relative,
                    source: SourceFile::new(path, text),
                }),
                Err(_) => self.layout.push(
                    Diagnostic::file(&path, "definition file is not valid UTF-8")
                        .with_help("save it as UTF-8"),
                ),
            }
        }
        Ok(())
    }

    /// Validates everything and builds the catalog; every problem of the run is reported.
    pub fn catalog(&self) -> Result<Catalog, Error> {
        let mut diags = Diagnostics::new();
        for d in &self.layout {
            diags.push(d.clone());
        }
        let config = self.parse_config(&mut diags);
        let mut definitions: Vec<&DefinitionFile> = self.definitions.iter().collect();
        definitions.sort_by(|a, b| a.relative.cmp(&b.relative));
        let catalog = validate::build(&config, &definitions, &mut diags);
        diags.finish(catalog)
    }

    /// The naming config (defaults when there is no file), or its problems.
    pub fn config(&self) -> Result<Config, Error> {
        let mut diags = Diagnostics::new();
        let config = self.parse_config(&mut diags);
        diags.finish(config)
    }

    fn parse_config(&self, diags: &mut Diagnostics) -> Config {
        match &self.config {
            Some(file) => Config::parse(file, diags),
            None => Config::default(),
        }
    }

    /// Validates and renders: `mod.rs` plus one file per domain, formatted.
    pub fn render(&self) -> Result<Vec<GeneratedFile>, Error> {
        let catalog = self.catalog()?;
        let config_name = self
            .config
            .as_ref()
            .and_then(|c| c.path().file_name())
            .map(|n| n.to_string_lossy().into_owned());
        Ok(emit::render(&catalog, config_name.as_deref()))
    }
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let read_error = |source| Error::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(read_error)? {
        entries.push(entry.map_err(read_error)?.path());
    }
    entries.sort();
    Ok(entries)
}
