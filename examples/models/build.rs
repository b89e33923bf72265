//! Generates this crate's models from the reference definitions on every
//! build where they changed; nothing generated is committed.

fn main() -> Result<(), strav_codegen::Error> {
    strav_codegen::Builder::new()
        .schemas("../../schemas/database/schemas")
        .config("../../schemas/config/generators.toml")
        .generate()?;
    Ok(())
}
