//! The errors found while reading and checking one macro input.
//!
//! Every phase reports into one `Ctxt` and carries on, so a user who got
//! three attributes wrong sees three errors in one build instead of one
//! per build.

use std::fmt::Display;

use proc_macro2::Span;

pub struct Ctxt {
    errors: Vec<syn::Error>,
    checked: bool,
}

impl Ctxt {
    pub fn new() -> Self {
        Ctxt {
            errors: Vec::new(),
            checked: false,
        }
    }

    /// An error with its message at `span`.
    pub fn error_at(&mut self, span: Span, message: impl Display) {
        self.errors.push(syn::Error::new(span, message));
    }

    /// An error that syn already placed, such as one from parsing an
    /// attribute.
    pub fn syn_error(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    /// All errors reported, combined in the order they were reported (the
    /// order the compiler shows them in), or `Ok` when there were none.
    pub fn check(mut self) -> syn::Result<()> {
        self.checked = true;
        let mut errors = std::mem::take(&mut self.errors).into_iter();
        let Some(mut all) = errors.next() else {
            return Ok(());
        };
        for e in errors {
            all.combine(e);
        }
        Err(all)
    }
}

/// A `Ctxt` dropped without `check` would lose its errors and let a broken
/// input expand as if it were fine: fail loudly instead, as a bug in this
/// crate.
impl Drop for Ctxt {
    fn drop(&mut self) {
        if !self.checked && !std::thread::panicking() {
            panic!("strav-derive bug: errors collected but never checked");
        }
    }
}
