//! What every test here needs: a temporary project directory to run the
//! built `strav` binary in, and the outcome of a run with the checks made on
//! it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// A database URL nothing listens on: for runs that must fail to connect, or
/// must never need to. Error messages name it as `127.0.0.1:1/x`.
pub const UNREACHABLE_URL: &str = "postgres://postgres@127.0.0.1:1/x";

/// A temporary directory that every `strav` run of a test works in, removed
/// on drop. Runs see DATABASE_URL only if it was given.
pub struct Project {
    dir: tempfile::TempDir,
    database_url: Option<String>,
}

impl Project {
    /// An empty directory: no config file, no definitions, no migrations.
    pub fn empty() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("strav-cli-test-")
            .tempdir()
            .expect("create a temporary project");
        Project {
            dir,
            database_url: None,
        }
    }

    /// A copy of the reference project in `schemas/`: the definitions under
    /// `database/schemas/` and the naming config in `config/generators.toml`.
    pub fn reference() -> Self {
        let project = Project::empty();
        let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
        for part in ["database", "config"] {
            copy_dir(&reference.join(part), &project.path(part));
        }
        project
    }

    /// Sets DATABASE_URL for every run.
    pub fn with_database_url(mut self, url: impl Into<String>) -> Self {
        self.database_url = Some(url.into());
        self
    }

    /// Writes `files` (`(file name, SQL)`) to the migrations of `domain`.
    pub fn with_migrations(self, domain: &str, files: &[(&str, &str)]) -> Self {
        for (name, sql) in files {
            self.write_migration(domain, name, sql);
        }
        self
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.root().join(rel)
    }

    pub fn read(&self, rel: impl AsRef<Path>) -> String {
        let rel = rel.as_ref();
        std::fs::read_to_string(self.path(rel))
            .unwrap_or_else(|e| panic!("read {}: {e}", rel.display()))
    }

    /// Writes `text` to `rel`, making its directories; returns the full path.
    pub fn write(&self, rel: impl AsRef<Path>, text: &str) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Replaces the first `from` in `rel` with `to`; `from` must be there.
    #[track_caller]
    pub fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} has no {from:?}");
        self.write(rel, &text.replacen(from, to, 1));
    }

    fn migrations_dir(&self, domain: &str) -> PathBuf {
        self.path(format!("database/migrations/{domain}"))
    }

    pub fn write_migration(&self, domain: &str, name: &str, sql: &str) {
        self.write(self.migrations_dir(domain).join(name), sql);
    }

    /// The file names in the migrations of `domain`, sorted; empty if none.
    pub fn migration_files(&self, domain: &str) -> Vec<String> {
        let mut names: Vec<String> = match std::fs::read_dir(self.migrations_dir(domain)) {
            Ok(entries) => entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => Vec::new(),
        };
        names.sort();
        names
    }

    /// `strav args...` here, not yet started: for runs a test spawns, waits on
    /// or kills itself. No RUST_LOG, no stdin.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_strav"));
        cmd.args(args)
            .current_dir(self.root())
            .env_remove("DATABASE_URL")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        if let Some(url) = &self.database_url {
            cmd.env("DATABASE_URL", url);
        }
        cmd
    }

    /// Runs `strav args...` here to the end.
    pub fn strav(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("run strav"))
    }

    /// Like `strav`, with DATABASE_URL set to `url` for this run.
    pub fn strav_with_url(&self, url: &str, args: &[&str]) -> Run {
        let output = self
            .command(args)
            .env("DATABASE_URL", url)
            .output()
            .expect("run strav");
        Run::from(output)
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// The outcome of one `strav` run. Every check prints the whole run when it
/// fails.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Run {
            // None means killed by a signal (a panic aborting, say): never fine.
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
        }
    }
}

impl Run {
    /// Exit 0.
    #[track_caller]
    pub fn ok(self) -> Self {
        self.exits(0)
    }

    /// Exit 0 with nothing on stderr.
    #[track_caller]
    pub fn ok_quiet(self) -> Self {
        let run = self.ok();
        assert_eq!(run.stderr, "", "nothing on stderr: {run:#?}");
        run
    }

    /// Exit `code`, whatever was printed (clap's usage errors, say).
    #[track_caller]
    pub fn exits(self, code: i32) -> Self {
        assert_eq!(self.code, code, "expected exit {code}: {self:#?}");
        self
    }

    /// Exit `code`, stderr ending in one newline and no blank line; stdout
    /// may still say what was found (`--check`, say).
    #[track_caller]
    pub fn fails(self, code: i32) -> Self {
        let run = self.exits(code);
        assert!(
            run.stderr.ends_with('\n') && !run.stderr.ends_with("\n\n"),
            "no trailing blank lines: {run:#?}"
        );
        run
    }

    /// Like `fails`, with stderr an `error: ` message (the library's may add
    /// lines after the first, such as the TOML parser's context) and nothing
    /// on stdout.
    #[track_caller]
    pub fn errors(self, code: i32) -> Self {
        let run = self.fails(code);
        assert!(
            run.stderr.starts_with("error: "),
            "errors start with `error: `: {run:#?}"
        );
        assert_eq!(run.stdout, "", "errors never reach stdout: {run:#?}");
        run
    }

    /// Like `errors`, with the message one line.
    #[track_caller]
    pub fn errors_in_one_line(self, code: i32) -> Self {
        let run = self.errors(code);
        assert_eq!(run.stderr.lines().count(), 1, "one line: {run:#?}");
        run
    }

    pub fn stdout_lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    pub fn first_stderr_line(&self) -> &str {
        self.stderr.lines().next().unwrap_or_default()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {:?}", self.stdout))
    }

    /// The files the run says it wrote (`wrote PATH` lines).
    pub fn written(&self) -> Vec<PathBuf> {
        self.stdout
            .lines()
            .filter_map(|l| l.strip_prefix("wrote "))
            .map(PathBuf::from)
            .collect()
    }

    /// `(name, domain)` of each schema in `schema:list --json` output.
    /// The objects of a JSON Lines stdout, one per line.
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("a line is not JSON ({e}): {l:?}"))
            })
            .collect()
    }

    pub fn listed_schemas(&self) -> Vec<(String, String)> {
        self.json_lines()
            .iter()
            .map(|s| {
                let field = |key: &str| {
                    s[key]
                        .as_str()
                        .unwrap_or_else(|| panic!("{key} is a string: {s}"))
                        .to_owned()
                };
                (field("name"), field("domain"))
            })
            .collect()
    }
}
