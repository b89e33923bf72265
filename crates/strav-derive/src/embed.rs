//! `embed_migrations!("database/migrations")`: the migration files, read at
//! compile time, so a binary can onboard tenants without them on disk.

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

pub fn expand(dir: LitStr) -> syn::Result<TokenStream> {
    let root = std::env::var("CARGO_MANIFEST_DIR").map_err(|_| {
        syn::Error::new(
            dir.span(),
            "embed_migrations! needs CARGO_MANIFEST_DIR (build with cargo)",
        )
    })?;
    let base = PathBuf::from(root).join(dir.value());
    let read = |p: &PathBuf| {
        std::fs::read_dir(p).map_err(|e| {
            syn::Error::new(
                dir.span(),
                format!("cannot read migrations directory {}: {e}", p.display()),
            )
        })
    };
    let mut domains: Vec<PathBuf> = read(&base)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    domains.sort();
    let mut entries = Vec::new();
    for d in domains {
        let domain = d
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut files: Vec<PathBuf> = read(&d)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        for f in files {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let path = f.display().to_string();
            // include_str! makes cargo rebuild when a file's content changes.
            entries.push(quote!((#domain, #name, ::core::include_str!(#path))));
        }
    }
    Ok(quote! {
        ::strav_orm::__private::Migrations::from_embedded(&[#(#entries),*])
    })
}
