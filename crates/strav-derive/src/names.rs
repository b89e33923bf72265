//! How Rust names become SQL names when no attribute says otherwise.

/// A field name as written in SQL: `r#type` → `type`.
pub fn unraw(ident: &syn::Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

/// A variant name as a PostgreSQL enum label: `OnHold` → `on_hold`.
pub fn snake_case(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_identifiers_lose_their_prefix() {
        let raw: syn::Ident = syn::parse_str("r#type").unwrap();
        let plain: syn::Ident = syn::parse_str("customer").unwrap();
        assert_eq!(unraw(&raw), "type");
        assert_eq!(unraw(&plain), "customer");
    }

    #[test]
    fn variant_names_become_snake_case_labels() {
        assert_eq!(snake_case("Pending"), "pending");
        assert_eq!(snake_case("OnHold"), "on_hold");
        // Every capital starts a word, acronyms included: labels already
        // stored in databases depend on this, so it stays.
        assert_eq!(snake_case("HTTPError"), "h_t_t_p_error");
    }
}
