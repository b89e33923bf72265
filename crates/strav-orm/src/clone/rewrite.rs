//! Renaming the source schema in the few texts PostgreSQL keeps verbatim:
//! function bodies and `search_path` settings (see the module docs of
//! `clone`).

use crate::schema_name::SchemaName;

/// Rewrites names qualified with schema `from` (`from.x`, `"from".x`, any
/// case for the unquoted form) to schema `to`, where `from` stands as a
/// whole identifier. Function bodies are opaque text to PostgreSQL, so this
/// is the one place where the clone edits SQL text; it also rewrites such
/// names inside string literals (dynamic SQL), which is what a body that
/// names its own schema means.
pub(super) fn requalify(text: &str, from: &str, to: &str) -> String {
    let bytes = text.as_bytes();
    let quoted = format!("\"{from}\".");
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let before = if i == 0 { None } else { Some(bytes[i - 1]) };
        let boundary = before.is_none_or(|b| !is_ident_byte(b) && b != b'"' && b != b'.');
        if boundary && bytes[i..].starts_with(quoted.as_bytes()) {
            out.push_str(&text[copied..i]);
            out.push_str(&format!("\"{to}\"."));
            i += quoted.len();
            copied = i;
            continue;
        }
        let end = i + from.len();
        if boundary
            && end < bytes.len()
            && bytes[end] == b'.'
            && bytes[i..end].eq_ignore_ascii_case(from.as_bytes())
        {
            out.push_str(&text[copied..i]);
            out.push_str(to);
            out.push('.');
            i = end + 1;
            copied = i;
            continue;
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

/// Bytes that continue an unquoted identifier (non-ASCII letters included).
fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// A function's `search_path` setting (as stored: identifiers separated by
/// commas) with the source schema replaced by the target.
pub(super) fn rewrite_search_path(value: &str, source: &SchemaName, target: &SchemaName) -> String {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut in_quotes = false;
    for c in value.chars() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                current.push(c);
            }
            ',' if !in_quotes => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    let quoted_source = source.quoted();
    let rewritten: Vec<String> = parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| {
            if p == source.as_str() || p == quoted_source {
                target.quoted()
            } else {
                p.to_owned()
            }
        })
        .collect();
    if rewritten.is_empty() {
        "''".to_owned()
    } else {
        rewritten.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> SchemaName {
        SchemaName::new(s).unwrap()
    }

    #[test]
    fn requalifies_whole_identifiers_only() {
        let body = "SELECT acme.f(x) FROM acme.orders o, \"acme\".items, ACME.t, \
                    acme_old.t, old_acme.t, x.acme.t, acme, 'acme.orders'::regclass, acme .t";
        assert_eq!(
            requalify(body, "acme", "copy_1"),
            "SELECT copy_1.f(x) FROM copy_1.orders o, \"copy_1\".items, copy_1.t, \
             acme_old.t, old_acme.t, x.acme.t, acme, 'copy_1.orders'::regclass, acme .t"
        );
        assert_eq!(requalify("acme.", "acme", "b"), "b.");
        assert_eq!(requalify("acme", "acme", "b"), "acme");
        assert_eq!(requalify("é acme.t", "acme", "b"), "é b.t");
    }

    #[test]
    fn search_path_settings() {
        let (s, t) = (name("acme"), name("copy_1"));
        assert_eq!(
            rewrite_search_path("acme, public", &s, &t),
            "\"copy_1\", public"
        );
        assert_eq!(
            rewrite_search_path("\"$user\", \"acme\"", &s, &t),
            "\"$user\", \"copy_1\""
        );
        assert_eq!(rewrite_search_path("acme_x", &s, &t), "acme_x");
        assert_eq!(rewrite_search_path("", &s, &t), "''");
    }
}
