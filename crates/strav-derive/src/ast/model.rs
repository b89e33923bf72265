//! A `#[derive(Model)]` struct: its attributes and its fields.

use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Type, Visibility};

use crate::attr::{FieldAttrs, ModelAttrs};
use crate::ctxt::Ctxt;
use crate::names::unraw;

pub struct Model<'a> {
    pub ident: &'a Ident,
    pub vis: &'a Visibility,
    pub attrs: ModelAttrs,
    /// In declaration order, which is also the column order.
    pub fields: Vec<Field<'a>>,
}

pub struct Field<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    pub attrs: FieldAttrs,
    /// The SQL column: `column = "..."`, else the field name.
    pub column: String,
}

impl<'a> Model<'a> {
    /// `None` for anything but a non-generic struct with named fields.
    pub fn from_ast(cx: &mut Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let Data::Struct(data) = &input.data else {
            cx.error_at(
                input.ident.span(),
                "#[derive(Model)] works on structs with named fields",
            );
            return None;
        };
        let Fields::Named(named) = &data.fields else {
            cx.error_at(
                data.fields.span(),
                "#[derive(Model)] needs named fields (one per column)",
            );
            return None;
        };
        // The expansion names the struct without parameters everywhere.
        if !input.generics.params.is_empty() {
            cx.error_at(
                input.generics.span(),
                "#[derive(Model)] does not support generic structs",
            );
            return None;
        }

        let attrs = ModelAttrs::from_attrs(cx, &input.attrs);
        let fields = named
            .named
            .iter()
            .map(|f| {
                let ident = f.ident.as_ref().expect("named field");
                let attrs = FieldAttrs::from_attrs(cx, &f.attrs);
                let column = attrs
                    .column
                    .as_ref()
                    .map(LitStr::value)
                    .unwrap_or_else(|| unraw(ident));
                Field {
                    ident,
                    ty: &f.ty,
                    attrs,
                    column,
                }
            })
            .collect();
        Some(Model {
            ident: &input.ident,
            vis: &input.vis,
            attrs,
            fields,
        })
    }

    /// The primary key fields, in declaration order.
    pub fn keys(&self) -> Vec<&Field<'a>> {
        self.fields
            .iter()
            .filter(|f| f.attrs.primary_key.is_set())
            .collect()
    }
}
