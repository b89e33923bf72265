//! Expansion of `#[derive(Model)]`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Type};

use crate::attrs::{field_attrs, model_attrs, Errors, FieldAttrs};

struct Field<'a> {
    ident: &'a Ident,
    ty: &'a Type,
    column: String,
    attrs: FieldAttrs,
}

pub fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            "#[derive(Model)] works on structs with named fields",
        ));
    };
    let Fields::Named(named) = &data.fields else {
        return Err(syn::Error::new(
            data.fields.span(),
            "#[derive(Model)] needs named fields (one per column)",
        ));
    };
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "#[derive(Model)] does not support generic structs",
        ));
    }

    let mut errors = Errors::default();
    let attrs = model_attrs(&input.attrs, &mut errors);
    let fields: Vec<Field> = named
        .named
        .iter()
        .map(|f| {
            let ident = f.ident.as_ref().expect("named field");
            let attrs = field_attrs(&f.attrs, &mut errors);
            let column = attrs
                .column
                .as_ref()
                .map(LitStr::value)
                .unwrap_or_else(|| unraw(ident));
            Field {
                ident,
                ty: &f.ty,
                column,
                attrs,
            }
        })
        .collect();

    let table = match &attrs.table {
        Some(t) => t.value(),
        None => {
            errors.push(syn::Error::new(
                input.ident.span(),
                "missing #[strav(table = \"...\")]: the table this model reads and writes",
            ));
            String::new()
        }
    };
    for f in &fields {
        if f.attrs.generated && f.attrs.default {
            errors.push(syn::Error::new(
                f.ident.span(),
                "`generated` already implies a database default; drop `default`",
            ));
        }
    }
    let keys: Vec<&Field> = fields.iter().filter(|f| f.attrs.primary_key).collect();
    if keys.is_empty() && !attrs.no_primary_key {
        errors.push(syn::Error::new(
            input.ident.span(),
            format!(
                "model `{}` has no #[strav(primary_key)] field; find, save and delete need one. \
                 Mark the key field(s), or add #[strav(no_primary_key)] to the struct for a model without them",
                input.ident
            ),
        ));
    }
    if !keys.is_empty() && attrs.no_primary_key {
        errors.push(syn::Error::new(
            keys[0].ident.span(),
            "#[strav(primary_key)] contradicts the struct's #[strav(no_primary_key)]",
        ));
    }
    errors.finish()?;

    let name = &input.ident;
    let vis = &input.vis;
    let schema = attrs.schema.as_ref().map(LitStr::value);
    let domain = attrs
        .domain
        .as_ref()
        .map(LitStr::value)
        .or_else(|| schema.clone())
        .unwrap_or_else(|| "tenant".to_owned());
    let schema_tokens = match &schema {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    };
    let new_name = match &attrs.new {
        Some(n) => Ident::new(&n.value(), n.span()),
        None => format_ident!("New{}", name),
    };
    let orm = quote!(::strav_orm);

    let column_metas = fields.iter().map(|f| {
        let column = &f.column;
        let cast = match &f.attrs.sql_type {
            Some(t) => quote!(::core::option::Option::Some(#t)),
            None => quote!(::core::option::Option::None),
        };
        let (pk, generated, default) = (f.attrs.primary_key, f.attrs.generated, f.attrs.default);
        quote! {
            #orm::__private::ColumnMeta {
                name: #column, cast: #cast, primary_key: #pk, generated: #generated, default: #default,
            }
        }
    });

    let column_consts = fields.iter().map(|f| {
        let const_name = Ident::new(&unraw(f.ident).to_uppercase(), f.ident.span());
        let (column, ty) = (&f.column, f.ty);
        let cast = match &f.attrs.sql_type {
            Some(t) => quote!(::core::option::Option::Some(#t)),
            None => quote!(::core::option::Option::None),
        };
        let doc = format!("Column `{column}`.");
        quote! {
            #[doc = #doc]
            #vis const #const_name: #orm::Column<#name, #ty> = #orm::Column::new(#column, #cast);
        }
    });

    // The insert struct: generated columns left out, defaulted ones optional.
    let new_fields = fields.iter().filter(|f| !f.attrs.generated).map(|f| {
        let (ident, ty) = (f.ident, f.ty);
        if f.attrs.default {
            quote_spanned! {ty.span()=>
                #[doc = "`None`: the database default."]
                pub #ident: ::core::option::Option<#ty>
            }
        } else {
            quote_spanned!(ty.span()=> pub #ident: #ty)
        }
    });
    let bind_new = fields
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.attrs.generated)
        .map(|(i, f)| {
            let ident = f.ident;
            if f.attrs.default {
                quote! {
                    if let ::core::option::Option::Some(v) = new.#ident {
                        args.add(v);
                        set.push(#i);
                    }
                }
            } else {
                quote! {
                    args.add(new.#ident);
                    set.push(#i);
                }
            }
        });
    let new_derives = if attrs.no_new_default {
        quote!(#[derive(Debug, Clone)])
    } else {
        quote!(#[derive(Debug, Clone, Default)])
    };
    let new_doc = format!("A row to insert into `{table}` with [`{name}::create`].");

    let key_types: Vec<&Type> = keys.iter().map(|f| f.ty).collect();
    let key_idents: Vec<&Ident> = keys.iter().map(|f| f.ident).collect();
    let (key_type, bind_key, key_expr) = match keys.len() {
        0 => (
            quote!(()),
            quote!(let () = key;),
            quote!(::core::default::Default::default()),
        ),
        1 => {
            let (t, i) = (key_types[0], key_idents[0]);
            (
                quote!(#t),
                quote!(args.add(key);),
                quote!(::core::clone::Clone::clone(&self.#i)),
            )
        }
        _ => {
            let vars: Vec<Ident> = (0..keys.len()).map(|i| format_ident!("k{}", i)).collect();
            (
                quote!((#(#key_types),*)),
                quote! {
                    let (#(#vars),*) = key;
                    #(args.add(#vars);)*
                },
                quote!((#(::core::clone::Clone::clone(&self.#key_idents)),*)),
            )
        }
    };
    let bind_non_key = fields.iter().filter(|f| !f.attrs.primary_key).map(|f| {
        let ident = f.ident;
        quote_spanned!(f.ty.span()=> args.add_ref(&self.#ident);)
    });

    // A field whose type cannot be read from PostgreSQL is an error at the field.
    let decode_checks = fields.iter().map(|f| {
        let ty = f.ty;
        quote_spanned! {ty.span()=>
            __strav_assert_decode::<#ty>();
        }
    });

    let from_row = if attrs.no_from_row {
        quote!()
    } else {
        let gets = fields.iter().map(|f| {
            let (ident, column) = (f.ident, &f.column);
            quote_spanned!(f.ty.span()=> #ident: #orm::sqlx::Row::try_get(row, #column)?)
        });
        quote! {
            impl<'r> #orm::sqlx::FromRow<'r, #orm::sqlx::postgres::PgRow> for #name {
                fn from_row(row: &'r #orm::sqlx::postgres::PgRow) -> ::core::result::Result<Self, #orm::sqlx::Error> {
                    ::core::result::Result::Ok(#name { #(#gets),* })
                }
            }
        }
    };

    let has_key_impl = if keys.is_empty() {
        quote!()
    } else {
        quote!(impl<E> #orm::HasPrimaryKey<E> for #name {})
    };
    let key_methods = quote! {
        /// The row with this primary key, if any.
        pub async fn find<'e, E>(exec: E, key: #key_type) -> #orm::Result<::core::option::Option<Self>>
        where
            E: #orm::Executor<'e>,
            Self: #orm::HasPrimaryKey<E>,
        {
            #orm::__private::find::<Self, E>(exec, key).await
        }

        /// Writes every non-key field to the row with this key.
        pub async fn save<'e, E>(&self, exec: E) -> #orm::Result<()>
        where
            E: #orm::Executor<'e>,
            Self: #orm::HasPrimaryKey<E>,
        {
            #orm::__private::save::<Self, E>(exec, self).await
        }

        /// Deletes the row with this key.
        pub async fn delete<'e, E>(&self, exec: E) -> #orm::Result<()>
        where
            E: #orm::Executor<'e>,
            Self: #orm::HasPrimaryKey<E>,
        {
            #orm::__private::delete::<Self, E>(exec, self).await
        }
    };

    let n = fields.len();
    let span = Span::call_site();
    let assert_fn = quote_spanned! {span=>
        fn __strav_assert_decode<T>()
        where
            T: for<'r> #orm::sqlx::Decode<'r, #orm::sqlx::Postgres>
                + #orm::sqlx::Type<#orm::sqlx::Postgres>
                + for<'q> #orm::sqlx::Encode<'q, #orm::sqlx::Postgres>,
        {
        }
    };

    Ok(quote! {
        #[doc = #new_doc]
        #new_derives
        #vis struct #new_name {
            #(#new_fields,)*
        }

        impl #orm::Model for #name {
            type New = #new_name;
            type Key = #key_type;

            const META: &'static #orm::__private::ModelMeta = &#orm::__private::ModelMeta {
                table: #table,
                domain: #domain,
                schema: #schema_tokens,
                columns: &[#(#column_metas),*],
            };

            fn bind_new(new: #new_name, args: &mut #orm::__private::Args) -> ::std::vec::Vec<usize> {
                let mut set = ::std::vec::Vec::with_capacity(#n);
                #(#bind_new)*
                set
            }

            fn bind_key(key: Self::Key, args: &mut #orm::__private::Args) {
                #bind_key
            }

            fn key(&self) -> Self::Key {
                #key_expr
            }

            fn bind_non_key(&self, args: &mut #orm::__private::Args) {
                #(#bind_non_key)*
            }
        }

        #from_row

        #has_key_impl

        const _: () = {
            #assert_fn
            #[allow(dead_code)]
            fn __strav_check_fields() {
                #(#decode_checks)*
            }
        };

        #[allow(dead_code)]
        impl #name {
            #(#column_consts)*

            /// Every row.
            pub async fn all<'e, E: #orm::Executor<'e>>(exec: E) -> #orm::Result<::std::vec::Vec<Self>> {
                #orm::__private::all::<Self, E>(exec).await
            }

            /// The first row whose `column` equals `value`.
            pub async fn find_by<'e, E, T, V>(exec: E, column: #orm::Column<Self, T>, value: V) -> #orm::Result<::core::option::Option<Self>>
            where
                E: #orm::Executor<'e>,
                V: #orm::Compatible<T>,
            {
                #orm::__private::find_by::<Self, E, T, V>(exec, column, value).await
            }

            /// Inserts a row and returns it as stored.
            pub async fn create<'e, E: #orm::Executor<'e>>(exec: E, new: #new_name) -> #orm::Result<Self> {
                #orm::__private::create::<Self, E>(exec, new).await
            }

            /// A query builder over this model's table.
            pub fn query() -> #orm::Query<Self> {
                #orm::Query::new()
            }

            #key_methods
        }
    })
}

/// The field name without `r#`.
fn unraw(ident: &Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}
