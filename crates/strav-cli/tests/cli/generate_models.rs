//! `strav generate:models`: the real binary in a fresh copy of the reference
//! project (schemas/) per test, so tests run in parallel and leave nothing
//! behind. DATABASE_URL points at a port nothing listens on: the command must
//! never need a database.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

/// The outcome of one `strav` run.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn ok(self) -> Self {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        self
    }

    #[track_caller]
    fn fails(self, code: i32) -> Self {
        assert_eq!(self.code, code, "expected exit {code}: {self:#?}");
        assert!(
            self.stderr.ends_with('\n') && !self.stderr.ends_with("\n\n"),
            "no trailing blank lines: {self:#?}"
        );
        self
    }

    fn stdout_lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

/// A copy of the reference project, removed on drop.
struct Project(tempfile::TempDir);

const DOMAIN_FILES: [&str; 4] = ["factory.rs", "marketing.rs", "public.rs", "tenant.rs"];

impl Project {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("strav-generate-models-")
            .tempdir()
            .expect("create a temp project");
        let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
        copy_dir(&reference.join("database"), &dir.path().join("database"));
        copy_dir(&reference.join("config"), &dir.path().join("config"));
        Project(dir)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.path().join(rel)
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// Replaces the first `from` in `rel` with `to`; `from` must be there.
    fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} contains {from:?}");
        self.write(rel, &text.replacen(from, to, 1));
    }

    fn strav(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_strav"))
            .args(args)
            .current_dir(self.0.path())
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/nothing")
            .env_remove("RUST_LOG")
            .output()
            .expect("run strav");
        Run {
            // None means killed by a signal (a panic aborting, say): never fine.
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
        }
    }

    /// Every file under `rel` with its bytes and mtime, sorted; empty if absent.
    fn snapshot(&self, rel: &str) -> Vec<(String, Vec<u8>, SystemTime)> {
        let Ok(entries) = fs::read_dir(self.path(rel)) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries
            .map(|e| {
                let path = e.unwrap().path();
                (
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    fs::read(&path).unwrap(),
                    fs::metadata(&path).unwrap().modified().unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    }

    /// Moves every file under `rel` an hour into the past, so that any rewrite,
    /// even with the same bytes, shows in the mtime.
    fn backdate(&self, rel: &str) -> SystemTime {
        let past = SystemTime::now() - Duration::from_secs(3600);
        for entry in fs::read_dir(self.path(rel)).unwrap() {
            fs::File::options()
                .write(true)
                .open(entry.unwrap().path())
                .unwrap()
                .set_modified(past)
                .unwrap();
        }
        past
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            fs::copy(&path, &target).unwrap();
        }
    }
}

fn names(files: &[(String, Vec<u8>, SystemTime)]) -> Vec<&str> {
    files.iter().map(|(n, _, _)| n.as_str()).collect()
}

const ADD_COLUMN: (&str, &str) = (
    "ship_by     = { type = \"date\", nullable = true }",
    "ship_by     = { type = \"date\", nullable = true }\ncoupon      = { type = \"text\", nullable = true }",
);

#[test]
fn scope_all_writes_mod_rs_and_every_domain() {
    let p = Project::new();
    let run = p.strav(&["generate:models", "--scope=all"]).ok();
    assert_eq!(
        run.stdout_lines(),
        [
            "wrote src/models/mod.rs",
            "wrote src/models/factory.rs",
            "wrote src/models/marketing.rs",
            "wrote src/models/public.rs",
            "wrote src/models/tenant.rs",
        ]
    );
    assert_eq!(run.stderr, "");
    let files = p.snapshot("src/models");
    assert_eq!(
        names(&files),
        [
            "factory.rs",
            "marketing.rs",
            "mod.rs",
            "public.rs",
            "tenant.rs"
        ]
    );
    for (name, bytes, _) in &files {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            text.starts_with("// @generated by strav-codegen from "),
            "{name} starts with the @generated header:\n{text}"
        );
    }
    let tenant = p.read("src/models/tenant.rs");
    assert!(tenant.contains("pub struct TenantOrder {"), "{tenant}");
    assert!(tenant.starts_with(
        "// @generated by strav-codegen from tenant/order_items.toml, tenant/orders.toml, \
         tenant/products.toml.\n"
    ));
    // The naming config was read: factory's prefix is "Plant", not "Factory".
    assert!(p
        .read("src/models/factory.rs")
        .contains("pub struct PlantMachine {"));
    let module = p.read("src/models/mod.rs");
    for domain in ["factory", "marketing", "public", "tenant"] {
        assert!(module.contains(&format!("pub mod {domain};")), "{module}");
    }
}

