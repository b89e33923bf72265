//! `#[strav(...)]` attributes, read into typed values that keep where they
//! were written.
//!
//! Reading only records what was written: an unknown name or a name given
//! twice is an error here, but whether the values make sense together is
//! for `check`. An error ends the reading of that one `#[strav(...)]`
//! (syn cannot resync inside it); the other attributes are still read.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, LitStr};

use crate::ctxt::Ctxt;

/// A word such as `primary_key`: set or not, and if set, where.
#[derive(Clone, Copy, Default)]
pub struct Flag(Option<Span>);

impl Flag {
    pub fn is_set(self) -> bool {
        self.0.is_some()
    }
}

/// Struct-level attributes of `#[derive(Model)]`.
#[derive(Default)]
pub struct ModelAttrs {
    pub table: Option<LitStr>,
    pub domain: Option<LitStr>,
    pub schema: Option<LitStr>,
    pub new: Option<LitStr>,
    pub no_primary_key: Flag,
    pub no_from_row: Flag,
    pub no_new_default: Flag,
}

/// Field-level attributes of `#[derive(Model)]`.
#[derive(Default)]
pub struct FieldAttrs {
    pub primary_key: Flag,
    pub generated: Flag,
    pub default: Flag,
    pub column: Option<LitStr>,
    pub sql_type: Option<LitStr>,
}

/// Enum-level attributes of `#[derive(Enum)]`.
#[derive(Default)]
pub struct EnumAttrs {
    pub type_name: Option<LitStr>,
}

/// Variant-level attributes of `#[derive(Enum)]`.
#[derive(Default)]
pub struct VariantAttrs {
    pub rename: Option<LitStr>,
}

impl ModelAttrs {
    pub fn from_attrs(cx: &mut Ctxt, attrs: &[Attribute]) -> Self {
        let mut out = ModelAttrs::default();
        read(cx, attrs, |name, meta| {
            match name {
            "table" => string(&mut out.table, meta, name),
            "domain" => string(&mut out.domain, meta, name),
            "schema" => string(&mut out.schema, meta, name),
            "new" => string(&mut out.new, meta, name),
            "no_primary_key" => flag(&mut out.no_primary_key, meta, name),
            "no_from_row" => flag(&mut out.no_from_row, meta, name),
            "no_new_default" => flag(&mut out.no_new_default, meta, name),
            other => Err(meta.error(format!(
                "unknown model attribute `{other}`; expected one of: table, domain, schema, new, no_primary_key, no_from_row, no_new_default"
            ))),
        }
        });
        out
    }
}

impl FieldAttrs {
    pub fn from_attrs(cx: &mut Ctxt, attrs: &[Attribute]) -> Self {
        let mut out = FieldAttrs::default();
        read(cx, attrs, |name, meta| {
            match name {
            "primary_key" => flag(&mut out.primary_key, meta, name),
            "generated" => flag(&mut out.generated, meta, name),
            "default" => flag(&mut out.default, meta, name),
            "column" => string(&mut out.column, meta, name),
            "sql_type" => string(&mut out.sql_type, meta, name),
            other => Err(meta.error(format!(
                "unknown field attribute `{other}`; expected one of: primary_key, generated, default, column, sql_type"
            ))),
        }
        });
        out
    }
}

impl EnumAttrs {
    pub fn from_attrs(cx: &mut Ctxt, attrs: &[Attribute]) -> Self {
        let mut out = EnumAttrs::default();
        read(cx, attrs, |name, meta| match name {
            "type_name" => string(&mut out.type_name, meta, name),
            other => Err(meta.error(format!(
                "unknown enum attribute `{other}`; expected `type_name = \"...\"`"
            ))),
        });
        out
    }
}

impl VariantAttrs {
    pub fn from_attrs(cx: &mut Ctxt, attrs: &[Attribute]) -> Self {
        let mut out = VariantAttrs::default();
        read(cx, attrs, |name, meta| match name {
            "rename" => string(&mut out.rename, meta, name),
            other => Err(meta.error(format!(
                "unknown variant attribute `{other}`; expected `rename = \"...\"`"
            ))),
        });
        out
    }
}

/// Calls `each` with the name and the rest of every item of every
/// `#[strav(...)]` among `attrs`, reporting what it rejects.
fn read(
    cx: &mut Ctxt,
    attrs: &[Attribute],
    mut each: impl FnMut(&str, &ParseNestedMeta<'_>) -> syn::Result<()>,
) {
    for attr in attrs.iter().filter(|a| a.path().is_ident("strav")) {
        let result = attr.parse_nested_meta(|meta| {
            let Some(ident) = meta.path.get_ident() else {
                return Err(meta.error("expected an attribute name"));
            };
            each(&ident.to_string(), &meta)
        });
        if let Err(e) = result {
            cx.syn_error(e);
        }
    }
}

/// `name = "..."`, at most once.
fn string(slot: &mut Option<LitStr>, meta: &ParseNestedMeta<'_>, name: &str) -> syn::Result<()> {
    let value: LitStr = meta.value()?.parse()?;
    if slot.is_some() {
        return Err(meta.error(format!("duplicate `{name}`")));
    }
    *slot = Some(value);
    Ok(())
}

/// A bare `name`, at most once.
fn flag(slot: &mut Flag, meta: &ParseNestedMeta<'_>, name: &str) -> syn::Result<()> {
    if slot.is_set() {
        return Err(meta.error(format!("duplicate `{name}`")));
    }
    *slot = Flag(Some(meta.path.span()));
    Ok(())
}
