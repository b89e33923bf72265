//! A `#[derive(Enum)]` enum: its PostgreSQL type and its variants' labels.

use syn::{Data, DeriveInput, Fields, Ident, LitStr};

use crate::attr::{EnumAttrs, VariantAttrs};
use crate::ctxt::Ctxt;
use crate::names::snake_case;

pub struct Enum<'a> {
    pub ident: &'a Ident,
    pub attrs: EnumAttrs,
    /// In declaration order, which is the order PostgreSQL sorts them in.
    pub variants: Vec<Variant<'a>>,
}

pub struct Variant<'a> {
    pub ident: &'a Ident,
    /// Kept so `check` can point at fields that should not be there.
    pub fields: &'a Fields,
    /// The label stored in the database: `rename = "..."`, else the
    /// variant name in snake case.
    pub label: String,
}

impl<'a> Enum<'a> {
    /// `None` for anything but an enum.
    pub fn from_ast(cx: &mut Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let Data::Enum(data) = &input.data else {
            cx.error_at(
                input.ident.span(),
                "#[derive(Enum)] works on enums whose variants have no fields",
            );
            return None;
        };
        let attrs = EnumAttrs::from_attrs(cx, &input.attrs);
        let variants = data
            .variants
            .iter()
            .map(|v| {
                let attrs = VariantAttrs::from_attrs(cx, &v.attrs);
                let label = attrs
                    .rename
                    .as_ref()
                    .map(LitStr::value)
                    .unwrap_or_else(|| snake_case(&v.ident.to_string()));
                Variant {
                    ident: &v.ident,
                    fields: &v.fields,
                    label,
                }
            })
            .collect();
        Some(Enum {
            ident: &input.ident,
            attrs,
            variants,
        })
    }
}
