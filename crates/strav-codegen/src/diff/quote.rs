//! SQL quoting, shared by the statements of a plan and the advice in its warnings, which
//! quotes names the same way so that it can be pasted as it is.

use crate::naming::quote_sql_ident;

pub(super) fn ident(name: &str) -> String {
    quote_sql_ident(name).into_owned()
}

pub(super) fn idents(names: &[String]) -> String {
    names
        .iter()
        .map(|n| ident(n))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
