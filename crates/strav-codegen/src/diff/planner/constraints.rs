//! Primary keys, unique constraints, foreign keys and indexes of a kept table. One whose
//! definition stays but whose name changed is renamed rather than rebuilt.

use std::collections::BTreeSet;

use super::recorder::Recorder;
use crate::diff::change::Change;
use crate::diff::snapshot::{ForeignKeySnapshot, IndexSnapshot, TableSnapshot, UniqueSnapshot};

/// Primary key and unique constraints of a kept table.
pub(super) fn keys(
    rec: &mut Recorder,
    old: &TableSnapshot,
    new: &TableSnapshot,
    dropped_keys: &mut BTreeSet<(String, Vec<String>)>,
) {
    let table = &new.name;
    match (&old.primary_key, &new.primary_key) {
        (Some(a), Some(b)) if a.columns == b.columns => {}
        (a, b) => {
            if let Some(a) = a {
                dropped_keys.insert((old.name.clone(), a.columns.clone()));
                rec.push(Change::DropConstraint {
                    table: table.clone(),
                    name: a.name.clone(),
                });
            }
            if let Some(b) = b {
                rec.push(Change::AddPrimaryKey {
                    table: table.clone(),
                    key: b.clone(),
                });
            }
        }
    }
    let mut gone: Vec<&UniqueSnapshot> = Vec::new();
    let mut came: Vec<&UniqueSnapshot> = Vec::new();
    for u in &old.uniques {
        match new.uniques.iter().find(|n| n.name == u.name) {
            Some(n) if n.columns == u.columns => {}
            Some(n) => {
                gone.push(u);
                came.push(n);
            }
            None => gone.push(u),
        }
    }
    for n in &new.uniques {
        if !old.uniques.iter().any(|u| u.name == n.name) {
            came.push(n);
        }
    }
    // Same columns under another name: a rename, which keeps the index.
    let mut renamed: Vec<(usize, usize)> = Vec::new();
    for (gi, g) in gone.iter().enumerate() {
        let found = came.iter().enumerate().find(|(ci, c)| {
            c.columns == g.columns
                && !renamed.iter().any(|(_, r)| r == ci)
                && !old.uniques.iter().any(|u| u.name == c.name)
        });
        if let Some((ci, c)) = found {
            renamed.push((gi, ci));
            rec.push(Change::RenameConstraint {
                table: table.clone(),
                from: g.name.clone(),
                to: c.name.clone(),
            });
        }
    }
    for (gi, g) in gone.iter().enumerate() {
        if renamed.iter().any(|(r, _)| *r == gi) {
            continue;
        }
        dropped_keys.insert((old.name.clone(), g.columns.clone()));
        rec.push(Change::DropConstraint {
            table: table.clone(),
            name: g.name.clone(),
        });
    }
    for (ci, c) in came.iter().enumerate() {
        if renamed.iter().any(|(_, r)| *r == ci) {
            continue;
        }
        rec.push(Change::AddUnique {
            table: table.clone(),
            unique: (*c).clone(),
        });
    }
}

pub(super) fn foreign_keys(
    rec: &mut Recorder,
    old: &TableSnapshot,
    new: &TableSnapshot,
    dropped_keys: &BTreeSet<(String, Vec<String>)>,
) {
    let needs_dropped_key = |fk: &ForeignKeySnapshot| {
        fk.target_schema.is_none()
            && dropped_keys.contains(&(fk.target_table.clone(), fk.target_columns.clone()))
    };
    let mut gone: Vec<&ForeignKeySnapshot> = Vec::new();
    let mut came: Vec<&ForeignKeySnapshot> = Vec::new();
    for fk in &old.foreign_keys {
        match new.foreign_keys.iter().find(|n| n.name == fk.name) {
            Some(n) if n.same_definition(fk) && !needs_dropped_key(fk) => {}
            Some(n) => {
                gone.push(fk);
                came.push(n);
            }
            None => gone.push(fk),
        }
    }
    for n in &new.foreign_keys {
        if !old.foreign_keys.iter().any(|fk| fk.name == n.name) {
            came.push(n);
        }
    }
    let mut renamed: Vec<(usize, usize)> = Vec::new();
    for (gi, g) in gone.iter().enumerate() {
        if needs_dropped_key(g) {
            continue;
        }
        let found = came.iter().enumerate().find(|(ci, c)| {
            c.same_definition(g)
                && !renamed.iter().any(|(_, r)| r == ci)
                && !old.foreign_keys.iter().any(|o| o.name == c.name)
        });
        if let Some((ci, c)) = found {
            renamed.push((gi, ci));
            rec.push(Change::RenameConstraint {
                table: new.name.clone(),
                from: g.name.clone(),
                to: c.name.clone(),
            });
        }
    }
    for (gi, g) in gone.iter().enumerate() {
        if !renamed.iter().any(|(r, _)| *r == gi) {
            drop_foreign_key(rec, &old.name, g);
        }
    }
    for (ci, c) in came.iter().enumerate() {
        if !renamed.iter().any(|(_, r)| *r == ci) {
            add_foreign_key(rec, &new.name, c);
        }
    }
}

pub(super) fn drop_foreign_key(rec: &mut Recorder, table: &str, fk: &ForeignKeySnapshot) {
    rec.push(Change::DropForeignKey {
        table: table.to_owned(),
        name: fk.name.clone(),
    });
}

pub(super) fn add_foreign_key(rec: &mut Recorder, table: &str, fk: &ForeignKeySnapshot) {
    rec.push(Change::AddForeignKey {
        table: table.to_owned(),
        key: fk.clone(),
    });
}

pub(super) fn indexes(rec: &mut Recorder, old: &TableSnapshot, new: &TableSnapshot) {
    let same =
        |a: &IndexSnapshot, b: &IndexSnapshot| a.columns == b.columns && a.method == b.method;
    let mut gone: Vec<&IndexSnapshot> = Vec::new();
    let mut came: Vec<&IndexSnapshot> = Vec::new();
    for i in &old.indexes {
        match new.indexes.iter().find(|n| n.name == i.name) {
            Some(n) if same(i, n) => {}
            Some(n) => {
                gone.push(i);
                came.push(n);
            }
            None => gone.push(i),
        }
    }
    for n in &new.indexes {
        if !old.indexes.iter().any(|i| i.name == n.name) {
            came.push(n);
        }
    }
    let mut renamed: Vec<(usize, usize)> = Vec::new();
    for (gi, g) in gone.iter().enumerate() {
        let found = came.iter().enumerate().find(|(ci, c)| {
            same(g, c)
                && !renamed.iter().any(|(_, r)| r == ci)
                && !old.indexes.iter().any(|o| o.name == c.name)
        });
        if let Some((ci, c)) = found {
            renamed.push((gi, ci));
            rec.push(Change::RenameIndex {
                from: g.name.clone(),
                to: c.name.clone(),
            });
        }
    }
    for (gi, g) in gone.iter().enumerate() {
        if !renamed.iter().any(|(r, _)| *r == gi) {
            rec.push(Change::DropIndex {
                name: g.name.clone(),
            });
        }
    }
    for (ci, c) in came.iter().enumerate() {
        if !renamed.iter().any(|(_, r)| *r == ci) {
            create_index(rec, &new.name, c);
        }
    }
}

pub(super) fn create_index(rec: &mut Recorder, table: &str, index: &IndexSnapshot) {
    rec.push(Change::CreateIndex {
        table: table.to_owned(),
        index: index.clone(),
    });
}
