//! The SQL of a list of changes: one statement per change, comments for notes and
//! warnings, and a blank line between phases so that a reader sees the steps.
//!
//! Objects of the schema being migrated are unqualified (migrations run with it first on
//! the `search_path`); a foreign key to another schema names that schema.

use super::change::{Change, ColumnChange, LabelPosition, Phase, Step};
use super::normalize::is_serial_default;
use super::quote::{ident, idents, literal};
use super::snapshot::{pg_object_name, ColumnSnapshot, PrimaryKeySnapshot};
use crate::catalog::{Identity, ReferentialAction};

/// `steps` in the order they are given, which is the order they run in.
pub(super) fn render(steps: &[Step]) -> String {
    let mut out = String::new();
    let mut last: Option<Phase> = None;
    for step in steps {
        let phase = step.phase();
        if last.is_some_and(|p| p != phase) {
            out.push('\n');
        }
        last = Some(phase);
        match step {
            Step::Run(change) => out.push_str(&statement(change)),
            Step::Note { text, .. } => out.push_str(&comment(text)),
            Step::Warning { text, .. } => out.push_str(&comment(&format!("WARNING: {text}"))),
        }
        out.push('\n');
    }
    out
}

fn comment(text: &str) -> String {
    text.lines()
        .map(|l| format!("-- {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn statement(change: &Change) -> String {
    match change {
        Change::CreateEnum(e) => {
            let labels: Vec<String> = e.labels.iter().map(|l| literal(l)).collect();
            format!(
                "CREATE TYPE {} AS ENUM ({});",
                ident(&e.name),
                labels.join(", ")
            )
        }
        Change::AddEnumValue {
            name,
            label,
            position,
        } => {
            let position = match position {
                LabelPosition::Before(l) => format!(" BEFORE {}", literal(l)),
                LabelPosition::After(l) => format!(" AFTER {}", literal(l)),
                LabelPosition::Last => String::new(),
            };
            format!(
                "ALTER TYPE {} ADD VALUE IF NOT EXISTS {}{position};",
                ident(name),
                literal(label)
            )
        }
        Change::DropEnum { name } => format!("DROP TYPE {};", ident(name)),
        Change::CreateTable(t) => {
            let mut lines: Vec<String> = t
                .columns
                .iter()
                .map(|c| format!("    {}", column_definition(c)))
                .collect();
            if let Some(pk) = &t.primary_key {
                lines.push(format!("    {}", primary_key_clause(&t.name, pk)));
            }
            for u in &t.uniques {
                lines.push(format!(
                    "    CONSTRAINT {} UNIQUE ({})",
                    ident(&u.name),
                    idents(&u.columns)
                ));
            }
            format!(
                "CREATE TABLE {} (\n{}\n);",
                ident(&t.name),
                lines.join(",\n")
            )
        }
        Change::DropTable { name } => format!("DROP TABLE {};", ident(name)),
        // Unqualified, like every name of the schema being migrated: the text resolves
        // through the search_path, which the runner (and the shadow replay of
        // `generate:migration`) sets to the target schema first.
        Change::CreateReferenceTable { table } => {
            format!("SELECT create_reference_table({});", literal(&ident(table)))
        }
        Change::AddColumn { table, column } => format!(
            "ALTER TABLE {} ADD COLUMN {};",
            ident(table),
            column_definition(column)
        ),
        Change::DropColumn { table, column } => {
            format!(
                "ALTER TABLE {} DROP COLUMN {};",
                ident(table),
                ident(column)
            )
        }
        Change::AlterColumn {
            table,
            column,
            change,
        } => {
            let alter = format!(
                "ALTER TABLE {} ALTER COLUMN {}",
                ident(table),
                ident(column)
            );
            let identity = |identity: &Identity| match identity {
                Identity::Always => "ALWAYS",
                Identity::ByDefault => "BY DEFAULT",
            };
            match change {
                ColumnChange::DropIdentity => format!("{alter} DROP IDENTITY;"),
                ColumnChange::DropDefault => format!("{alter} DROP DEFAULT;"),
                ColumnChange::SetType(ty) => {
                    format!("{alter} TYPE {ty} USING {}::{ty};", ident(column))
                }
                ColumnChange::SetDefault(default) => format!("{alter} SET DEFAULT {default};"),
                ColumnChange::DropNotNull => format!("{alter} DROP NOT NULL;"),
                ColumnChange::SetNotNull => format!("{alter} SET NOT NULL;"),
                ColumnChange::AddIdentity(kind) => {
                    format!("{alter} ADD GENERATED {} AS IDENTITY;", identity(kind))
                }
                ColumnChange::SetIdentity(kind) => {
                    format!("{alter} SET GENERATED {};", identity(kind))
                }
            }
        }
        Change::CreateSequence {
            sequence,
            ty,
            table,
            column,
        } => format!(
            "CREATE SEQUENCE {sequence} AS {ty} OWNED BY {}.{};",
            ident(table),
            ident(column)
        ),
        Change::ContinueSequenceAfterMax {
            sequence,
            table,
            column,
        } => format!(
            "SELECT setval('{}', COALESCE(max({}), 0) + 1, false) FROM {};",
            sequence.replace('\'', "''"),
            ident(column),
            ident(table)
        ),
        Change::SetSequenceType { sequence, ty } => format!("ALTER SEQUENCE {sequence} AS {ty};"),
        Change::DropSequence { sequence } => format!("DROP SEQUENCE IF EXISTS {sequence};"),
        Change::AddPrimaryKey { table, key } => format!(
            "ALTER TABLE {} ADD {};",
            ident(table),
            primary_key_clause(table, key)
        ),
        Change::AddUnique { table, unique } => format!(
            "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({});",
            ident(table),
            ident(&unique.name),
            idents(&unique.columns)
        ),
        Change::DropConstraint { table, name } | Change::DropForeignKey { table, name } => {
            format!(
                "ALTER TABLE {} DROP CONSTRAINT {};",
                ident(table),
                ident(name)
            )
        }
        Change::RenameConstraint { table, from, to } => format!(
            "ALTER TABLE {} RENAME CONSTRAINT {} TO {};",
            ident(table),
            ident(from),
            ident(to)
        ),
        Change::AddForeignKey { table, key } => {
            let target = match &key.target_schema {
                None => ident(&key.target_table),
                Some(schema) => format!("{}.{}", ident(schema), ident(&key.target_table)),
            };
            let mut sql = format!(
                "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {target} ({})",
                ident(table),
                ident(&key.name),
                idents(&key.columns),
                idents(&key.target_columns)
            );
            if key.on_delete != ReferentialAction::NoAction {
                sql.push_str(&format!(" ON DELETE {}", key.on_delete));
            }
            if key.on_update != ReferentialAction::NoAction {
                sql.push_str(&format!(" ON UPDATE {}", key.on_update));
            }
            sql.push(';');
            sql
        }
        Change::CreateIndex { table, index } => {
            let using = if index.method == "btree" {
                String::new()
            } else {
                format!(" USING {}", index.method)
            };
            format!(
                "CREATE INDEX {} ON {}{using} ({});",
                ident(&index.name),
                ident(table),
                idents(&index.columns)
            )
        }
        Change::RenameIndex { from, to } => {
            format!("ALTER INDEX {} RENAME TO {};", ident(from), ident(to))
        }
        Change::DropIndex { name } => format!("DROP INDEX {};", ident(name)),
    }
}

/// `id bigserial NOT NULL`, `status order_status NOT NULL DEFAULT 'pending'::order_status`.
fn column_definition(c: &ColumnSnapshot) -> String {
    // A serial column is created as one, so that it gets (and owns) its sequence.
    let serial = if is_serial_default(c.default.as_deref()) {
        match c.ty.as_str() {
            "smallint" => Some("smallserial"),
            "integer" => Some("serial"),
            "bigint" => Some("bigserial"),
            _ => None,
        }
    } else {
        None
    };
    let mut sql = format!("{} {}", ident(&c.name), serial.unwrap_or(&c.ty));
    match c.identity {
        Some(Identity::Always) => sql.push_str(" GENERATED ALWAYS AS IDENTITY"),
        Some(Identity::ByDefault) => sql.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
        None => {}
    }
    if !c.nullable {
        sql.push_str(" NOT NULL");
    }
    if let (None, Some(default)) = (serial, &c.default) {
        sql.push_str(" DEFAULT ");
        sql.push_str(default);
    }
    sql
}

/// `PRIMARY KEY (id)`, named only when the name is not the one PostgreSQL would choose.
fn primary_key_clause(table: &str, pk: &PrimaryKeySnapshot) -> String {
    if pk.name == pg_object_name(table, None, "pkey") {
        format!("PRIMARY KEY ({})", idents(&pk.columns))
    } else {
        format!(
            "CONSTRAINT {} PRIMARY KEY ({})",
            ident(&pk.name),
            idents(&pk.columns)
        )
    }
}
