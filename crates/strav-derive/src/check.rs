//! What a well-read input can still get wrong: attributes that are
//! missing or contradict each other. Every problem is reported, each at
//! the span a user should look at; the expansions may then rely on what
//! passed.

use syn::Fields;

use crate::ast::{Enum, Model};
use crate::ctxt::Ctxt;

pub fn model(cx: &mut Ctxt, model: &Model) {
    table_is_named(cx, model);
    insert_struct_name_is_an_identifier(cx, model);
    generated_is_not_also_default(cx, model);
    primary_key_is_marked_or_waived(cx, model);
}

pub fn pg_enum(cx: &mut Ctxt, input: &Enum) {
    type_is_named(cx, input);
    has_variants(cx, input);
    variants_are_distinct_labels(cx, input);
}

/// Strav does not guess a table from the struct's name.
fn table_is_named(cx: &mut Ctxt, model: &Model) {
    if model.attrs.table.is_none() {
        cx.error_at(
            model.ident.span(),
            "missing #[strav(table = \"...\")]: the table this model reads and writes",
        );
    }
}

/// `new = "..."` names a struct the expansion declares.
fn insert_struct_name_is_an_identifier(cx: &mut Ctxt, model: &Model) {
    if let Some(name) = &model.attrs.new {
        if syn::parse_str::<syn::Ident>(&name.value()).is_err() {
            cx.error_at(
                name.span(),
                format!(
                    "`new = {:?}` is not a Rust identifier; name the insert struct like `NewOrder`",
                    name.value()
                ),
            );
        }
    }
}

/// A generated column is left out of the insert struct altogether, while
/// `default` would make it an optional field there: say which one.
fn generated_is_not_also_default(cx: &mut Ctxt, model: &Model) {
    for f in &model.fields {
        if f.attrs.generated.is_set() && f.attrs.default.is_set() {
            cx.error_at(
                f.ident.span(),
                "`generated` already implies a database default; drop `default`",
            );
        }
    }
}

/// find, save and delete need a key; a model without one must say so, so
/// a forgotten `primary_key` is caught here rather than at a call site.
fn primary_key_is_marked_or_waived(cx: &mut Ctxt, model: &Model) {
    let keys = model.keys();
    let waived = model.attrs.no_primary_key.is_set();
    if keys.is_empty() && !waived {
        cx.error_at(
            model.ident.span(),
            format!(
                "model `{}` has no #[strav(primary_key)] field; find, save and delete need one. \
                 Mark the key field(s), or add #[strav(no_primary_key)] to the struct for a model without them",
                model.ident
            ),
        );
    }
    if let (Some(first), true) = (keys.first(), waived) {
        cx.error_at(
            first.ident.span(),
            "#[strav(primary_key)] contradicts the struct's #[strav(no_primary_key)]",
        );
    }
}

fn type_is_named(cx: &mut Ctxt, input: &Enum) {
    if input.attrs.type_name.is_none() {
        cx.error_at(
            input.ident.span(),
            "missing #[strav(type_name = \"...\")]: the PostgreSQL enum type this maps to",
        );
    }
}

/// PostgreSQL has no empty enum types, and `Default` is the first variant.
fn has_variants(cx: &mut Ctxt, input: &Enum) {
    if input.variants.is_empty() {
        cx.error_at(
            input.ident.span(),
            "an enum mapped to PostgreSQL needs at least one variant",
        );
    }
}

/// A value travels as its label alone, so a variant can hold no fields,
/// and reading a label back must give one variant.
fn variants_are_distinct_labels(cx: &mut Ctxt, input: &Enum) {
    let mut labels: Vec<&str> = Vec::new();
    for v in &input.variants {
        if !matches!(v.fields, Fields::Unit) {
            cx.syn_error(syn::Error::new_spanned(
                v.fields,
                "variants of a PostgreSQL enum cannot have fields",
            ));
        }
        if labels.contains(&v.label.as_str()) {
            cx.error_at(
                v.ident.span(),
                format!("two variants map to the label {:?}", v.label),
            );
        }
        labels.push(&v.label);
    }
}