#[test]
fn scope_defaults_to_all() {
    let p = Project::new();
    let run = p.strav(&["generate:models"]).ok();
    assert_eq!(run.stdout_lines().len(), 5, "{run:#?}");
    assert_eq!(p.snapshot("src/models").len(), 5);
}

#[test]
fn a_second_run_changes_nothing_and_says_so() {
    let p = Project::new();
    p.strav(&["generate:models", "--scope=all"]).ok();
    let past = p.backdate("src/models");
    let before = p.snapshot("src/models");

    let run = p.strav(&["generate:models", "--scope=all"]).ok();
    assert_eq!(
        run.stdout_lines(),
        [
            "unchanged src/models/mod.rs",
            "unchanged src/models/factory.rs",
            "unchanged src/models/marketing.rs",
            "unchanged src/models/public.rs",
            "unchanged src/models/tenant.rs",
        ]
    );
    assert_eq!(p.snapshot("src/models"), before);
    assert!(before.iter().all(|(_, _, mtime)| *mtime == past));
}

#[test]
fn a_changed_definition_rewrites_only_its_domain() {
    let p = Project::new();
    p.strav(&["generate:models"]).ok();
    p.edit(
        "database/schemas/tenant/orders.toml",
        ADD_COLUMN.0,
        ADD_COLUMN.1,
    );
    let run = p.strav(&["generate:models"]).ok();
    assert_eq!(
        run.stdout_lines(),
        [
            "unchanged src/models/mod.rs",
            "unchanged src/models/factory.rs",
            "unchanged src/models/marketing.rs",
            "unchanged src/models/public.rs",
            "wrote src/models/tenant.rs",
        ]
    );
    assert!(p.read("src/models/tenant.rs").contains("pub coupon: "));
}

#[test]
fn scope_tenant_writes_only_tenant_rs_and_mod_rs() {
    let p = Project::new();
    let run = p.strav(&["generate:models", "--scope=tenant"]).ok();
    assert_eq!(
        run.stdout_lines(),
        ["wrote src/models/mod.rs", "wrote src/models/tenant.rs"]
    );
    assert_eq!(names(&p.snapshot("src/models")), ["mod.rs", "tenant.rs"]);
    // mod.rs declares every domain, so the other files are reported missing.
    assert_eq!(
        run.stderr,
        "note: --scope=tenant left src/models/factory.rs (out of date), \
         src/models/marketing.rs (out of date), src/models/public.rs (out of date); run \
         `strav generate:models --scope=all` to update every domain\n"
    );
    // The domain file is the same as a full run writes.
    let tenant = p.read("src/models/tenant.rs");
    let module = p.read("src/models/mod.rs");
    p.strav(&["generate:models", "--scope=all"]).ok();
    assert_eq!(p.read("src/models/tenant.rs"), tenant);
    assert_eq!(p.read("src/models/mod.rs"), module);
}

#[test]
fn scope_tenant_leaves_other_domains_alone() {
    let p = Project::new();
    p.strav(&["generate:models"]).ok();
    let before = p.snapshot("src/models");
    p.edit(
        "database/schemas/tenant/orders.toml",
        ADD_COLUMN.0,
        ADD_COLUMN.1,
    );
    p.edit(
        "database/schemas/public/users.toml",
        "name            = \"text\"",
        "name            = \"text\"\nnickname        = { type = \"text\", nullable = true }",
    );
    // A domain that is gone: its file stays until --scope=all.
    fs::remove_dir_all(p.path("database/schemas/marketing")).unwrap();

    let run = p.strav(&["generate:models", "--scope=tenant"]).ok();
    assert_eq!(
        run.stdout_lines(),
        ["wrote src/models/mod.rs", "wrote src/models/tenant.rs"]
    );
    assert_eq!(
        run.stderr,
        "note: --scope=tenant left src/models/public.rs (out of date), \
         src/models/marketing.rs (its domain is gone); run `strav generate:models \
         --scope=all` to update every domain\n"
    );
    let after = p.snapshot("src/models");
    for name in ["factory.rs", "marketing.rs", "public.rs"] {
        let find = |files: &[(String, Vec<u8>, SystemTime)]| {
            files.iter().find(|(n, _, _)| n == name).cloned().unwrap()
        };
        assert_eq!(find(&after), find(&before), "{name} was not touched");
    }
    assert!(!p.read("src/models/mod.rs").contains("pub mod marketing;"));
}

