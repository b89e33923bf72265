//! What `#[derive(Enum)]` writes for a checked enum: `PgEnum`, the label
//! helpers, and sqlx's traits sending each value as its label.
//!
//! Values are bound as text, never by the enum type: a per-tenant enum
//! type has another OID in each tenant schema, and sqlx would cache the
//! first one it saw (see `strav_orm`'s `model::enums`). Results are
//! accepted by the type's name, which every tenant shares.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::Enum;
use crate::expand::paths::orm;

pub fn expand_enum(input: &Enum) -> TokenStream {
    let orm = orm();
    let pg = quote!(#orm::sqlx::postgres);
    let name = input.ident;
    let type_name = input.attrs.type_name.as_ref();
    let type_name = type_name
        .expect("check::pg_enum requires `type_name`")
        .value();
    let variants: Vec<_> = input.variants.iter().map(|v| v.ident).collect();
    let labels: Vec<_> = input.variants.iter().map(|v| &v.label).collect();
    let count = variants.len();
    let first = variants.first().expect("check::pg_enum requires a variant");

    quote! {
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
    }
}
