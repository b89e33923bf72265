//! The columns of a kept table: added, dropped, and altered in type, default,
//! nullability and identity, in the order that keeps each statement valid.

use super::recorder::{Direction, Recorder};
use super::renames::rename_candidates;
use crate::diff::change::{Change, ColumnChange, Phase};
use crate::diff::normalize::{
    is_serial_default, normalize_default, same_default, same_type, sequence_of, Norm,
};
use crate::diff::quote::ident;
use crate::diff::snapshot::{nextval_default, pg_object_name, ColumnSnapshot, TableSnapshot};

pub(super) fn plan(rec: &mut Recorder, old: &TableSnapshot, new: &TableSnapshot) {
    let table = ident(&new.name);
    let dropped: Vec<&ColumnSnapshot> = old
        .columns
        .iter()
        .filter(|c| new.column(&c.name).is_none())
        .collect();
    let added: Vec<&ColumnSnapshot> = new
        .columns
        .iter()
        .filter(|c| old.column(&c.name).is_none())
        .collect();
    for c in &dropped {
        if !added.is_empty() {
            let same_type: Vec<&str> = added
                .iter()
                .filter(|a| same_type(&a.ty, &c.ty, &rec.local_enums))
                .map(|a| a.name.as_str())
                .collect();
            let candidates = if same_type.is_empty() {
                added.iter().map(|a| a.name.as_str()).collect()
            } else {
                same_type
            };
            let (added, new_name) = rename_candidates(&candidates);
            rec.warn(
                Phase::AlterColumns,
                format!(
                    "column `{}.{}` is dropped and {added} added: if that is a rename, \
                     replace the DROP COLUMN and ADD COLUMN with ALTER TABLE {table} RENAME \
                     COLUMN {} TO {new_name}; as written, the values of `{}` are lost",
                    new.name,
                    c.name,
                    ident(&c.name),
                    c.name
                ),
            );
        }
        rec.push(Change::DropColumn {
            table: new.name.clone(),
            column: c.name.clone(),
        });
    }
    for c in &added {
        let fills_itself = c.nullable || c.default.is_some() || c.identity.is_some();
        if !fills_itself {
            rec.warn(
                Phase::AlterColumns,
                format!(
                    "column `{}.{}` is added NOT NULL without a default: this fails if \
                     `{}` has rows; give it a default, or add it nullable, fill it and \
                     then make it NOT NULL",
                    new.name, c.name, new.name
                ),
            );
        }
        rec.check_new_labels(c);
        rec.push(Change::AddColumn {
            table: new.name.clone(),
            column: (*c).clone(),
        });
    }
    for c in &new.columns {
        if let Some(o) = old.column(&c.name) {
            alter_column(rec, &new.name, o, c);
        }
    }
}

fn alter_column(rec: &mut Recorder, table_name: &str, old: &ColumnSnapshot, new: &ColumnSnapshot) {
    let alter = |change: ColumnChange| Change::AlterColumn {
        table: table_name.to_owned(),
        column: new.name.clone(),
        change,
    };
    let type_changed = !same_type(&old.ty, &new.ty, &rec.local_enums);
    let default_same = same_default(
        &old.ty,
        old.default.as_deref(),
        &new.ty,
        new.default.as_deref(),
    );
    let old_serial = is_serial_default(old.default.as_deref());
    let new_serial = is_serial_default(new.default.as_deref());
    // A serial default survives a type change; any other default is dropped
    // before and set again after, since it may not convert. SET DEFAULT alone
    // replaces a default otherwise.
    let drop_first = old.default.is_some()
        && ((type_changed && !old_serial)
            || (!default_same && (new.default.is_none() || old_serial != new_serial)));
    let set_after = new.default.is_some() && (!default_same || drop_first);

    if old.identity.is_some() && new.identity.is_none() {
        rec.push(alter(ColumnChange::DropIdentity));
    }
    if drop_first {
        rec.push(alter(ColumnChange::DropDefault));
        if old_serial && !new_serial {
            if let Some(sequence) = old.default.as_deref().and_then(sequence_of) {
                rec.push(Change::DropSequence { sequence });
            }
        }
    }
    if type_changed {
        rec.push(alter(ColumnChange::SetType(new.ty.clone())));
        // serial → bigserial: the sequence's own range must follow.
        let integer = matches!(new.ty.as_str(), "smallint" | "integer" | "bigint");
        if old_serial && new_serial && integer {
            if let Some(sequence) = old.default.as_deref().and_then(sequence_of) {
                rec.push(Change::SetSequenceType {
                    sequence,
                    ty: new.ty.clone(),
                });
            }
        }
    }
    if set_after {
        if let Some(default) = &new.default {
            if new_serial && !old_serial {
                let sequence = sequence_of(default)
                    .unwrap_or_else(|| ident(&pg_object_name(table_name, Some(&new.name), "seq")));
                rec.push(Change::CreateSequence {
                    sequence: sequence.clone(),
                    ty: new.ty.clone(),
                    table: table_name.to_owned(),
                    column: new.name.clone(),
                });
                rec.push(Change::ContinueSequenceAfterMax {
                    sequence: sequence.clone(),
                    table: table_name.to_owned(),
                    column: new.name.clone(),
                });
                rec.push(alter(ColumnChange::SetDefault(nextval_default(&sequence))));
            } else {
                if !default_same {
                    explain_default(rec, table_name, old, new);
                }
                rec.check_new_labels(new);
                rec.push(alter(ColumnChange::SetDefault(default.clone())));
            }
        }
    }
    if old.nullable != new.nullable {
        if new.nullable {
            rec.push(alter(ColumnChange::DropNotNull));
        } else {
            rec.warn(
                Phase::AlterColumns,
                format!(
                    "column `{table_name}.{}` becomes NOT NULL: this fails if a row holds \
                     NULL there; fill those rows first (UPDATE ... WHERE {} IS NULL) in \
                     this migration",
                    new.name,
                    ident(&new.name)
                ),
            );
            rec.push(alter(ColumnChange::SetNotNull));
        }
    }
    if let Some(identity) = new.identity {
        if old.identity != Some(identity) {
            rec.push(alter(if old.identity.is_some() {
                ColumnChange::SetIdentity(identity)
            } else {
                ColumnChange::AddIdentity(identity)
            }));
        }
    }
}

/// An expression default that differs only in spelling would be planned again on
/// every run: say what PostgreSQL calls it.
fn explain_default(rec: &mut Recorder, table: &str, old: &ColumnSnapshot, new: &ColumnSnapshot) {
    let (Some(old_default), Some(new_default)) = (&old.default, &new.default) else {
        return;
    };
    if rec.direction != Direction::Up {
        return;
    }
    let expressions = matches!(normalize_default(&old.ty, old_default), Norm::Expr(_))
        && matches!(normalize_default(&new.ty, new_default), Norm::Expr(_));
    if expressions {
        rec.warn(
            Phase::AlterColumns,
            format!(
                "the default of `{table}.{}` changes from `{old_default}` to \
                 `{new_default}`; if both mean the same, write default_sql = \
                 \"{old_default}\" in the definition (PostgreSQL's spelling) so that \
                 this change is not generated again",
                new.name
            ),
        );
    }
}
