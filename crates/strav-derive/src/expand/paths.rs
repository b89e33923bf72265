//! Where generated code finds Strav's runtime.
//!
//! Always through `::strav_orm`, the crate users depend on, with a leading
//! `::` so a user's own module of the same name cannot shadow it. What only
//! generated code calls lives under `::strav_orm::__private`.

use proc_macro2::TokenStream;
use quote::quote;

/// `::strav_orm`
pub fn orm() -> TokenStream {
    quote!(::strav_orm)
}
