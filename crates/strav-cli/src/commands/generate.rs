//! `generate:models`: Rust models from the definition files. Reads and writes
//! files only; never connects to a database.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use strav_codegen::emit::GENERATED_MARKER;
use strav_codegen::{Builder, GeneratedFile, Report};

use crate::cli::{GenerateModelsArgs, Global};
use crate::exit::CliError;
use crate::output;

/// Where the definitions are, relative to the project root (the current directory).
const DEFAULT_SCHEMAS: &str = "database/schemas";

pub fn models(global: &Global, args: GenerateModelsArgs) -> Result<(), CliError> {
    if global.config.is_some() {
        // Silently ignoring it would let `--config config/generators.toml` look
        // like it worked while the defaults were used.
        return Err(CliError::usage(
            "--config names the database configuration, which generate:models does not \
             read; pass the naming configuration with --generators PATH",
        ));
    }
    let schemas = args
        .schemas
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_SCHEMAS));
    require_dir(&schemas)?;
    let mut builder = Builder::new().schemas(&schemas).cargo_directives(false);
    if let Some(path) = &args.generators {
        builder = builder.config(path);
    }
    let project = builder.project()?;

    let domains: BTreeSet<&str> = project
        .definitions
        .iter()
        .map(|d| d.domain.as_str())
        .collect();
    if domains.is_empty() {
        // A file misplaced directly in the schemas directory is the likelier
        // story than an empty project: its diagnostic says what to move where.
        project.catalog()?;
        return Err(CliError::usage(format!(
            "no definitions found in {dir}: create one directory per domain with one \
             file per table, such as {example}",
            dir = schemas.display(),
            example = schemas.join("public").join("users.toml").display(),
        )));
    }
    let scope = Scope::parse(&args.scope, &domains, &schemas)?;

    // Validation always covers every domain: references cross domains, and
    // mod.rs re-exports every name.
    let files = project.render()?;
    let out = match args.out {
        Some(dir) => dir,
        None => PathBuf::from(project.config()?.models_dir),
    };
    let selected = scope.select(&files);

    if args.check {
        check(&out, &files, &selected, &scope)
    } else {
        write(&out, &files, &selected, &scope)
    }
}

/// What `--scope` names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    All,
    Domain(String),
}

impl Scope {
    fn parse(value: &str, domains: &BTreeSet<&str>, schemas: &Path) -> Result<Scope, CliError> {
        if value == "all" {
            return Ok(Scope::All);
        }
        if domains.contains(value) {
            return Ok(Scope::Domain(value.to_string()));
        }
        Err(CliError::usage(format!(
            "unknown scope {value:?}; the domains found in {} are: {} (or \"all\")",
            schemas.display(),
            domains.iter().copied().collect::<Vec<_>>().join(", ")
        )))
    }

    /// The files this scope writes: all of them, or the domain's file and
    /// `mod.rs`, which is rendered from every domain so it is right whatever
    /// the scope.
    fn select(&self, files: &[GeneratedFile]) -> Vec<GeneratedFile> {
        match self {
            Scope::All => files.to_vec(),
            Scope::Domain(domain) => {
                let own = PathBuf::from(format!("{domain}.rs"));
                files
                    .iter()
                    .filter(|f| f.path == Path::new("mod.rs") || f.path == own)
                    .cloned()
                    .collect()
            }
        }
    }

    fn as_arg(&self) -> &str {
        match self {
            Scope::All => "all",
            Scope::Domain(domain) => domain,
        }
    }
}

/// The definitions directory must exist; say where it was looked for and what
/// belongs there.
fn require_dir(schemas: &Path) -> Result<(), CliError> {
    if schemas.is_dir() {
        return Ok(());
    }
    let looked = std::path::absolute(schemas).unwrap_or_else(|_| schemas.to_path_buf());
    let problem = if schemas.exists() {
        "is not a directory"
    } else {
        "does not exist"
    };
    Err(CliError::usage(format!(
        "no definitions to generate from: {} {problem}; create {}/<domain>/<table>.toml, \
         one file per table (such as {}), run strav from the project root, or pass \
         --schemas DIR",
        looked.display(),
        schemas.display(),
        schemas.join("public").join("users.toml").display(),
    )))
}

/// `--check`: says what would change and fails if anything would.
fn check(
    out: &Path,
    files: &[GeneratedFile],
    selected: &[GeneratedFile],
    scope: &Scope,
) -> Result<(), CliError> {
    let report = match scope {
        Scope::All => strav_codegen::check_files(out, files)?,
        Scope::Domain(_) => strav_codegen::check_files_only(out, selected),
    };
    output::print(|w| {
        for path in &report.written {
            writeln!(w, "would write {}", path.display())?;
        }
        for path in &report.removed {
            writeln!(w, "would remove {}", path.display())?;
        }
        if report.written.is_empty() && report.removed.is_empty() {
            writeln!(w, "models are up to date")?;
        }
        Ok(())
    })?;
    if report.written.is_empty() && report.removed.is_empty() {
        Ok(())
    } else {
        Err(CliError::failure(format!(
            "the generated models in {} are out of date; run `strav generate:models \
             --scope={}` to update them",
            out.display(),
            scope.as_arg()
        )))
    }
}

