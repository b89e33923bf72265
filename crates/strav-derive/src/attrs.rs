//! `#[strav(...)]` attributes. Every problem is a `syn::Error` at the span
//! at fault; several are combined so a user sees them all at once.

use syn::{Attribute, LitStr};

/// Errors collected while reading attributes.
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    pub fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    pub fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// Struct-level attributes of `#[derive(Model)]`.
#[derive(Default)]
pub struct ModelAttrs {
    pub table: Option<LitStr>,
    pub domain: Option<LitStr>,
    pub schema: Option<LitStr>,
    pub new: Option<LitStr>,
    pub no_primary_key: bool,
    pub no_from_row: bool,
    pub no_new_default: bool,
}

/// Field-level attributes of `#[derive(Model)]`.
#[derive(Default)]
pub struct FieldAttrs {
    pub primary_key: bool,
    pub generated: bool,
    pub default: bool,
    pub column: Option<LitStr>,
    pub sql_type: Option<LitStr>,
}

/// Attributes of `#[derive(Enum)]` and its variants.
#[derive(Default)]
pub struct EnumAttrs {
    pub type_name: Option<LitStr>,
    pub rename: Option<LitStr>,
}

fn strav_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("strav"))
}

fn set_once(
    slot: &mut Option<LitStr>,
    meta: &syn::meta::ParseNestedMeta<'_>,
    name: &str,
) -> syn::Result<()> {
    let value: LitStr = meta.value()?.parse()?;
    if slot.is_some() {
        return Err(meta.error(format!("duplicate `{name}`")));
    }
    *slot = Some(value);
    Ok(())
}

fn flag(slot: &mut bool, meta: &syn::meta::ParseNestedMeta<'_>, name: &str) -> syn::Result<()> {
    if *slot {
        return Err(meta.error(format!("duplicate `{name}`")));
    }
    *slot = true;
    Ok(())
}

pub fn model_attrs(attrs: &[Attribute], errors: &mut Errors) -> ModelAttrs {
    let mut out = ModelAttrs::default();
    for attr in strav_attrs(attrs) {
        let r = attr.parse_nested_meta(|meta| {
            let Some(ident) = meta.path.get_ident() else {
                return Err(meta.error("expected an attribute name"));
            };
            match ident.to_string().as_str() {
                "table" => set_once(&mut out.table, &meta, "table"),
                "domain" => set_once(&mut out.domain, &meta, "domain"),
                "schema" => set_once(&mut out.schema, &meta, "schema"),
                "new" => set_once(&mut out.new, &meta, "new"),
                "no_primary_key" => flag(&mut out.no_primary_key, &meta, "no_primary_key"),
                "no_from_row" => flag(&mut out.no_from_row, &meta, "no_from_row"),
                "no_new_default" => flag(&mut out.no_new_default, &meta, "no_new_default"),
                other => Err(meta.error(format!(
                    "unknown model attribute `{other}`; expected one of: table, domain, schema, new, no_primary_key, no_from_row, no_new_default"
                ))),
            }
        });
        if let Err(e) = r {
            errors.push(e);
        }
    }
    out
}

pub fn field_attrs(attrs: &[Attribute], errors: &mut Errors) -> FieldAttrs {
    let mut out = FieldAttrs::default();
    for attr in strav_attrs(attrs) {
        let r = attr.parse_nested_meta(|meta| {
            let Some(ident) = meta.path.get_ident() else {
                return Err(meta.error("expected an attribute name"));
            };
            match ident.to_string().as_str() {
                "primary_key" => flag(&mut out.primary_key, &meta, "primary_key"),
                "generated" => flag(&mut out.generated, &meta, "generated"),
                "default" => flag(&mut out.default, &meta, "default"),
                "column" => set_once(&mut out.column, &meta, "column"),
                "sql_type" => set_once(&mut out.sql_type, &meta, "sql_type"),
                other => Err(meta.error(format!(
                    "unknown field attribute `{other}`; expected one of: primary_key, generated, default, column, sql_type"
                ))),
            }
        });
        if let Err(e) = r {
            errors.push(e);
        }
    }
    out
}

pub fn enum_attrs(attrs: &[Attribute], variant: bool, errors: &mut Errors) -> EnumAttrs {
    let mut out = EnumAttrs::default();
    for attr in strav_attrs(attrs) {
        let r = attr.parse_nested_meta(|meta| {
            let Some(ident) = meta.path.get_ident() else {
                return Err(meta.error("expected an attribute name"));
            };
            match (ident.to_string().as_str(), variant) {
                ("type_name", false) => set_once(&mut out.type_name, &meta, "type_name"),
                ("rename", true) => set_once(&mut out.rename, &meta, "rename"),
                (other, false) => Err(meta.error(format!(
                    "unknown enum attribute `{other}`; expected `type_name = \"...\"`"
                ))),
                (other, true) => Err(meta.error(format!(
                    "unknown variant attribute `{other}`; expected `rename = \"...\"`"
                ))),
            }
        });
        if let Err(e) = r {
            errors.push(e);
        }
    }
    out
}
