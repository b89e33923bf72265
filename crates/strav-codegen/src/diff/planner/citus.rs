//! With `[citus] enabled`: reference tables created where their tables are, and a
//! warning on each statement Citus refuses on a table it manages.
//!
//! The refusals are those of Citus's DDL checks (`ErrorIfUnsupportedAlterTableStmt`,
//! sequence commands) for a table of a distributed schema, a reference table or a local
//! table in its metadata, with metadata synced to the workers (Citus's default): no
//! identity added, changed or dropped, no serial or identity column added, no type
//! change of a column fed by a sequence or identity, no sequence `OWNED BY` such a table,
//! no `ALTER SEQUENCE ... AS` of one. A warning rather than an error: the definition is
//! fine for a table created anew, only the change of an existing one is refused.

use std::collections::{BTreeMap, BTreeSet};

use super::recorder::{Direction, Recorder};
use crate::catalog::{Catalog, Domain, DomainKind};
use crate::citus::{Layout, Placement};
use crate::diff::change::{Change, ColumnChange, Phase, Step};
use crate::diff::normalize::is_serial_default;
use crate::diff::quote::ident;
use crate::diff::snapshot::{SchemaSnapshot, TableSnapshot};

/// What Citus means for the schema being planned; [`Default`] when `[citus]` is off.
#[derive(Clone, Debug, Default)]
pub(in crate::diff) struct CitusSchema {
    /// Tables of the schema that are reference tables, in the order to make them so,
    /// each with the note that says why.
    pub reference: Vec<(String, String)>,
    /// Tables of the schema that Citus manages, with what they are to Citus.
    managed: BTreeMap<String, &'static str>,
    /// A per-tenant domain: every table is in a distributed schema.
    all_managed: Option<&'static str>,
}

impl CitusSchema {
    pub fn of(catalog: &Catalog, domain: &Domain) -> CitusSchema {
        if !catalog.citus {
            return CitusSchema::default();
        }
        if domain.kind == DomainKind::PerTenant {
            return CitusSchema {
                all_managed: Some(Placement::Distributed.description()),
                ..CitusSchema::default()
            };
        }
        let layout = Layout::of(catalog);
        let reference = layout
            .reference_tables()
            .iter()
            .filter(|t| t.domain == domain.name)
            .filter_map(|t| match layout.placement(&t.domain, &t.table) {
                Some(Placement::Reference { because }) => {
                    let by = match catalog.domain(&because.domain).map(|d| &d.kind) {
                        Some(DomainKind::PerTenant) => "per-tenant table",
                        _ => "reference table",
                    };
                    Some((
                        t.table.clone(),
                        format!(
                            "Citus: a reference table (copied to every node), since {by} \
                             `{}.{}` references it",
                            because.domain, because.table
                        ),
                    ))
                }
                _ => None,
            })
            .collect();
        let managed = domain
            .tables
            .iter()
            .filter_map(|t| {
                layout
                    .placement(&domain.name, &t.name)
                    .map(|p| (t.name.clone(), p.description()))
            })
            .collect();
        CitusSchema {
            reference,
            managed,
            all_managed: None,
        }
    }

    fn managed(&self, table: &str) -> Option<&'static str> {
        self.all_managed
            .or_else(|| self.managed.get(table).copied())
    }
}

/// `create_reference_table` for each reference table that `created` holds, after the
/// tables are created and before any foreign key; `up` only (`down` drops them).
pub(super) fn reference_tables(
    rec: &mut Recorder,
    citus: &CitusSchema,
    created: &[&TableSnapshot],
) {
    if rec.direction != Direction::Up {
        return;
    }
    for (table, why) in &citus.reference {
        if created.iter().any(|t| &t.name == table) {
            rec.note(Phase::CreateReferenceTable, why.clone());
            rec.push(Change::CreateReferenceTable {
                table: table.clone(),
            });
        }
    }
}

/// Puts a warning before each statement Citus would refuse, one per column.
pub(super) fn warn_refused(rec: &mut Recorder, from: &SchemaSnapshot, citus: &CitusSchema) {
    if rec.direction != Direction::Up {
        return;
    }
    let mut warned: BTreeSet<(String, String)> = BTreeSet::new();
    let steps = std::mem::take(&mut rec.steps);
    for step in steps {
        if let Step::Run(change) = &step {
            if let Some(r) = refused(change, from) {
                if let Some(kind) = citus.managed(&r.table) {
                    if warned.insert((r.table.clone(), r.column.clone())) {
                        let text = format!(
                            "Citus refuses {} on `{}`, {kind}: {}",
                            r.what, r.table, r.instead
                        );
                        rec.steps.push(Step::Warning {
                            phase: step.phase(),
                            text: text.clone(),
                        });
                        rec.warnings.push(text);
                    }
                }
            }
        }
        rec.steps.push(step);
    }
}

/// A statement Citus refuses on its tables, and what to write instead.
struct Refused {
    table: String,
    column: String,
    what: String,
    instead: String,
}

fn refused(change: &Change, from: &SchemaSnapshot) -> Option<Refused> {
    let found = |table: &str, column: &str, what: String, instead: String| {
        Some(Refused {
            table: table.to_owned(),
            column: column.to_owned(),
            what,
            instead,
        })
    };
    match change {
        Change::AddColumn { table, column }
            if column.identity.is_some() || is_serial_default(column.default.as_deref()) =>
        {
            found(
                table,
                &column.name,
                format!(
                    "ADD COLUMN {} with a serial type or identity",
                    ident(&column.name)
                ),
                "add it as a plain integer column, then CREATE SEQUENCE (without OWNED BY) \
                 and ALTER COLUMN ... SET DEFAULT nextval(...), each a statement of its \
                 own, in a migration written by hand"
                    .to_owned(),
            )
        }
        Change::AlterColumn {
            table,
            column,
            change:
                ColumnChange::AddIdentity(_) | ColumnChange::SetIdentity(_) | ColumnChange::DropIdentity,
        } => found(
            table,
            column,
            format!("ALTER COLUMN {} ... IDENTITY", ident(column)),
            "Citus changes no identity of its tables; keep the column as it is, or add \
             a new column, copy the values and drop the old one by hand"
                .to_owned(),
        ),
        Change::AlterColumn {
            table,
            column,
            change: ColumnChange::SetType(_),
        } => {
            let old = from.table(table).and_then(|t| t.column(column))?;
            if old.identity.is_none() && !is_serial_default(old.default.as_deref()) {
                return None;
            }
            found(
                table,
                column,
                format!(
                    "ALTER COLUMN {} TYPE on a column fed by a sequence",
                    ident(column)
                ),
                "add a new column of the new type, copy the values and drop the old one \
                 by hand"
                    .to_owned(),
            )
        }
        Change::CreateSequence { table, column, .. } => found(
            table,
            column,
            "CREATE SEQUENCE ... OWNED BY".to_owned(),
            "create the sequence without OWNED BY in a migration of your own".to_owned(),
        ),
        _ => None,
    }
}
