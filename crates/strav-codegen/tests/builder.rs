//! The build.rs API: determinism, writing only what changed, stale files, inputs.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use strav_codegen::{Builder, Error, Project};

fn reference_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

/// A copy of the reference project in a temp dir, so tests can change it.
fn reference_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&reference_root(), dir.path());
    dir
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

fn builder(root: &Path, out: &Path) -> Builder {
    Builder::new()
        .schemas(root.join("database/schemas"))
        .config(root.join("config/generators.toml"))
        .out_dir(out)
        .cargo_directives(false)
}

fn names(paths: &[PathBuf]) -> Vec<String> {
    let mut names: Vec<String> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn read_all(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

const ALL: [&str; 5] = [
    "factory.rs",
    "marketing.rs",
    "mod.rs",
    "public.rs",
    "tenant.rs",
];

#[test]
fn same_input_gives_byte_identical_output_in_any_directory() {
    let root = reference_copy();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    builder(&reference_root(), a.path()).generate().unwrap();
    // Same definitions at another path: paths outside the schemas dir never leak in.
    builder(root.path(), b.path()).generate().unwrap();
    let (a, b) = (read_all(a.path()), read_all(b.path()));
    assert_eq!(a.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ALL);
    assert!(a == b, "outputs differ");
}

#[test]
fn order_of_definitions_does_not_matter() {
    let files = [
        ("public", "users.toml", "[columns]\nid = { type = \"bigserial\", primary_key = true }\n"),
        ("public", "accounts.toml", "[columns]\nid = { type = \"bigserial\", primary_key = true }\n"),
        ("tenant", "orders.toml", "[columns]\nid = { type = \"bigserial\", primary_key = true }\ns = \"st\"\n[enums]\nst = [\"a\"]\n"),
    ];
    let forward = files
        .iter()
        .fold(Project::new(), |p, (d, f, t)| p.with_definition(*d, f, *t));
    let backward = files
        .iter()
        .rev()
        .fold(Project::new(), |p, (d, f, t)| p.with_definition(*d, f, *t));
    assert_eq!(forward.render().unwrap(), backward.render().unwrap());
}

#[test]
fn second_run_rewrites_nothing() {
    let out = tempfile::tempdir().unwrap();
    let first = builder(&reference_root(), out.path()).generate().unwrap();
    assert_eq!(names(&first.written), ALL);
    assert!(first.unchanged.is_empty());

    // Backdate the files: a rewrite, even with the same bytes, would move the mtime.
    let past = SystemTime::now() - Duration::from_secs(3600);
    for path in &first.written {
        fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(past)
            .unwrap();
    }
    let second = builder(&reference_root(), out.path()).generate().unwrap();
    assert!(second.written.is_empty(), "rewrote {:?}", second.written);
    assert_eq!(names(&second.unchanged), ALL);
    for path in &second.unchanged {
        assert_eq!(
            fs::metadata(path).unwrap().modified().unwrap(),
            past,
            "{path:?}"
        );
    }
}

#[test]
fn a_change_rewrites_only_the_files_it_affects() {
    let root = reference_copy();
    let out = tempfile::tempdir().unwrap();
    builder(root.path(), out.path()).generate().unwrap();

    let orders = root.path().join("database/schemas/tenant/orders.toml");
    let text = fs::read_to_string(&orders).unwrap();
    fs::write(
        &orders,
        text.replace(
            "note        = { type = \"text\", nullable = true }",
            "note        = { type = \"varchar(500)\", nullable = true }",
        ),
    )
    .unwrap();
    let report = builder(root.path(), out.path()).generate().unwrap();
    assert_eq!(names(&report.written), ["tenant.rs"]);
    assert_eq!(
        names(&report.unchanged),
        ["factory.rs", "marketing.rs", "mod.rs", "public.rs"]
    );
    let tenant = fs::read_to_string(out.path().join("tenant.rs")).unwrap();
    assert!(tenant.contains("/// `note character varying(500)`"));
}

#[test]
fn files_of_a_removed_domain_are_deleted_and_other_files_kept() {
    let root = reference_copy();
    let out = tempfile::tempdir().unwrap();
    builder(root.path(), out.path()).generate().unwrap();
    fs::write(out.path().join("handwritten.rs"), "// mine\n").unwrap();

    fs::remove_dir_all(root.path().join("database/schemas/marketing")).unwrap();
    // Nothing references marketing, so the rest stays valid.
    let report = builder(root.path(), out.path()).generate().unwrap();
    assert_eq!(names(&report.removed), ["marketing.rs"]);
    assert_eq!(names(&report.written), ["mod.rs"]);
    assert!(!out.path().join("marketing.rs").exists());
    assert_eq!(
        fs::read_to_string(out.path().join("handwritten.rs")).unwrap(),
        "// mine\n"
    );
}

#[test]
fn inputs_cover_config_directories_and_every_file() {
    let root = reference_root();
    let out = tempfile::tempdir().unwrap();
    let report = builder(&root, out.path()).generate().unwrap();
    let schemas = root.join("database/schemas");
    let mut expected = vec![
        root.join("config/generators.toml"),
        schemas.clone(),
        schemas.join("factory"),
        schemas.join("factory/machines.toml"),
        schemas.join("factory/production.toml"),
        schemas.join("marketing"),
        schemas.join("marketing/campaigns.toml"),
        schemas.join("public"),
        schemas.join("public/organizations.toml"),
        schemas.join("public/users.toml"),
        schemas.join("tenant"),
        schemas.join("tenant/order_items.toml"),
        schemas.join("tenant/orders.toml"),
        schemas.join("tenant/products.toml"),
    ];
    expected.sort();
    let mut got = report.inputs.clone();
    got.sort();
    assert_eq!(got, expected);
}

#[test]
fn invalid_definitions_write_nothing() {
    let root = reference_copy();
    fs::write(
        root.path().join("database/schemas/tenant/broken.toml"),
        "[columns]\nid = { type = \"strng\", primary_key = true }\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let err = builder(root.path(), out.path()).generate().unwrap_err();
    assert_eq!(err.diagnostics().unwrap().len(), 1, "{err}");
    let d = err.diagnostics().unwrap().iter().next().unwrap();
    assert_eq!(
        d.location(),
        format!(
            "{}:2:15",
            root.path()
                .join("database/schemas/tenant/broken.toml")
                .display()
        )
    );
    assert_eq!(fs::read_dir(out.path()).unwrap().count(), 0);
    // `{:?}` (what `fn main() -> Result<..>` prints in a build script) is the readable form.
    assert_eq!(format!("{err:?}"), err.to_string());
}

#[test]
fn explicit_config_must_exist_but_the_default_one_may_be_absent() {
    let root = reference_copy();
    let out = tempfile::tempdir().unwrap();
    let err = Builder::new()
        .schemas(root.path().join("database/schemas"))
        .config(root.path().join("config/missing.toml"))
        .out_dir(out.path())
        .cargo_directives(false)
        .generate()
        .unwrap_err();
    assert!(matches!(err, Error::Read { ref path, .. } if path.ends_with("config/missing.toml")));

    // Without a config the defaults apply: factory gets prefix "Factory", not "Plant".
    let report = Builder::new()
        .schemas(root.path().join("database/schemas"))
        .without_config()
        .out_dir(out.path())
        .cargo_directives(false)
        .generate()
        .unwrap();
    assert_eq!(names(&report.written), ALL);
    let factory = fs::read_to_string(out.path().join("factory.rs")).unwrap();
    assert!(factory.contains("pub struct FactoryMachine {"));
}

#[test]
fn missing_schemas_directory_is_a_read_error() {
    let out = tempfile::tempdir().unwrap();
    let err = Builder::new()
        .schemas(out.path().join("nope"))
        .without_config()
        .out_dir(out.path())
        .cargo_directives(false)
        .generate()
        .unwrap_err();
    assert!(matches!(err, Error::Read { .. }), "{err}");
    assert!(err.to_string().starts_with("cannot read "));
}

#[test]
fn without_out_dir_it_needs_cargo_out_dir() {
    if std::env::var_os("OUT_DIR").is_some() {
        return; // only meaningful outside a build script
    }
    let err = Builder::new()
        .schemas(reference_root().join("database/schemas"))
        .cargo_directives(false)
        .generate()
        .unwrap_err();
    assert!(matches!(err, Error::NoOutDir));
}