#[test]
fn scope_all_removes_the_files_of_a_removed_domain() {
    let p = Project::new();
    p.strav(&["generate:models"]).ok();
    p.write("src/models/handwritten.rs", "// mine\n");
    fs::remove_dir_all(p.path("database/schemas/marketing")).unwrap();

    let check = p.strav(&["generate:models", "--check"]).fails(1);
    assert_eq!(
        check.stdout_lines(),
        [
            "would write src/models/mod.rs",
            "would remove src/models/marketing.rs"
        ]
    );
    assert!(p.path("src/models/marketing.rs").exists());

    let run = p.strav(&["generate:models", "--scope=all"]).ok();
    assert_eq!(
        run.stdout_lines(),
        [
            "wrote src/models/mod.rs",
            "unchanged src/models/factory.rs",
            "unchanged src/models/public.rs",
            "unchanged src/models/tenant.rs",
            "removed src/models/marketing.rs",
        ]
    );
    assert!(!p.path("src/models/marketing.rs").exists());
    // Not generated, so not ours to remove.
    assert_eq!(p.read("src/models/handwritten.rs"), "// mine\n");
}

#[test]
fn check_passes_when_up_to_date_and_fails_without_writing_when_not() {
    let p = Project::new();
    p.strav(&["generate:models"]).ok();

    let run = p.strav(&["generate:models", "--check"]).ok();
    assert_eq!(run.stdout, "models are up to date\n");
    assert_eq!(run.stderr, "");
    let run = p
        .strav(&["generate:models", "--check", "--scope=tenant"])
        .ok();
    assert_eq!(run.stdout, "models are up to date\n");

    p.edit(
        "database/schemas/tenant/orders.toml",
        ADD_COLUMN.0,
        ADD_COLUMN.1,
    );
    p.backdate("src/models");
    let before = p.snapshot("src/models");
    let run = p.strav(&["generate:models", "--check"]).fails(1);
    assert_eq!(run.stdout, "would write src/models/tenant.rs\n");
    assert_eq!(
        run.stderr,
        "error: the generated models in src/models are out of date; run `strav \
         generate:models --scope=all` to update them\n"
    );
    // Only the domain asked about counts with a scope.
    p.strav(&["generate:models", "--check", "--scope=public"])
        .ok();
    let run = p
        .strav(&["generate:models", "--check", "--scope=tenant"])
        .fails(1);
    assert_eq!(run.stdout, "would write src/models/tenant.rs\n");
    assert_eq!(p.snapshot("src/models"), before, "--check wrote nothing");
}

#[test]
fn check_without_generated_files_fails_and_creates_nothing() {
    let p = Project::new();
    let run = p.strav(&["generate:models", "--check"]).fails(1);
    assert_eq!(run.stdout_lines().len(), 5, "{run:#?}");
    assert!(run
        .stdout_lines()
        .iter()
        .all(|l| l.starts_with("would write src/models/")));
    assert!(!p.path("src").exists());
}

#[test]
fn an_unknown_scope_lists_the_domains_found() {
    let p = Project::new();
    let run = p.strav(&["generate:models", "--scope=tenants"]).fails(2);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: unknown scope \"tenants\"; the domains found in database/schemas are: \
         factory, marketing, public, tenant (or \"all\")\n"
    );
    assert!(!p.path("src").exists());
}

#[test]
fn malformed_definitions_are_all_reported_with_their_position() {
    let p = Project::new();
    p.write(
        "database/schemas/tenant/broken.toml",
        "[columns]\nid = { type = \"strng\", primary_key = true }\n",
    );
    p.write(
        "database/schemas/public/syntax.toml",
        "[columns]\nid = { type = \"bigserial\", primary_key = true\n",
    );
    // Even a one-domain run validates every domain.
    let run = p.strav(&["generate:models", "--scope=factory"]).fails(2);
    assert_eq!(run.stdout, "");
    let lines: Vec<&str> = run.stderr.lines().collect();
    let located: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("database/schemas/"))
        .collect();
    assert_eq!(located.len(), 2, "{}", run.stderr);
    assert!(
        located[0].starts_with("database/schemas/public/syntax.toml:2:"),
        "{}",
        run.stderr
    );
    assert!(
        located[1].starts_with("database/schemas/tenant/broken.toml:2:15: error: "),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("strng"), "{}", run.stderr);
    assert_eq!(
        lines.last().copied(),
        Some("error: 2 problems in the schema definitions; no code was generated")
    );
    assert!(!p.path("src").exists());
}

