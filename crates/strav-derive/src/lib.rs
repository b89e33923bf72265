//! Derive macros for Strav. Use them through `strav_orm`:
//! `#[derive(strav_orm::Model)]`, `#[derive(strav_orm::Enum)]`.
//!
//! The expansion calls `strav_orm`'s runtime; this crate only reads
//! attributes and writes impls. Misuse is a compile error pointing at the
//! attribute or field at fault.

mod attrs;
mod embed;
mod enums;
mod model;
#[cfg(test)]
mod tests;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

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
    model::expand(&input)
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
    enums::expand(&input)
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
    let dir = parse_macro_input!(input as syn::LitStr);
    embed::expand(dir)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
