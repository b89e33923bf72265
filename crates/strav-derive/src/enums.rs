//! Expansion of `#[derive(Enum)]`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, LitStr};

use crate::attrs::{enum_attrs, Errors};

pub fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            "#[derive(Enum)] works on enums whose variants have no fields",
        ));
    };
    let mut errors = Errors::default();
    let attrs = enum_attrs(&input.attrs, false, &mut errors);
    if attrs.type_name.is_none() {
        errors.push(syn::Error::new(
            input.ident.span(),
            "missing #[strav(type_name = \"...\")]: the PostgreSQL enum type this maps to",
        ));
    }
    if data.variants.is_empty() {
        errors.push(syn::Error::new(
            input.ident.span(),
            "an enum mapped to PostgreSQL needs at least one variant",
        ));
    }
    let mut variants = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    for v in &data.variants {
        if !matches!(v.fields, Fields::Unit) {
            errors.push(syn::Error::new_spanned(
                &v.fields,
                "variants of a PostgreSQL enum cannot have fields",
            ));
        }
        let va = enum_attrs(&v.attrs, true, &mut errors);
        let label = va
            .rename
            .as_ref()
            .map(LitStr::value)
            .unwrap_or_else(|| snake_case(&v.ident.to_string()));
        if labels.contains(&label) {
            errors.push(syn::Error::new(
                v.ident.span(),
                format!("two variants map to the label {label:?}"),
            ));
        }
        labels.push(label);
        variants.push(&v.ident);
    }
    errors.finish()?;

    let name = &input.ident;
    let type_name = attrs.type_name.expect("checked above").value();
    let orm = quote!(::strav_orm);
    let pg = quote!(#orm::sqlx::postgres);
    let count = variants.len();
    let first = variants[0];

    Ok(quote! {
        impl #orm::PgEnum for #name {
            const TYPE_NAME: &'static str = #type_name;
            const ALL: &'static [Self] = &[#(#name::#variants),*];
            fn label(self) -> &'static str {
                match self { #(#name::#variants => #labels,)* }
            }
            fn from_label(label: &str) -> ::core::option::Option<Self> {
                match label {
                    #(#labels => ::core::option::Option::Some(#name::#variants),)*
                    _ => ::core::option::Option::None,
                }
            }
        }

        #[allow(dead_code)]
        impl #name {
            /// Every value, in declaration order (the order PostgreSQL sorts them in).
            pub const ALL: [Self; #count] = [#(#name::#variants),*];

            /// The label stored in the database.
            pub const fn as_str(self) -> &'static str {
                match self { #(#name::#variants => #labels,)* }
            }
        }

        impl ::core::default::Default for #name {
            /// The first variant.
            fn default() -> Self {
                #name::#first
            }
        }

        impl ::core::fmt::Display for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl #orm::sqlx::Type<#orm::sqlx::Postgres> for #name {
            fn type_info() -> #pg::PgTypeInfo {
                <&str as #orm::sqlx::Type<#orm::sqlx::Postgres>>::type_info()
            }
            fn compatible(ty: &#pg::PgTypeInfo) -> bool {
                #orm::__private::enum_compatible(ty, #type_name)
            }
        }

        impl #pg::PgHasArrayType for #name {
            fn array_type_info() -> #pg::PgTypeInfo {
                <&str as #pg::PgHasArrayType>::array_type_info()
            }
            fn array_compatible(ty: &#pg::PgTypeInfo) -> bool {
                #orm::__private::enum_array_compatible(ty, #type_name)
            }
        }

        impl<'q> #orm::sqlx::Encode<'q, #orm::sqlx::Postgres> for #name {
            fn encode_by_ref(
                &self,
                buf: &mut #pg::PgArgumentBuffer,
            ) -> ::core::result::Result<#orm::sqlx::encode::IsNull, #orm::sqlx::error::BoxDynError> {
                <&str as #orm::sqlx::Encode<'q, #orm::sqlx::Postgres>>::encode(self.as_str(), buf)
            }
        }

        impl<'r> #orm::sqlx::Decode<'r, #orm::sqlx::Postgres> for #name {
            fn decode(value: #pg::PgValueRef<'r>) -> ::core::result::Result<Self, #orm::sqlx::error::BoxDynError> {
                #orm::__private::decode_enum_label(value)
            }
        }

    })
}

/// `OnHold` → `on_hold`.
fn snake_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for (i, c) in s.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