#[test]
fn a_missing_schemas_directory_says_where_it_looked() {
    let p = Project::new();
    fs::remove_dir_all(p.path("database")).unwrap();
    let run = p.strav(&["generate:models"]).fails(2);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
    let looked = fs::canonicalize(p.0.path())
        .unwrap()
        .join("database/schemas");
    assert!(
        run.stderr
            .starts_with("error: no definitions to generate from: ")
            && (run.stderr.contains(&looked.display().to_string())
                || run
                    .stderr
                    .contains(&p.path("database/schemas").display().to_string())),
        "{run:#?}"
    );
    assert!(
        run.stderr
            .contains("create database/schemas/<domain>/<table>.toml"),
        "{run:#?}"
    );
    assert!(!p.path("src").exists());
}

#[test]
fn an_empty_schemas_directory_is_an_error() {
    let p = Project::new();
    fs::remove_dir_all(p.path("database/schemas")).unwrap();
    fs::create_dir_all(p.path("database/schemas")).unwrap();
    let run = p.strav(&["generate:models"]).fails(2);
    assert_eq!(
        run.stderr,
        "error: no definitions found in database/schemas: create one directory per domain \
         with one file per table, such as database/schemas/public/users.toml\n"
    );
}

#[test]
fn the_configured_output_directory_is_honoured() {
    let p = Project::new();
    p.edit(
        "config/generators.toml",
        "models = \"src/models\"",
        "models = \"src/gen\"",
    );
    let run = p.strav(&["generate:models", "--scope=all"]).ok();
    assert_eq!(run.stdout_lines()[0], "wrote src/gen/mod.rs");
    assert_eq!(
        names(&p.snapshot("src/gen")),
        [
            "factory.rs",
            "marketing.rs",
            "mod.rs",
            "public.rs",
            "tenant.rs"
        ]
    );
    assert!(!p.path("src/models").exists());
    p.strav(&["generate:models", "--check"]).ok();
}

#[test]
fn without_a_naming_config_the_defaults_apply() {
    let p = Project::new();
    fs::remove_dir_all(p.path("config")).unwrap();
    p.strav(&["generate:models"]).ok();
    // Default prefix PascalCase(domain), default output src/models.
    assert!(p
        .read("src/models/factory.rs")
        .contains("pub struct FactoryMachine {"));
    assert_eq!(p.snapshot("src/models").len(), 1 + DOMAIN_FILES.len());
}

#[test]
fn paths_can_be_given_on_the_command_line() {
    let p = Project::new();
    fs::rename(p.path("database/schemas"), p.path("defs")).unwrap();
    fs::rename(p.path("config/generators.toml"), p.path("naming.toml")).unwrap();
    let run = p
        .strav(&[
            "generate:models",
            "--schemas",
            "defs",
            "--generators",
            "naming.toml",
            "--out",
            "models",
        ])
        .ok();
    assert_eq!(run.stdout_lines()[0], "wrote models/mod.rs");
    assert!(p
        .read("models/factory.rs")
        .contains("pub struct PlantMachine {"));

    // A naming config named explicitly must exist.
    let run = p
        .strav(&[
            "generate:models",
            "--schemas",
            "defs",
            "--generators",
            "nope.toml",
        ])
        .fails(2);
    assert!(
        run.stderr.starts_with("error: cannot read nope.toml: "),
        "{run:#?}"
    );
}

#[test]
fn the_database_config_option_is_refused() {
    let p = Project::new();
    let run = p
        .strav(&["generate:models", "--config", "config/generators.toml"])
        .fails(2);
    assert!(
        run.stderr.contains("--generators PATH"),
        "points at the right option: {run:#?}"
    );
    assert!(!p.path("src").exists());
}

#[test]
fn a_hand_written_file_in_the_way_is_never_overwritten() {
    let p = Project::new();
    p.write("src/models/mod.rs", "pub mod user;\n");
    let run = p.strav(&["generate:models"]).fails(2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .starts_with("error: src/models/mod.rs exists and was not generated by strav"),
        "{run:#?}"
    );
    assert_eq!(p.read("src/models/mod.rs"), "pub mod user;\n");
    assert_eq!(
        names(&p.snapshot("src/models")),
        ["mod.rs"],
        "wrote nothing"
    );
}

#[test]
fn help_lists_the_command() {
    let p = Project::new();
    let run = p.strav(&["--help"]).ok();
    assert!(
        run.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("generate:models ")
                && l.contains("needs no database")),
        "{}",
        run.stdout
    );
}
