//! What `#[derive(Model)]` writes for a checked struct: the insert struct,
//! the `Model` impl the runtime drives, row decoding, a column constant per
//! field and the query methods.
//!
//! Code that concerns one field is spanned at that field's type, so a type
//! the database cannot hold is an error at the field rather than at the
//! derive.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::Ident;

use crate::ast::{Field, Model};
use crate::expand::paths::orm;
use crate::names::unraw;

pub fn expand_model(model: &Model) -> TokenStream {
    let new_struct = new_struct(model);
    let model_impl = model_impl(model);
    let from_row = from_row(model);
    let has_primary_key = has_primary_key(model);
    let field_checks = field_checks(model);
    let inherent_impl = inherent_impl(model);
    quote! {
        #new_struct
        #model_impl
        #from_row
        #has_primary_key
        #field_checks
        #inherent_impl
    }
}

fn table(model: &Model) -> String {
    let table = model.attrs.table.as_ref();
    table.expect("check::model requires `table`").value()
}

/// `new = "..."`, else `New` and the model's name.
fn new_struct_name(model: &Model) -> Ident {
    match &model.attrs.new {
        Some(n) => Ident::new(&n.value(), n.span()),
        None => format_ident!("New{}", model.ident),
    }
}

/// `Some(value)` or `None`, as a `const` expression.
fn option(value: Option<impl ToTokens>) -> TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

