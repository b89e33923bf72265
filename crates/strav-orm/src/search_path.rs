//! The `search_path` a statement needs.

use std::fmt;

use crate::schema_name::SchemaIdent;

/// Which search path a statement runs with.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum SearchPath {
    /// No tenant: `public` only.
    Default,
    /// A schema (a tenant's, or one named on purpose by migrations), followed
    /// by the configured shared schemas.
    Schema(SchemaIdent),
}

impl SearchPath {
    /// The value for `SET search_path TO ...`. Names are validated, so
    /// quoting them is all the escaping needed.
    pub(crate) fn render(&self, shared: &[SchemaIdent]) -> String {
        match self {
            SearchPath::Default => "\"public\"".to_owned(),
            SearchPath::Schema(s) => {
                let mut out = s.quoted();
                for extra in shared.iter().filter(|x| *x != s) {
                    out.push_str(", ");
                    out.push_str(&extra.quoted());
                }
                out
            }
        }
    }

    /// The schema named, for error messages and logs.
    pub(crate) fn schema(&self) -> Option<&str> {
        match self {
            SearchPath::Default => None,
            SearchPath::Schema(s) => Some(s.as_str()),
        }
    }
}

impl fmt::Display for SearchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SearchPath::Default => f.write_str("public"),
            SearchPath::Schema(s) => f.write_str(s.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_paths() {
        let public = SchemaIdent::public();
        let t = SchemaIdent::new("t1").unwrap();
        assert_eq!(
            SearchPath::Default.render(std::slice::from_ref(&public)),
            "\"public\""
        );
        assert_eq!(
            SearchPath::Schema(t.clone()).render(std::slice::from_ref(&public)),
            "\"t1\", \"public\""
        );
        assert_eq!(SearchPath::Schema(t).render(&[]), "\"t1\"");
        assert_eq!(
            SearchPath::Schema(public.clone()).render(&[public]),
            "\"public\""
        );
    }
}
