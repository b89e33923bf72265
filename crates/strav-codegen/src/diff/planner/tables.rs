//! Tables created and dropped, and the order the changes of kept tables take: keys that
//! go away are found first, since foreign keys that need them must be dropped before and
//! added after.

use std::collections::BTreeSet;

use super::citus::{self, CitusSchema};
use super::recorder::{Direction, Recorder};
use super::renames::rename_candidates;
use super::{columns, constraints};
use crate::diff::change::{Change, Phase};
use crate::diff::quote::ident;
use crate::diff::snapshot::{SchemaSnapshot, TableSnapshot};

pub(super) fn plan(
    rec: &mut Recorder,
    from: &SchemaSnapshot,
    to: &SchemaSnapshot,
    citus: &CitusSchema,
) {
    let dropped: Vec<&TableSnapshot> = from
        .tables
        .iter()
        .filter(|t| to.table(&t.name).is_none())
        .collect();
    let created: Vec<&TableSnapshot> = to
        .tables
        .iter()
        .filter(|t| from.table(&t.name).is_none())
        .collect();
    let dropped_names: BTreeSet<&str> = dropped.iter().map(|t| t.name.as_str()).collect();

    // Keys (table, columns) that go away: foreign keys that need them are dropped
    // first and added again once the new key exists.
    let mut dropped_keys: BTreeSet<(String, Vec<String>)> = BTreeSet::new();
    for (old, new) in kept_tables(from, to) {
        constraints::keys(rec, old, new, &mut dropped_keys);
    }

    // Foreign keys.
    for t in &dropped {
        for fk in &t.foreign_keys {
            // Among the dropped tables themselves, DROP TABLE order would matter.
            if fk.target_schema.is_none() && dropped_names.contains(fk.target_table.as_str()) {
                constraints::drop_foreign_key(rec, &t.name, fk);
            }
        }
    }
    for (old, new) in kept_tables(from, to) {
        constraints::foreign_keys(rec, old, new, &dropped_keys);
    }
    for t in &created {
        for fk in &t.foreign_keys {
            constraints::add_foreign_key(rec, &t.name, fk);
        }
    }

    // Indexes of kept tables.
    for (old, new) in kept_tables(from, to) {
        constraints::indexes(rec, old, new);
    }

    // Tables.
    for t in &dropped {
        if !created.is_empty() {
            let names: Vec<&str> = created.iter().map(|c| c.name.as_str()).collect();
            let (added, new_name) = rename_candidates(&names);
            rec.warn(
                Phase::DropTable,
                format!(
                    "table `{}` is dropped and {added} created: if that is a rename, \
                     replace the DROP TABLE and CREATE TABLE with ALTER TABLE {} RENAME \
                     TO {new_name}; as written, the rows of `{}` are lost",
                    t.name,
                    ident(&t.name),
                    t.name
                ),
            );
        } else if rec.direction == Direction::Up {
            rec.note(
                Phase::DropTable,
                format!("drops table `{}` with its rows", t.name),
            );
        }
        rec.push(Change::DropTable {
            name: t.name.clone(),
        });
    }
    for t in &created {
        if rec.direction == Direction::Down {
            rec.note(
                Phase::CreateTable,
                format!(
                    "recreates table `{}` as it was; its rows are not restored",
                    t.name
                ),
            );
        }
        create_table(rec, t);
        for index in &t.indexes {
            constraints::create_index(rec, &t.name, index);
        }
    }
    citus::reference_tables(rec, citus, &created);

    for (old, new) in kept_tables(from, to) {
        columns::plan(rec, old, new);
    }
}

fn create_table(rec: &mut Recorder, t: &TableSnapshot) {
    for c in &t.columns {
        rec.check_new_labels(c);
    }
    rec.push(Change::CreateTable(t.clone()));
}

/// Pairs of tables present on both sides, in `to` order.
fn kept_tables<'a>(
    from: &'a SchemaSnapshot,
    to: &'a SchemaSnapshot,
) -> impl Iterator<Item = (&'a TableSnapshot, &'a TableSnapshot)> {
    to.tables
        .iter()
        .filter_map(move |new| from.table(&new.name).map(|old| (old, new)))
}
