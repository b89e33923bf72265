//! Snapshots of the code generated from the reference definitions in `schemas/`.

use std::path::PathBuf;

fn reference_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

fn render_reference() -> Vec<strav_codegen::GeneratedFile> {
    let root = reference_root();
    strav_codegen::Builder::new()
        .schemas(root.join("database/schemas"))
        .config(root.join("config/generators.toml"))
        .project()
        .expect("reference schemas are readable")
        .render()
        .unwrap_or_else(|e| panic!("reference schemas are valid:\n{e}"))
}

#[test]
fn reference_schemas_generate_one_module_per_domain() {
    let files = render_reference();
    let names: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
    assert_eq!(
        names,
        [
            "mod.rs",
            "factory.rs",
            "marketing.rs",
            "public.rs",
            "tenant.rs"
        ]
    );
    for file in &files {
        insta::assert_snapshot!(file.path.display().to_string(), file.contents);
    }
}