/// The row to insert: generated columns left out, since the database fills
/// them; defaulted ones optional, `None` leaving them to the database.
fn new_struct(model: &Model) -> TokenStream {
    let vis = model.vis;
    let new_name = new_struct_name(model);
    let fields = model
        .fields
        .iter()
        .filter(|f| !f.attrs.generated.is_set())
        .map(|f| {
            let (ident, ty) = (f.ident, f.ty);
            if f.attrs.default.is_set() {
                quote_spanned! {ty.span()=>
                    #[doc = "`None`: the database default."]
                    pub #ident: ::core::option::Option<#ty>
                }
            } else {
                quote_spanned!(ty.span()=> pub #ident: #ty)
            }
        });
    let derives = if model.attrs.no_new_default.is_set() {
        quote!(#[derive(Debug, Clone)])
    } else {
        quote!(#[derive(Debug, Clone, Default)])
    };
    let doc = format!(
        "A row to insert into `{}` with [`{}::create`].",
        table(model),
        model.ident
    );
    quote! {
        #[doc = #doc]
        #derives
        #vis struct #new_name {
            #(#fields,)*
        }
    }
}

/// The `Model` impl: the table's description and the binding of values in
/// column order, which is all the runtime needs to build its statements.
fn model_impl(model: &Model) -> TokenStream {
    let orm = orm();
    let name = model.ident;
    let new_name = new_struct_name(model);
    let key = Key::of(model);
    let key_type = &key.ty;
    let bind_key = &key.bind;
    let key_value = &key.value;
    let meta = meta(model);
    let bind_new = bind_new(model);
    let bind_non_key = model
        .fields
        .iter()
        .filter(|f| !f.attrs.primary_key.is_set())
        .map(|f| {
            let ident = f.ident;
            quote_spanned!(f.ty.span()=> args.add_ref(&self.#ident);)
        });
    quote! {
        impl #orm::Model for #name {
            type New = #new_name;
            type Key = #key_type;

            #meta

            #bind_new

            fn bind_key(key: Self::Key, args: &mut #orm::__private::Args) {
                #bind_key
            }

            fn key(&self) -> Self::Key {
                #key_value
            }

            fn bind_non_key(&self, args: &mut #orm::__private::Args) {
                #(#bind_non_key)*
            }
        }
    }
}

/// `Model::META`. A model without `domain` or `schema` is per-tenant; a
/// fixed `schema` is also the domain its migrations live in, unless
/// `domain` says otherwise.
fn meta(model: &Model) -> TokenStream {
    let orm = orm();
    let table = table(model);
    let schema = model.attrs.schema.as_ref().map(|s| s.value());
    let domain = model
        .attrs
        .domain
        .as_ref()
        .map(|d| d.value())
        .or_else(|| schema.clone())
        .unwrap_or_else(|| "tenant".to_owned());
    let schema = option(schema);
    let columns = model.fields.iter().map(|f| {
        let column = &f.column;
        let cast = option(f.attrs.sql_type.as_ref());
        let pk = f.attrs.primary_key.is_set();
        let generated = f.attrs.generated.is_set();
        let default = f.attrs.default.is_set();
        quote! {
            #orm::__private::ColumnMeta {
                name: #column, cast: #cast, primary_key: #pk, generated: #generated, default: #default,
            }
        }
    });
    quote! {
        const META: &'static #orm::__private::ModelMeta = &#orm::__private::ModelMeta {
            table: #table,
            domain: #domain,
            schema: #schema,
            columns: &[#(#columns),*],
        };
    }
}

/// `Model::bind_new`: binds what the insert struct holds and returns the
/// indexes (in `META.columns`) of the columns it bound, so the runtime
/// names only those in the INSERT.
fn bind_new(model: &Model) -> TokenStream {
    let orm = orm();
    let new_name = new_struct_name(model);
    let n = model.fields.len();
    let binds = model
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.attrs.generated.is_set())
        .map(|(i, f)| {
            let ident = f.ident;
            if f.attrs.default.is_set() {
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
    quote! {
        fn bind_new(new: #new_name, args: &mut #orm::__private::Args) -> ::std::vec::Vec<usize> {
            let mut set = ::std::vec::Vec::with_capacity(#n);
            #(#binds)*
            set
        }
    }
}

/// How the primary key looks in generated code. No key is `()`, so a model
/// without one still implements `Model`; `HasPrimaryKey` is what it lacks.
struct Key {
    /// `Model::Key`: the key field's type, or a tuple of them.
    ty: TokenStream,
    /// The body of `Model::bind_key`.
    bind: TokenStream,
    /// The body of `Model::key`.
    value: TokenStream,
}

impl Key {
    fn of(model: &Model) -> Self {
        let keys = model.keys();
        match keys.as_slice() {
            [] => Key {
                ty: quote!(()),
                bind: quote!(let () = key;),
                value: quote!(::core::default::Default::default()),
            },
            [key] => {
                let (ty, ident) = (key.ty, key.ident);
                Key {
                    ty: quote!(#ty),
                    bind: quote!(args.add(key);),
                    value: quote!(::core::clone::Clone::clone(&self.#ident)),
                }
            }
            _ => {
                let types = keys.iter().map(|f| f.ty);
                let idents = keys.iter().map(|f| f.ident);
                let vars: Vec<Ident> = (0..keys.len()).map(|i| format_ident!("k{}", i)).collect();
                Key {
                    ty: quote!((#(#types),*)),
                    bind: quote! {
                        let (#(#vars),*) = key;
                        #(args.add(#vars);)*
                    },
                    value: quote!((#(::core::clone::Clone::clone(&self.#idents)),*)),
                }
            }
        }
    }
}

/// `FromRow`, reading each field from its column, unless `no_from_row`
/// says the user writes their own.
fn from_row(model: &Model) -> TokenStream {
    if model.attrs.no_from_row.is_set() {
        return quote!();
    }
    let orm = orm();
    let name = model.ident;
    let gets = model.fields.iter().map(|f| {
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
}

/// The marker that `find`, `save` and `delete` require: left out for a
/// model without a key, so calling them is a compile error that says why.
fn has_primary_key(model: &Model) -> TokenStream {
    if model.keys().is_empty() {
        return quote!();
    }
    let orm = orm();
    let name = model.ident;
    quote!(impl<E> #orm::HasPrimaryKey<E> for #name {})
}

/// A field whose type PostgreSQL cannot decode, encode or name is an
/// error at that field, even where no generated code happens to use it.
fn field_checks(model: &Model) -> TokenStream {
    let orm = orm();
    let checks = model.fields.iter().map(|f| {
        let ty = f.ty;
        quote_spanned! {ty.span()=>
            __strav_assert_decode::<#ty>();
        }
    });
    quote! {
        const _: () = {
            fn __strav_assert_decode<T>()
            where
                T: for<'r> #orm::sqlx::Decode<'r, #orm::sqlx::Postgres>
                    + #orm::sqlx::Type<#orm::sqlx::Postgres>
                    + for<'q> #orm::sqlx::Encode<'q, #orm::sqlx::Postgres>,
            {
            }
            #[allow(dead_code)]
            fn __strav_check_fields() {
                #(#checks)*
            }
        };
    }
}

/// The model's own items: a `Column` constant per field for typed
/// filters, and the query methods, which hand over to the runtime.
fn inherent_impl(model: &Model) -> TokenStream {
    let orm = orm();
    let name = model.ident;
    let new_name = new_struct_name(model);
    let column_consts = model.fields.iter().map(|f| column_const(model, f));
    let key_type = Key::of(model).ty;
    quote! {
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
        }
    }
}

/// A field's `Column` constant, such as `Order::TOTAL`: the field name in
/// upper case, spanned at the field so an error about it points there.
fn column_const(model: &Model, f: &Field) -> TokenStream {
    let orm = orm();
    let (vis, name) = (model.vis, model.ident);
    let const_name = Ident::new(&unraw(f.ident).to_uppercase(), f.ident.span());
    let (column, ty) = (&f.column, f.ty);
    let cast = option(f.attrs.sql_type.as_ref());
    let doc = format!("Column `{column}`.");
    quote! {
        #[doc = #doc]
        #vis const #const_name: #orm::Column<#name, #ty> = #orm::Column::new(#column, #cast);
    }
}