/// Writes what changed and says, file by file, what it did.
fn write(
    out: &Path,
    files: &[GeneratedFile],
    selected: &[GeneratedFile],
    scope: &Scope,
) -> Result<(), CliError> {
    // Refuse before writing anything, so a refusal leaves the directory as it was.
    let planned = strav_codegen::check_files_only(out, selected);
    for path in &planned.written {
        refuse_foreign(path)?;
    }
    let report = match scope {
        Scope::All => strav_codegen::write_files(out, files)?,
        Scope::Domain(_) => strav_codegen::write_files_only(out, selected)?,
    };
    output::print(|w| print_report(w, &report))?;
    if let Scope::Domain(domain) = scope {
        let rest = strav_codegen::check_files(out, files)?;
        note_left_behind(&rest, domain);
    }
    Ok(())
}

/// `wrote`/`unchanged` in file order (mod.rs, then the domains), then `removed`.
fn print_report(w: &mut dyn Write, report: &Report) -> io::Result<()> {
    let mut lines: Vec<(&Path, &str)> = report
        .written
        .iter()
        .map(|p| (p.as_path(), "wrote"))
        .chain(report.unchanged.iter().map(|p| (p.as_path(), "unchanged")))
        .collect();
    lines.sort_by_key(|(path, _)| (!path.ends_with("mod.rs"), *path));
    for (path, verb) in lines {
        writeln!(w, "{verb} {}", path.display())?;
    }
    for path in &report.removed {
        writeln!(w, "removed {}", path.display())?;
    }
    Ok(())
}

/// A file in the way that strav did not write (a hand-written `src/models/mod.rs`,
/// say) is the user's code: never overwrite it.
fn refuse_foreign(path: &Path) -> Result<(), CliError> {
    let mut start = Vec::with_capacity(GENERATED_MARKER.len());
    let opened = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(CliError::failure(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    opened
        .take(GENERATED_MARKER.len() as u64)
        .read_to_end(&mut start)
        .map_err(|e| CliError::failure(format!("cannot read {}: {e}", path.display())))?;
    if start == GENERATED_MARKER.as_bytes() {
        return Ok(());
    }
    Err(CliError::usage(format!(
        "{} exists and was not generated by strav (it does not start with \
         \"{GENERATED_MARKER}\"); move it away, or write the models elsewhere with \
         [output] models in config/generators.toml or --out DIR",
        path.display()
    )))
}

/// After a one-domain run: the generated files this run did not update and that
/// `--scope=all` would change, on stderr, so stdout stays one line per file.
fn note_left_behind(rest: &Report, domain: &str) {
    if rest.written.is_empty() && rest.removed.is_empty() {
        return;
    }
    let files: Vec<String> = rest
        .written
        .iter()
        .map(|p| format!("{} (out of date)", p.display()))
        .chain(
            rest.removed
                .iter()
                .map(|p| format!("{} (its domain is gone)", p.display())),
        )
        .collect();
    let _ = writeln!(
        io::stderr().lock(),
        "note: --scope={domain} left {}; run `strav generate:models --scope=all` to update \
         every domain",
        files.join(", ")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> GeneratedFile {
        GeneratedFile {
            path: PathBuf::from(path),
            contents: String::new(),
        }
    }

    fn paths(files: &[GeneratedFile]) -> Vec<&Path> {
        files.iter().map(|f| f.path.as_path()).collect()
    }

    #[test]
    fn scope_is_all_or_a_domain_found() {
        let domains = BTreeSet::from(["public", "tenant"]);
        let dir = Path::new("database/schemas");
        assert_eq!(Scope::parse("all", &domains, dir).unwrap(), Scope::All);
        assert_eq!(
            Scope::parse("tenant", &domains, dir).unwrap(),
            Scope::Domain("tenant".into())
        );
        match Scope::parse("tenants", &domains, dir).unwrap_err() {
            CliError::Message { code, message } => {
                assert_eq!(code, crate::exit::USAGE);
                assert_eq!(
                    message,
                    "unknown scope \"tenants\"; the domains found in database/schemas are: \
                     public, tenant (or \"all\")"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_domain_scope_selects_its_file_and_mod_rs() {
        let files = [
            file("mod.rs"),
            file("public.rs"),
            file("tenant.rs"),
            file("tenant_archive.rs"),
        ];
        assert_eq!(
            paths(&Scope::Domain("tenant".into()).select(&files)),
            [Path::new("mod.rs"), Path::new("tenant.rs")]
        );
        assert_eq!(paths(&Scope::All.select(&files)), paths(&files));
    }

    #[test]
    fn report_lists_mod_rs_first_then_domains_then_removals() {
        let report = Report {
            written: vec!["m/tenant.rs".into(), "m/mod.rs".into()],
            unchanged: vec!["m/factory.rs".into()],
            removed: vec!["m/old.rs".into()],
            inputs: vec![],
        };
        let mut buf = Vec::new();
        print_report(&mut buf, &report).unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "wrote m/mod.rs\nunchanged m/factory.rs\nwrote m/tenant.rs\nremoved m/old.rs\n"
        );
    }

    #[test]
    fn only_files_without_the_generated_header_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.rs");
        assert!(refuse_foreign(&missing).is_ok());
        let generated = dir.path().join("generated.rs");
        std::fs::write(&generated, format!("{GENERATED_MARKER} from x.\n")).unwrap();
        assert!(refuse_foreign(&generated).is_ok());
        let short = dir.path().join("short.rs");
        std::fs::write(&short, "//").unwrap();
        assert!(refuse_foreign(&short).is_err());
        let mine = dir.path().join("mine.rs");
        std::fs::write(&mine, "pub mod user;\n").unwrap();
        match refuse_foreign(&mine).unwrap_err() {
            CliError::Message { code, message } => {
                assert_eq!(code, crate::exit::USAGE);
                assert!(message.contains("was not generated by strav"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
