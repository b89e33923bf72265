//! `[enums]`: valid names and labels, a Rust variant for each label, and one declaration
//! per enum and domain.

use super::draft::{DeclaredEnum, Domains, Enums, Parsed};
use super::names::snake_name_problem;
use crate::catalog::{Enum, EnumVariant};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::naming;

/// Every valid `[enums]` entry of every file. Invalid ones are reported and left out, so
/// that columns using them report nothing more.
pub(super) fn collect<'a>(
    parsed: &[Parsed<'a>],
    domains: &Domains,
    diags: &mut Diagnostics,
) -> Enums<'a> {
    let mut enums: Enums<'a> = Enums::new();
    for p in parsed {
        let source = &p.file.source;
        for raw in &p.raw.enums {
            let name = &raw.name.value;
            if let Some(d) = snake_name_problem(source, raw.name.span.clone(), "enum", name) {
                diags.push(d);
                continue;
            }
            if raw.labels.value.is_empty() {
                diags.push(
                    Diagnostic::at(
                        source,
                        raw.labels.span.clone(),
                        format!("enum `{name}` has no labels"),
                    )
                    .with_help(format!("list its values: {name} = [\"draft\", \"active\"]")),
                );
                continue;
            }
            let mut variants: Vec<EnumVariant> = Vec::new();
            let mut ok = true;
            for label in &raw.labels.value {
                let text = &label.value;
                let problem = if text.is_empty() {
                    Some((
                        "an empty label".to_string(),
                        "remove it or give it a value".to_string(),
                    ))
                } else if text.len() > 63 {
                    Some((
                        format!("label \"{text}\" is longer than 63 bytes"),
                        "PostgreSQL enum labels have at most 63 bytes; shorten it".to_string(),
                    ))
                } else if let Some(first) = variants.iter().find(|v| v.label == *text) {
                    Some((
                        format!("label \"{}\" is listed twice", first.label),
                        "remove one of them".to_string(),
                    ))
                } else {
                    match naming::variant_name(text) {
                        None => Some((
                            format!("label \"{text}\" has no letter or digit to make a Rust variant name from"),
                            "use labels with letters or digits, such as \"pending\"".to_string(),
                        )),
                        Some(variant) => match variants.iter().find(|v| v.rust_name == variant) {
                            Some(other) => Some((
                                format!(
                                    "labels \"{}\" and \"{text}\" both become the Rust variant `{variant}`",
                                    other.label
                                ),
                                "rename one of the labels".to_string(),
                            )),
                            None => {
                                variants.push(EnumVariant {
                                    label: text.clone(),
                                    rust_name: variant,
                                });
                                None
                            }
                        },
                    }
                };
                if let Some((message, help)) = problem {
                    ok = false;
                    diags.push(
                        Diagnostic::at(
                            source,
                            label.span.clone(),
                            format!("enum `{name}`: {message}"),
                        )
                        .with_help(help),
                    );
                }
            }
            if !ok {
                continue;
            }
            let key = (p.file.domain.clone(), name.clone());
            if let Some(first) = enums.get(&key) {
                let (line, col) = first.file.source.line_col(first.span.start);
                diags.push(
                    Diagnostic::at(
                        source,
                        raw.name.span.clone(),
                        format!(
                            "enum `{name}` of domain `{}` is declared twice: in {} and in {}",
                            p.file.domain,
                            first.file.source.path().display(),
                            source.path().display()
                        ),
                    )
                    .with_help(
                        "declare each enum once per domain; every table of the domain can use it",
                    )
                    .with_note(format!(
                        "first declared at {}:{line}:{col}",
                        first.file.source.path().display()
                    )),
                );
                continue;
            }
            let prefix = &domains[&p.file.domain].prefix;
            enums.insert(
                key,
                DeclaredEnum {
                    value: Enum {
                        name: name.clone(),
                        rust_name: format!("{prefix}{}", naming::pascal(name)),
                        variants,
                        file: p.file.relative.clone(),
                    },
                    file: p.file,
                    span: raw.name.span.clone(),
                },
            );
        }
    }
    enums
}
