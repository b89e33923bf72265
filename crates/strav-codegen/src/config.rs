//! `config/generators.toml`: model naming per domain, per-tenant domains, output folder,
//! and whether migrations are written for Citus.

use std::collections::BTreeMap;

use toml::de::DeValue;

use crate::definition::{entries, kind, parse_toml, Reader};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile};
use crate::naming;

/// The generator configuration. [`Default`] is what an absent file means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `[model_naming]`: domain → model prefix, `""` for none (`false` in the file).
    pub model_naming: BTreeMap<String, String>,
    /// `[domains] per_tenant`: domains with one schema per tenant. Default `["tenant"]`.
    pub per_tenant: Vec<String>,
    /// `[output] models`: where `strav generate:models` writes. Default `src/models`.
    pub models_dir: String,
    /// `[citus]`: write migrations for Citus's schema-based sharding.
    pub citus: Citus,
}

/// `[citus]` of `generators.toml`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Citus {
    /// `enabled = true`: a table of a fixed domain that a per-tenant table references
    /// (directly, or through other such tables) becomes a Citus reference table in the
    /// migration that creates it, and definitions Citus cannot take are errors. Default
    /// `false`: migrations are plain PostgreSQL.
    pub enabled: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            model_naming: BTreeMap::new(),
            per_tenant: vec!["tenant".to_string()],
            models_dir: "src/models".to_string(),
            citus: Citus::default(),
        }
    }
}

impl Config {
    /// The model prefix of `domain`: the configured one, else none for `public` and
    /// PascalCase(domain) for the others.
    pub fn prefix(&self, domain: &str) -> String {
        match self.model_naming.get(domain) {
            Some(prefix) => prefix.clone(),
            None => naming::default_prefix(domain),
        }
    }

    pub fn is_per_tenant(&self, domain: &str) -> bool {
        self.per_tenant.iter().any(|d| d == domain)
    }

    /// Parses a `generators.toml`, reporting every problem into `diags`.
    pub(crate) fn parse(file: &SourceFile, diags: &mut Diagnostics) -> Config {
        let mut config = Config::default();
        let Some(root) = parse_toml(file, diags) else {
            return config;
        };
        let mut r = Reader { file, diags };
        for (key, value) in entries(root.get_ref()) {
            match key.get_ref().as_ref() {
                "model_naming" => {
                    let Some(table) = r.table(key, value) else {
                        continue;
                    };
                    for (domain, prefix) in entries(table) {
                        let value = match prefix.get_ref() {
                            DeValue::String(s) => {
                                if !s.is_empty() && !naming::is_pascal_identifier(s) {
                                    r.diags.push(
                                        Diagnostic::at(
                                            file,
                                            prefix.span(),
                                            format!(
                                                "model prefix \"{s}\" of domain `{}` is not a PascalCase identifier",
                                                domain.get_ref()
                                            ),
                                        )
                                        .with_help(format!(
                                            "use letters and digits starting with a capital, such as \"{}\", or \"\" for no prefix",
                                            naming::pascal(s)
                                        )),
                                    );
                                    continue;
                                }
                                s.to_string()
                            }
                            DeValue::Boolean(false) => String::new(),
                            other => {
                                r.diags.push(
                                    Diagnostic::at(
                                        file,
                                        prefix.span(),
                                        format!(
                                            "model prefix of domain `{}` must be a string or `false`, found {}",
                                            domain.get_ref(),
                                            if matches!(other, DeValue::Boolean(true)) {
                                                "`true`"
                                            } else {
                                                kind(other)
                                            }
                                        ),
                                    )
                                    .with_help(format!(
                                        "write `{d} = \"{p}\"` for a prefix, or `{d} = \"\"` / `{d} = false` for none",
                                        d = domain.get_ref(),
                                        p = naming::default_prefix(domain.get_ref()),
                                    )),
                                );
                                continue;
                            }
                        };
                        config
                            .model_naming
                            .insert(domain.get_ref().to_string(), value);
                    }
                }
                "output" => {
                    let Some(table) = r.table(key, value) else {
                        continue;
                    };
                    for (k, v) in entries(table) {
                        match k.get_ref().as_ref() {
                            "models" => {
                                if let Some(s) = r.string(k, v) {
                                    config.models_dir = s.value;
                                }
                            }
                            _ => r.unknown_key(k, "[output]", &["models"]),
                        }
                    }
                }
                "domains" => {
                    let Some(table) = r.table(key, value) else {
                        continue;
                    };
                    for (k, v) in entries(table) {
                        match k.get_ref().as_ref() {
                            "per_tenant" => {
                                let Some(list) = r.string_list(k, v) else {
                                    continue;
                                };
                                config.per_tenant.clear();
                                for domain in list.value {
                                    if domain.value == "public" {
                                        r.diags.push(
                                            Diagnostic::at(
                                                file,
                                                domain.span,
                                                "domain `public` cannot be per-tenant: it always lives in schema `public`",
                                            )
                                            .with_help("remove \"public\" from `per_tenant`"),
                                        );
                                    } else {
                                        config.per_tenant.push(domain.value);
                                    }
                                }
                            }
                            _ => r.unknown_key(k, "[domains]", &["per_tenant"]),
                        }
                    }
                }
                "citus" => {
                    let Some(table) = r.table(key, value) else {
                        continue;
                    };
                    for (k, v) in entries(table) {
                        match k.get_ref().as_ref() {
                            "enabled" => {
                                if let Some(b) = r.bool(k, v) {
                                    config.citus.enabled = b.value;
                                }
                            }
                            _ => r.unknown_key(k, "[citus]", &["enabled"]),
                        }
                    }
                }
                _ => r.unknown_key(
                    key,
                    "generators.toml",
                    &["model_naming", "domains", "output", "citus"],
                ),
            }
        }
        config
    }
}
