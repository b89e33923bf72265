//! The models come from database/schemas on every build where they changed;
//! nothing generated is committed.

fn main() -> Result<(), strav_codegen::Error> {
    strav_codegen::Builder::new()
        .schemas("database/schemas")
        .config("config/generators.toml")
        .generate()?;
    Ok(())
}
