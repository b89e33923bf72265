//! What one schema holds, as plain data: read back from PostgreSQL by whoever can connect
//! (the CLI), or derived from a domain's definitions ([`SchemaSnapshot::of_domain`]) in
//! the same canonical form, so that the two compare directly. The forms are described in
//! the docs of [`crate::diff`].

use crate::catalog::{Catalog, Domain, Identity, ReferentialAction};
use crate::naming::quote_sql_ident;

/// What exists in one schema: its enums and tables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchemaSnapshot {
    pub enums: Vec<EnumSnapshot>,
    pub tables: Vec<TableSnapshot>,
}

/// An enum type and its labels, in sort order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumSnapshot {
    pub name: String,
    pub labels: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSnapshot {
    pub name: String,
    /// In column order.
    pub columns: Vec<ColumnSnapshot>,
    pub primary_key: Option<PrimaryKeySnapshot>,
    pub uniques: Vec<UniqueSnapshot>,
    /// Plain indexes on columns (not those behind a constraint).
    pub indexes: Vec<IndexSnapshot>,
    pub foreign_keys: Vec<ForeignKeySnapshot>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnSnapshot {
    pub name: String,
    /// See the module docs for the spelling.
    pub ty: String,
    pub nullable: bool,
    /// The default expression as `pg_get_expr` prints it.
    pub default: Option<String>,
    pub identity: Option<Identity>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrimaryKeySnapshot {
    /// The constraint name (`orders_pkey`).
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UniqueSnapshot {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexSnapshot {
    pub name: String,
    pub columns: Vec<String>,
    /// The access method: `btree`, `hash`, `gin`, `gist`, `brin`, ...
    pub method: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignKeySnapshot {
    pub name: String,
    pub columns: Vec<String>,
    /// `None`: a table of the same schema; else the schema of the target.
    pub target_schema: Option<String>,
    pub target_table: String,
    pub target_columns: Vec<String>,
    pub on_delete: ReferentialAction,
    pub on_update: ReferentialAction,
}

impl ForeignKeySnapshot {
    /// The same constraint but for its name.
    pub(super) fn same_definition(&self, other: &Self) -> bool {
        self.columns == other.columns
            && self.target_schema == other.target_schema
            && self.target_table == other.target_table
            && self.target_columns == other.target_columns
            && self.on_delete == other.on_delete
            && self.on_update == other.on_update
    }
}

/// `pg_constraint.confdeltype` / `confupdtype` (`a`, `r`, `c`, `n`, `d`) as an action.
pub fn referential_action_from_pg(code: &str) -> Option<ReferentialAction> {
    match code {
        "a" => Some(ReferentialAction::NoAction),
        "r" => Some(ReferentialAction::Restrict),
        "c" => Some(ReferentialAction::Cascade),
        "n" => Some(ReferentialAction::SetNull),
        "d" => Some(ReferentialAction::SetDefault),
        _ => None,
    }
}

/// The name PostgreSQL gives an object it names itself (`makeObjectName`):
/// `name1[_name2]_label`, the longer of the names shortened until it fits 63 bytes.
pub fn pg_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let overhead = label.len() + 1 + usize::from(name2.is_some());
    let available = 63usize.saturating_sub(overhead);
    let (mut n1, mut n2) = (name1.len(), name2.map_or(0, str::len));
    while n1 + n2 > available {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let clip = |s: &str, mut n: usize| {
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        s[..n].to_owned()
    };
    match name2 {
        Some(name2) => format!("{}_{}_{label}", clip(name1, n1), clip(name2, n2)),
        None => format!("{}_{label}", clip(name1, n1)),
    }
}

impl SchemaSnapshot {
    /// What `domain`'s definitions describe, in the form a snapshot of a schema that
    /// holds exactly them would have.
    pub fn of_domain(catalog: &Catalog, domain: &Domain) -> SchemaSnapshot {
        let enums = domain
            .enums
            .iter()
            .map(|e| EnumSnapshot {
                name: e.name.clone(),
                labels: e.variants.iter().map(|v| v.label.clone()).collect(),
            })
            .collect();
        let tables = domain
            .tables
            .iter()
            .map(|t| TableSnapshot {
                name: t.name.clone(),
                columns: t
                    .columns
                    .iter()
                    .map(|c| ColumnSnapshot {
                        name: c.name.clone(),
                        ty: c.ty.referencing_type().sql_from(&domain.name),
                        nullable: c.nullable,
                        default: if c.ty.is_serial() {
                            let sequence = pg_object_name(&t.name, Some(&c.name), "seq");
                            Some(nextval_default(&quote_sql_ident(&sequence)))
                        } else {
                            c.default.as_ref().map(|d| d.to_sql())
                        },
                        identity: c.identity,
                    })
                    .collect(),
                primary_key: (!t.primary_key.is_empty()).then(|| PrimaryKeySnapshot {
                    name: pg_object_name(&t.name, None, "pkey"),
                    columns: t.primary_key.clone(),
                }),
                uniques: t
                    .uniques
                    .iter()
                    .map(|u| UniqueSnapshot {
                        name: u.name.clone(),
                        columns: u.columns.clone(),
                    })
                    .collect(),
                indexes: t
                    .indexes
                    .iter()
                    .map(|i| IndexSnapshot {
                        name: i.name.clone(),
                        columns: i.columns.clone(),
                        method: i.method.to_string(),
                    })
                    .collect(),
                foreign_keys: t
                    .foreign_keys
                    .iter()
                    .map(|fk| ForeignKeySnapshot {
                        name: fk.name.clone(),
                        columns: fk.columns.clone(),
                        target_schema: (fk.target.domain != domain.name).then(|| {
                            catalog
                                .domain(&fk.target.domain)
                                .and_then(Domain::schema)
                                .unwrap_or(&fk.target.domain)
                                .to_owned()
                        }),
                        target_table: fk.target.table.clone(),
                        target_columns: fk.target_columns.clone(),
                        on_delete: fk.on_delete,
                        on_update: fk.on_update,
                    })
                    .collect(),
            })
            .collect();
        SchemaSnapshot { enums, tables }
    }

    pub fn table(&self, name: &str) -> Option<&TableSnapshot> {
        self.tables.iter().find(|t| t.name == name)
    }

    pub fn enum_type(&self, name: &str) -> Option<&EnumSnapshot> {
        self.enums.iter().find(|e| e.name == name)
    }
}

impl TableSnapshot {
    pub fn column(&self, name: &str) -> Option<&ColumnSnapshot> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// The default of a column that draws from `sequence` (given as SQL, quoted where it needs
/// to be), as `pg_get_expr` prints it.
pub(super) fn nextval_default(sequence: &str) -> String {
    format!("nextval('{}'::regclass)", sequence.replace('\'', "''"))
}
