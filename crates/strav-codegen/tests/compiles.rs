//! The code generated from `schemas/` type-checks, included the way a build.rs user
//! includes it (`include!` of `mod.rs`, which declares the domain modules).
//!
//! The real derives (strav-derive, sqlx) and the crates behind the mapped types are
//! replaced by stubs compiled here with plain `rustc`: the stub derives accept the
//! `strav`/`sqlx` attributes and expand to nothing, so this checks what codegen owns —
//! paths, raw identifiers, cross-domain enum paths, `Option`/`Vec` wrapping, the enum
//! helpers — and that the generated code raises no warning under `#![deny(warnings)]`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn rustc(dir: &Path, args: &[&str]) {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let output = Command::new(rustc)
        .current_dir(dir)
        .args(["--edition", "2021", "--out-dir"])
        .arg(dir)
        .args(["-L", "."])
        .args(args)
        .output()
        .expect("rustc runs");
    assert!(
        output.status.success(),
        "rustc {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn find(dir: &Path, prefix: &str) -> PathBuf {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix}* in {dir:?}"))
}

const STUBS: &[(&str, &str)] = &[
    (
        "chrono",
        "#[derive(Debug, Clone, Copy, PartialEq, Eq)] pub struct Utc;
         #[derive(Debug, Clone, Copy, PartialEq, Eq)] pub struct DateTime<Tz>(pub Tz);
         #[derive(Debug, Clone, Copy, PartialEq, Eq)] pub struct NaiveDateTime;
         #[derive(Debug, Clone, Copy, PartialEq, Eq)] pub struct NaiveDate;
         #[derive(Debug, Clone, Copy, PartialEq, Eq)] pub struct NaiveTime;",
    ),
    (
        "uuid",
        "#[derive(Debug, Clone, Copy, PartialEq, Eq)] pub struct Uuid;",
    ),
    (
        "rust_decimal",
        "#[derive(Debug, Clone, Copy, PartialEq, Eq)] pub struct Decimal;",
    ),
    (
        "serde_json",
        "#[derive(Debug, Clone, PartialEq, Eq)] pub enum Value { Null }",
    ),
];

#[test]
fn generated_reference_models_type_check() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
    let out = dir.join("out");
    strav_codegen::Builder::new()
        .schemas(root.join("database/schemas"))
        .config(root.join("config/generators.toml"))
        .out_dir(&out)
        .cargo_directives(false)
        .generate()
        .unwrap();

    fs::write(
        dir.join("derive_stub.rs"),
        "extern crate proc_macro;
         use proc_macro::TokenStream;
         #[proc_macro_derive(Model, attributes(strav))]
         pub fn model(_: TokenStream) -> TokenStream { TokenStream::new() }
         #[proc_macro_derive(FromRow, attributes(sqlx))]
         pub fn from_row(_: TokenStream) -> TokenStream { TokenStream::new() }
         #[proc_macro_derive(Type, attributes(sqlx))]
         pub fn ty(_: TokenStream) -> TokenStream { TokenStream::new() }",
    )
    .unwrap();
    rustc(dir, &["--crate-type", "proc-macro", "derive_stub.rs"]);
    let derive = find(dir, "libderive_stub.");
    fs::write(
        dir.join("strav_orm.rs"),
        "pub use derive_stub::Model; pub mod sqlx { pub use derive_stub::{FromRow, Type}; }",
    )
    .unwrap();
    let extern_derive = format!("derive_stub={}", derive.display());
    rustc(
        dir,
        &[
            "--crate-type",
            "rlib",
            "--extern",
            &extern_derive,
            "strav_orm.rs",
        ],
    );
    let mut externs = vec!["strav_orm".to_string()];
    for (name, source) in STUBS {
        fs::write(dir.join(format!("{name}.rs")), source).unwrap();
        rustc(dir, &["--crate-type", "rlib", &format!("{name}.rs")]);
        externs.push(name.to_string());
    }

    fs::write(
        dir.join("app.rs"),
        format!(
            "#![deny(warnings)]
             pub mod models {{ include!(\"{}\"); }}
             pub fn uses() -> usize {{
                 let order = models::TenantOrderStatus::OnHold;
                 assert_eq!(order.as_str(), \"on_hold\");
                 assert_eq!(models::PlantMachineState::InMaintenance.to_string(), \"in-maintenance\");
                 let audience: Vec<models::public::UserRole> = Vec::new();
                 let _: Option<models::Campaign> = None;
                 let _ = |p: &models::TenantProduct| p.r#type.clone();
                 let _ = |e: &models::PlantProductionEntry| e.r#match;
                 let _ = |u: &models::User| u.last_ip;
                 models::Channel::ALL.len() + audience.len()
             }}",
            out.join("mod.rs").display()
        ),
    )
    .unwrap();
    let mut args = vec!["--crate-type".to_string(), "lib".to_string()];
    for name in externs {
        args.push("--extern".to_string());
        args.push(format!(
            "{name}={}",
            find(dir, &format!("lib{name}.rlib")).display()
        ));
    }
    args.push("app.rs".to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    rustc(dir, &args);
}
