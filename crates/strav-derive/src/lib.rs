//! Derive macros for Strav. Use them through `strav_orm`:
//! `#[derive(strav_orm::Model)]`, `#[derive(strav_orm::Enum)]`.
//!
//! The expansion calls `strav_orm`'s runtime; this crate only reads
//! attributes and writes impls. Misuse is a compile error pointing at the
//! attribute or field at fault.
//!
//! Each macro goes through the same three steps: `ast` reads the input
//! into typed values, `check` finds what is missing or contradictory, and
//! `expand` writes the code. The first two report every error they find
//! (to a `ctxt::Ctxt`) before giving up, so a user sees them all at once;
//! `expand` only ever sees input that passed.

mod ast;
mod attr;
mod check;
mod ctxt;
mod expand;
mod names;
#[cfg(test)]
mod tests;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput, LitStr};

use crate::ctxt::Ctxt;

/// Makes a struct a table-backed model. See `strav_orm::Model`.
///
/// ```text
/// #[derive(Model)]
/// #[strav(table = "orders", domain = "tenant")]     // per-tenant: follows with_schema
/// #[strav(table = "users", schema = "public")]      // fixed schema
/// struct ... {
///     #[strav(primary_key, generated)] id: i64,      // generated: the database fills it
///     #[strav(default)] status: OrderStatus,         // default: optional on insert
///     #[strav(column = "type")] r#type: String,      // SQL name differs
///     #[strav(sql_type = "order_status")] ...        // parameters need a cast to this type
/// }
/// ```
#[proc_macro_derive(Model, attributes(strav))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    model(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Maps a fieldless enum to a PostgreSQL enum, sent as text. See
/// `strav_orm::PgEnum`.
///
/// ```text
/// #[derive(Enum)]
/// #[strav(type_name = "order_status")]
/// enum OrderStatus { Pending, #[strav(rename = "on-hold")] OnHold }
/// ```
#[proc_macro_derive(Enum, attributes(strav))]
pub fn derive_enum(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    pg_enum(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// The migration files under `dir` (relative to the crate's `Cargo.toml`),
/// embedded at compile time: `strav_orm::embed_migrations!("database/migrations")`
/// evaluates to `Result<strav_orm::Migrations, strav_orm::Error>`.
///
/// A changed file triggers a rebuild; a *new* file does not (a proc macro
/// cannot watch a directory on stable Rust): add
/// `println!("cargo:rerun-if-changed=database/migrations")` to `build.rs`.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    let dir = parse_macro_input!(input as LitStr);
    migrations(&dir)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

// The macros over `proc_macro2` tokens, which tests can call (the
// `proc_macro` API only works inside a macro invocation).

fn model(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let mut cx = Ctxt::new();
    let model = ast::Model::from_ast(&mut cx, input);
    if let Some(model) = &model {
        check::model(&mut cx, model);
    }
    cx.check()?;
    let model = model.expect("from_ast reports an error when it reads nothing");
    Ok(expand::expand_model(&model))
}

fn pg_enum(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let mut cx = Ctxt::new();
    let pg_enum = ast::Enum::from_ast(&mut cx, input);
    if let Some(pg_enum) = &pg_enum {
        check::pg_enum(&mut cx, pg_enum);
    }
    cx.check()?;
    let pg_enum = pg_enum.expect("from_ast reports an error when it reads nothing");
    Ok(expand::expand_enum(&pg_enum))
}

fn migrations(dir: &LitStr) -> syn::Result<proc_macro2::TokenStream> {
    let dir = ast::MigrationDir::read(dir)?;
    Ok(expand::expand_embed(&dir))
}
