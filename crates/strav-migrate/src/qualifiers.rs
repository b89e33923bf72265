//! Migrations of a fixed-schema domain run with their schema first on the
//! search path, so they name their own tables unqualified. One that writes
//! `public.users` in a migration of `public` would reach the real `public`
//! when replayed into a shadow schema: it is refused before anything runs.

use strav_orm::Migrations;

use crate::error::{Error, Result};

/// Fails on the first migration of `domain` that names `schema` itself.
pub(crate) fn refuse_self_qualified(
    migrations: &Migrations,
    domain: &str,
    schema: &str,
) -> Result<()> {
    for m in migrations.domain(domain) {
        if names_schema(&m.up, schema) {
            return Err(Error::SelfQualified {
                file: m.file.clone(),
                schema: schema.to_owned(),
                domain: domain.to_owned(),
            });
        }
    }
    Ok(())
}

/// Whether `sql` has `schema.` or `"schema".` outside comments and string literals.
fn names_schema(sql: &str, schema: &str) -> bool {
    let mut code = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                // '' inside a literal closes and reopens it: same result.
                for d in chars.by_ref() {
                    if d == '\'' {
                        break;
                    }
                }
                code.push(' ');
            }
            '-' if chars.peek() == Some(&'-') => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
                code.push('\n');
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut previous = ' ';
                for d in chars.by_ref() {
                    if previous == '*' && d == '/' {
                        break;
                    }
                    previous = d;
                }
                code.push(' ');
            }
            _ => code.push(c.to_ascii_lowercase()),
        }
    }
    [format!("{schema}."), format!("\"{schema}\".")]
        .iter()
        .any(|needle| {
            code.match_indices(needle.as_str()).any(|(at, _)| {
                !code[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '"')
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_schema_qualifiers_are_found_outside_comments_and_strings() {
        assert!(names_schema("ALTER TABLE public.users ADD x int", "public"));
        assert!(names_schema(
            "alter table \"public\".users add x int",
            "public"
        ));
        assert!(names_schema("CREATE INDEX i ON Public.users (a)", "public"));
        assert!(!names_schema(
            "-- public.users\nCREATE TABLE users ()",
            "public"
        ));
        assert!(!names_schema("/* public.x */ SELECT 'public.x'", "public"));
        assert!(!names_schema("REFERENCES my_public.users (id)", "public"));
        assert!(!names_schema(
            "CREATE EXTENSION pgcrypto SCHEMA public;",
            "public"
        ));
        assert!(!names_schema("REFERENCES public.users (id)", "factory"));
    }
}
