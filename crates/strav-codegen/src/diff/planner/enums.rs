//! Enum types: created, dropped, or given new values. PostgreSQL can neither drop nor
//! reorder the values of an enum, so those are warned about instead.

use super::recorder::{Direction, Recorder};
use super::renames::rename_candidates;
use crate::diff::change::{Change, LabelPosition, Phase};
use crate::diff::quote::{ident, literal};
use crate::diff::snapshot::{EnumSnapshot, SchemaSnapshot};

pub(super) fn plan(rec: &mut Recorder, from: &SchemaSnapshot, to: &SchemaSnapshot) {
    let created: Vec<&EnumSnapshot> = to
        .enums
        .iter()
        .filter(|e| from.enum_type(&e.name).is_none())
        .collect();
    for e in &to.enums {
        match from.enum_type(&e.name) {
            None => rec.push(Change::CreateEnum(e.clone())),
            Some(old) => enum_values(rec, old, e),
        }
    }
    for e in &from.enums {
        if to.enum_type(&e.name).is_some() {
            continue;
        }
        if !created.is_empty() {
            let names: Vec<&str> = created.iter().map(|c| c.name.as_str()).collect();
            let (added, new_name) = rename_candidates(&names);
            rec.warn(
                Phase::DropEnum,
                format!(
                    "enum type `{}` is dropped and {added} created: if that is a rename, \
                     replace the DROP TYPE and CREATE TYPE with ALTER TYPE {} RENAME TO \
                     {new_name}",
                    e.name,
                    ident(&e.name)
                ),
            );
        }
        rec.push(Change::DropEnum {
            name: e.name.clone(),
        });
    }
}

fn enum_values(rec: &mut Recorder, old: &EnumSnapshot, new: &EnumSnapshot) {
    let mut present = old.labels.clone();
    for (i, label) in new.labels.iter().enumerate() {
        if present.contains(label) {
            continue;
        }
        let (position, at) = if i > 0 {
            let previous = &new.labels[i - 1];
            let at = present
                .iter()
                .position(|l| l == previous)
                .map_or(0, |p| p + 1);
            (LabelPosition::After(previous.clone()), at)
        } else if let Some(first) = present.first() {
            (LabelPosition::Before(first.clone()), 0)
        } else {
            (LabelPosition::Last, 0)
        };
        present.insert(at, label.clone());
        rec.added_labels
            .entry(new.name.clone())
            .or_default()
            .insert(label.clone());
        rec.push(Change::AddEnumValue {
            name: new.name.clone(),
            label: label.clone(),
            position,
        });
    }
    let removed: Vec<&String> = old
        .labels
        .iter()
        .filter(|l| !new.labels.contains(l))
        .collect();
    if !removed.is_empty() {
        let list = removed
            .iter()
            .map(|l| literal(l))
            .collect::<Vec<_>>()
            .join(", ");
        match rec.direction {
            Direction::Up => rec.warn(
                Phase::AddEnumValue,
                format!(
                    "enum type `{}` no longer defines {list}, but PostgreSQL cannot drop \
                     enum values: they stay in the type (if a value was renamed, use \
                     ALTER TYPE {} RENAME VALUE 'old' TO 'new' instead)",
                    new.name,
                    ident(&new.name)
                ),
            ),
            Direction::Down => rec.note(
                Phase::AddEnumValue,
                format!(
                    "PostgreSQL cannot drop enum values: this leaves {list} in `{}` \
                     (up adds them with IF NOT EXISTS, so it can run again)",
                    new.name
                ),
            ),
        }
    }
    let kept: Vec<&String> = present.iter().filter(|l| new.labels.contains(l)).collect();
    if kept.iter().copied().ne(new.labels.iter()) {
        rec.warn(
            Phase::AddEnumValue,
            format!(
                "the values of enum type `{}` are defined in another order than the \
                 database has them ({}), and PostgreSQL cannot reorder enum values",
                new.name,
                present.join(", ")
            ),
        );
    }
}
