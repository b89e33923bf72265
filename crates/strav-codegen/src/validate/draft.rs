//! What one pass hands to the next. Each keeps where it came from, so that a later
//! pass (references, project-wide names) can still point at the right file and line.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::catalog::{ColumnType, DomainKind, Enum, ReferentialAction, Table};
use crate::config::Config;
use crate::definition::{DefinitionFile, RawDefinition, Sp};

pub(super) struct DomainState {
    pub kind: DomainKind,
    pub prefix: String,
    /// A file of the domain is not valid TOML: what seems missing may be in it.
    pub tainted: bool,
}

impl DomainState {
    pub fn new(config: &Config, domain: &str) -> Self {
        DomainState {
            kind: if domain == "public" {
                DomainKind::Public
            } else if config.is_per_tenant(domain) {
                DomainKind::PerTenant
            } else {
                DomainKind::Fixed
            },
            prefix: config.prefix(domain),
            tainted: false,
        }
    }
}

/// Every domain with at least one definition file, by name.
pub(super) type Domains = BTreeMap<String, DomainState>;

/// A definition file whose TOML could be read.
pub(super) struct Parsed<'a> {
    pub file: &'a DefinitionFile,
    pub raw: RawDefinition,
}

pub(super) struct DeclaredEnum<'a> {
    pub value: Enum,
    pub file: &'a DefinitionFile,
    pub span: Range<usize>,
}

/// Every valid enum, by (domain, SQL name).
pub(super) type Enums<'a> = BTreeMap<(String, String), DeclaredEnum<'a>>;

/// A table built from one file, waiting for its references to be resolved.
pub(super) struct Draft<'a> {
    pub file: &'a DefinitionFile,
    pub table: Table,
    /// Where to point when the model name collides: `model`, else `table`, else nothing.
    pub name_span: Option<Range<usize>>,
    pub table_span: Option<Range<usize>>,
    pub references: Vec<PendingReference>,
    /// Index and unique constraint names, with where each was written or implied.
    pub index_names: Vec<(String, Range<usize>)>,
}

/// A `references = "..."` of a valid column; the target is checked once every table is
/// built.
pub(super) struct PendingReference {
    pub column: String,
    pub ty: ColumnType,
    pub nullable: bool,
    pub has_default: bool,
    pub target: Sp<String>,
    pub on_delete: Option<Sp<ReferentialAction>>,
    pub on_update: Option<Sp<ReferentialAction>>,
}
