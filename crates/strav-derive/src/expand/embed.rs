//! What `embed_migrations!` writes: the files found, as a list of
//! `(domain, file name, text)` for the runtime to parse.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::MigrationDir;
use crate::expand::paths::orm;

pub fn expand_embed(dir: &MigrationDir) -> TokenStream {
    let orm = orm();
    let entries = dir.files.iter().map(|f| {
        let (domain, name, path) = (&f.domain, &f.name, &f.path);
        // include_str! rather than the text itself: cargo then rebuilds
        // when a file's content changes.
        quote!((#domain, #name, ::core::include_str!(#path)))
    });
    quote! {
        #orm::__private::Migrations::from_embedded(&[#(#entries),*])
    }
}
