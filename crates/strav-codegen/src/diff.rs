//! Migration planning: the SQL that takes a schema from what it has to what a
//! domain's definitions describe, and back.
//!
//! What a schema has is a [`SchemaSnapshot`]: plain data, filled by whoever can read
//! the database (the `strav` CLI introspects a shadow schema into one; this crate
//! never connects). [`plan`] compares it with the catalog and writes `up` and `down`
//! SQL. Both directions come from one comparison, run twice: `up` from the snapshot to
//! the definitions, `down` from the state `up` leaves back to the snapshot, so `down`
//! recreates what `up` dropped as far as the snapshot describes it.
//!
//! # Canonical forms
//!
//! A snapshot holds what PostgreSQL reports, read with the shadow schema and then
//! `public` on the `search_path`:
//!
//! * column types as `format_type` prints them (`character varying(64)`,
//!   `timestamp with time zone`, `numeric(12,2)`, `text[]`); enums and other types
//!   outside `pg_catalog` as `name` when they live in the schema itself, else
//!   `schema.name`, unquoted (`public.user_role`, `factory.machine_state[]`);
//! * defaults as `pg_get_expr` prints them (`'pending'::order_status`, `0`, `now()`,
//!   `'{}'::text[]`); a serial column is its base type with a
//!   `nextval('<sequence>'::regclass)` default;
//! * foreign-key targets with `target_schema: None` for the schema itself, else the
//!   schema's name.
//!
//! The definitions are brought to the same form ([`SchemaSnapshot::of_domain`]), and
//! defaults are compared after removing casts and quotes and normalising the spellings
//! that PostgreSQL re-prints (arrays, jsonb, uuids, timestamps), so an unchanged
//! definition plans nothing against the database its `CREATE` statements made.
//!
//! # What the SQL looks like
//!
//! Objects of the domain are unqualified (migrations run with the target schema first on
//! the `search_path`); objects of other domains are schema-qualified. Statements are
//! ordered so that dependencies hold: types before tables, foreign keys dropped before
//! the keys and tables they need and added after them, enums dropped last. A column
//! dropped and another added in the same table, or a table dropped and another
//! created, may be a rename: the SQL drops and adds (a migration cannot guess), with a
//! warning in the file and in [`MigrationPlan::warnings`]. An index, unique or foreign
//! key that only changed its name is renamed.
//!
//! # Limits
//!
//! * Only what definitions can declare is compared: tables, columns (type, nullability,
//!   default, identity, serial), primary keys, unique constraints, plain column indexes
//!   (method and column order; not opclasses, sort order or collations), foreign keys
//!   and enums. Check constraints, expression, partial and unique indexes, views,
//!   triggers, functions and sequences of their own are neither created nor dropped.
//! * PostgreSQL cannot drop or reorder enum values: removed values stay (a warning says
//!   so), and `down` cannot take back values `up` added (`up` adds them with
//!   `IF NOT EXISTS`, so it can run again after a rollback).
//! * Defaults are compared by their constant value or, for expressions, by text after
//!   removing literal casts and outer parentheses; an expression PostgreSQL prints
//!   differently from the definition (`CURRENT_TIMESTAMP` for `now()`) is planned as a
//!   change, with a warning naming PostgreSQL's spelling to write instead.
//! * Objects of other domains that depend on this one (a tenant foreign key to
//!   `public.users`) are not seen: dropping or re-keying what they reference fails when
//!   the migration runs.
//! * `down` recreates dropped tables and columns empty: their rows are not restored.

mod normalize;
mod snapshot;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::{Catalog, Domain, Identity, ReferentialAction};
use crate::naming::quote_sql_ident;
use normalize::{
    array_elements, is_serial_default, normalize_default, same_default, same_type, sequence_of,
    Norm,
};
use snapshot::nextval_default;
pub use snapshot::{
    pg_object_name, referential_action_from_pg, ColumnSnapshot, EnumSnapshot, ForeignKeySnapshot,
    IndexSnapshot, PrimaryKeySnapshot, SchemaSnapshot, TableSnapshot, UniqueSnapshot,
};

/// The table in which each schema records its applied migrations; never part of a plan.
pub const TRACKING_TABLE: &str = "strav_migrations";

/// The SQL of one migration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MigrationPlan {
    /// Statements that bring the schema to the definitions, with comments.
    pub up: String,
    /// Statements that undo `up`.
    pub down: String,
    /// What a person should look at: possible renames, statements that fail on
    /// existing rows, what PostgreSQL cannot undo. Each is also a comment in `up`.
    pub warnings: Vec<String>,
    /// `up` adds enum values and uses them: it must run outside a transaction
    /// (PostgreSQL refuses a new enum value in the transaction that added it), so the
    /// file starts with `-- strav:no-transaction`.
    pub no_transaction: bool,
    statements: usize,
}

impl MigrationPlan {
    /// Nothing to do: the schema already matches the definitions.
    pub fn is_empty(&self) -> bool {
        self.statements == 0
    }

    /// How many SQL statements `up` holds.
    pub fn statement_count(&self) -> usize {
        self.statements
    }
}

/// The migration that takes a schema holding `current` to what `domain`'s definitions
/// describe. Other domains of `catalog` are needed to name the schemas of cross-domain
/// references.
pub fn plan(domain: &Domain, catalog: &Catalog, current: &SchemaSnapshot) -> MigrationPlan {
    let desired = SchemaSnapshot::of_domain(catalog, domain);
    let mut current = current.clone();
    current.tables.retain(|t| t.name != TRACKING_TABLE);
    let mut up = Diff::new(Direction::Up);
    up.run(&current, &desired);
    let after = after_up(&current, &desired);
    let mut down = Diff::new(Direction::Down);
    down.run(&after, &current);
    let mut warnings = up.warnings;
    if up.no_transaction {
        warnings.push(
            "this migration adds enum values and uses them, which PostgreSQL allows only \
             after the values are committed: it runs outside a transaction \
             (-- strav:no-transaction), so a failure can leave it half-applied"
                .to_owned(),
        );
    }
    MigrationPlan {
        up: render(&up.steps),
        down: render(&down.steps),
        warnings,
        no_transaction: up.no_transaction,
        statements: up.statements,
    }
}

/// The schema as `up` leaves it: the definitions, except that enum values PostgreSQL
/// cannot drop are still there.
fn after_up(current: &SchemaSnapshot, desired: &SchemaSnapshot) -> SchemaSnapshot {
    let mut after = desired.clone();
    for e in &mut after.enums {
        if let Some(old) = current.enum_type(&e.name) {
            for label in &old.labels {
                if !e.labels.contains(label) {
                    e.labels.push(label.clone());
                }
            }
        }
    }
    after
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

/// Where a statement goes; statements run phase by phase, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    CreateEnum,
    AddEnumValue,
    DropForeignKey,
    DropIndex,
    DropConstraint,
    DropTable,
    // Before CreateTable: a new table's index may take a name a rename frees.
    Rename,
    CreateTable,
    AlterColumns,
    AddConstraint,
    CreateIndex,
    AddForeignKey,
    DropEnum,
}

struct Step {
    phase: Phase,
    text: String,
}

struct Diff {
    direction: Direction,
    steps: Vec<Step>,
    statements: usize,
    warnings: Vec<String>,
    no_transaction: bool,
    /// Enum values this run adds, by enum name.
    added_labels: BTreeMap<String, BTreeSet<String>>,
    /// Enums of the schema itself (both sides): their names are never `public.`-equal.
    local_enums: BTreeSet<String>,
}

impl Diff {
    fn new(direction: Direction) -> Self {
        Diff {
            direction,
            steps: Vec::new(),
            statements: 0,
            warnings: Vec::new(),
            no_transaction: false,
            added_labels: BTreeMap::new(),
            local_enums: BTreeSet::new(),
        }
    }

    fn sql(&mut self, phase: Phase, text: String) {
        self.statements += 1;
        self.steps.push(Step { phase, text });
    }

    fn comment(&mut self, phase: Phase, text: &str) {
        let text = text
            .lines()
            .map(|l| format!("-- {l}"))
            .collect::<Vec<_>>()
            .join("\n");
        self.steps.push(Step { phase, text });
    }

    /// A warning in `up` (file and list); nothing in `down`, whose statements only
    /// mirror what `up` did.
    fn warn(&mut self, phase: Phase, text: String) {
        if self.direction == Direction::Up {
            self.comment(phase, &format!("WARNING: {text}"));
            self.warnings.push(text);
        }
    }

    fn run(&mut self, from: &SchemaSnapshot, to: &SchemaSnapshot) {
        self.local_enums = from
            .enums
            .iter()
            .chain(&to.enums)
            .map(|e| e.name.clone())
            .collect();
        self.enums(from, to);
        self.tables(from, to);
    }

    fn enums(&mut self, from: &SchemaSnapshot, to: &SchemaSnapshot) {
        let created: Vec<&EnumSnapshot> = to
            .enums
            .iter()
            .filter(|e| from.enum_type(&e.name).is_none())
            .collect();
        for e in &to.enums {
            match from.enum_type(&e.name) {
                None => {
                    let labels: Vec<String> = e.labels.iter().map(|l| literal(l)).collect();
                    self.sql(
                        Phase::CreateEnum,
                        format!(
                            "CREATE TYPE {} AS ENUM ({});",
                            ident(&e.name),
                            labels.join(", ")
                        ),
                    );
                }
                Some(old) => self.enum_values(old, e),
            }
        }
        for e in &from.enums {
            if to.enum_type(&e.name).is_some() {
                continue;
            }
            if !created.is_empty() {
                let names: Vec<&str> = created.iter().map(|c| c.name.as_str()).collect();
                let (added, new_name) = rename_candidates(&names);
                self.warn(
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
            self.sql(Phase::DropEnum, format!("DROP TYPE {};", ident(&e.name)));
        }
    }

    fn enum_values(&mut self, old: &EnumSnapshot, new: &EnumSnapshot) {
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
                (format!(" AFTER {}", literal(previous)), at)
            } else if let Some(first) = present.first() {
                (format!(" BEFORE {}", literal(first)), 0)
            } else {
                (String::new(), 0)
            };
            present.insert(at, label.clone());
            self.added_labels
                .entry(new.name.clone())
                .or_default()
                .insert(label.clone());
            self.sql(
                Phase::AddEnumValue,
                format!(
                    "ALTER TYPE {} ADD VALUE IF NOT EXISTS {}{position};",
                    ident(&new.name),
                    literal(label)
                ),
            );
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
            match self.direction {
                Direction::Up => self.warn(
                    Phase::AddEnumValue,
                    format!(
                        "enum type `{}` no longer defines {list}, but PostgreSQL cannot drop \
                         enum values: they stay in the type (if a value was renamed, use \
                         ALTER TYPE {} RENAME VALUE 'old' TO 'new' instead)",
                        new.name,
                        ident(&new.name)
                    ),
                ),
                Direction::Down => self.comment(
                    Phase::AddEnumValue,
                    &format!(
                        "PostgreSQL cannot drop enum values: this leaves {list} in `{}` \
                         (up adds them with IF NOT EXISTS, so it can run again)",
                        new.name
                    ),
                ),
            }
        }
        let kept: Vec<&String> = present.iter().filter(|l| new.labels.contains(l)).collect();
        if kept.iter().copied().ne(new.labels.iter()) {
            self.warn(
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

    fn tables(&mut self, from: &SchemaSnapshot, to: &SchemaSnapshot) {
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
            self.keys(old, new, &mut dropped_keys);
        }

        // Foreign keys.
        for t in &dropped {
            for fk in &t.foreign_keys {
                // Among the dropped tables themselves, DROP TABLE order would matter.
                if fk.target_schema.is_none() && dropped_names.contains(fk.target_table.as_str()) {
                    self.drop_foreign_key(&t.name, fk);
                }
            }
        }
        for (old, new) in kept_tables(from, to) {
            self.foreign_keys(old, new, &dropped_keys);
        }
        for t in &created {
            for fk in &t.foreign_keys {
                self.add_foreign_key(&t.name, fk);
            }
        }

        // Indexes of kept tables.
        for (old, new) in kept_tables(from, to) {
            self.indexes(old, new);
        }

        // Tables.
        for t in &dropped {
            if !created.is_empty() {
                let names: Vec<&str> = created.iter().map(|c| c.name.as_str()).collect();
                let (added, new_name) = rename_candidates(&names);
                self.warn(
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
            } else if self.direction == Direction::Up {
                self.comment(
                    Phase::DropTable,
                    &format!("drops table `{}` with its rows", t.name),
                );
            }
            self.sql(Phase::DropTable, format!("DROP TABLE {};", ident(&t.name)));
        }
        for t in &created {
            if self.direction == Direction::Down {
                self.comment(
                    Phase::CreateTable,
                    &format!(
                        "recreates table `{}` as it was; its rows are not restored",
                        t.name
                    ),
                );
            }
            self.create_table(t);
            for index in &t.indexes {
                self.create_index(&t.name, index);
            }
        }

        for (old, new) in kept_tables(from, to) {
            self.columns(old, new);
        }
    }

    fn create_table(&mut self, t: &TableSnapshot) {
        for c in &t.columns {
            self.check_new_labels(c);
        }
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
        self.sql(
            Phase::CreateTable,
            format!(
                "CREATE TABLE {} (\n{}\n);",
                ident(&t.name),
                lines.join(",\n")
            ),
        );
    }

    /// Primary key and unique constraints of a kept table.
    fn keys(
        &mut self,
        old: &TableSnapshot,
        new: &TableSnapshot,
        dropped_keys: &mut BTreeSet<(String, Vec<String>)>,
    ) {
        let table = ident(&new.name);
        match (&old.primary_key, &new.primary_key) {
            (Some(a), Some(b)) if a.columns == b.columns => {}
            (a, b) => {
                if let Some(a) = a {
                    dropped_keys.insert((old.name.clone(), a.columns.clone()));
                    self.sql(
                        Phase::DropConstraint,
                        format!("ALTER TABLE {table} DROP CONSTRAINT {};", ident(&a.name)),
                    );
                }
                if let Some(b) = b {
                    self.sql(
                        Phase::AddConstraint,
                        format!(
                            "ALTER TABLE {table} ADD {};",
                            primary_key_clause(&new.name, b)
                        ),
                    );
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
                self.sql(
                    Phase::Rename,
                    format!(
                        "ALTER TABLE {table} RENAME CONSTRAINT {} TO {};",
                        ident(&g.name),
                        ident(&c.name)
                    ),
                );
            }
        }
        for (gi, g) in gone.iter().enumerate() {
            if renamed.iter().any(|(r, _)| *r == gi) {
                continue;
            }
            dropped_keys.insert((old.name.clone(), g.columns.clone()));
            self.sql(
                Phase::DropConstraint,
                format!("ALTER TABLE {table} DROP CONSTRAINT {};", ident(&g.name)),
            );
        }
        for (ci, c) in came.iter().enumerate() {
            if renamed.iter().any(|(_, r)| *r == ci) {
                continue;
            }
            self.sql(
                Phase::AddConstraint,
                format!(
                    "ALTER TABLE {table} ADD CONSTRAINT {} UNIQUE ({});",
                    ident(&c.name),
                    idents(&c.columns)
                ),
            );
        }
    }

    fn foreign_keys(
        &mut self,
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
                self.sql(
                    Phase::Rename,
                    format!(
                        "ALTER TABLE {} RENAME CONSTRAINT {} TO {};",
                        ident(&new.name),
                        ident(&g.name),
                        ident(&c.name)
                    ),
                );
            }
        }
        for (gi, g) in gone.iter().enumerate() {
            if !renamed.iter().any(|(r, _)| *r == gi) {
                self.drop_foreign_key(&old.name, g);
            }
        }
        for (ci, c) in came.iter().enumerate() {
            if !renamed.iter().any(|(_, r)| *r == ci) {
                self.add_foreign_key(&new.name, c);
            }
        }
    }

    fn drop_foreign_key(&mut self, table: &str, fk: &ForeignKeySnapshot) {
        self.sql(
            Phase::DropForeignKey,
            format!(
                "ALTER TABLE {} DROP CONSTRAINT {};",
                ident(table),
                ident(&fk.name)
            ),
        );
    }

    fn add_foreign_key(&mut self, table: &str, fk: &ForeignKeySnapshot) {
        let target = match &fk.target_schema {
            None => ident(&fk.target_table),
            Some(schema) => format!("{}.{}", ident(schema), ident(&fk.target_table)),
        };
        let mut sql = format!(
            "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {target} ({})",
            ident(table),
            ident(&fk.name),
            idents(&fk.columns),
            idents(&fk.target_columns)
        );
        if fk.on_delete != ReferentialAction::NoAction {
            sql.push_str(&format!(" ON DELETE {}", fk.on_delete));
        }
        if fk.on_update != ReferentialAction::NoAction {
            sql.push_str(&format!(" ON UPDATE {}", fk.on_update));
        }
        sql.push(';');
        self.sql(Phase::AddForeignKey, sql);
    }

    fn indexes(&mut self, old: &TableSnapshot, new: &TableSnapshot) {
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
                self.sql(
                    Phase::Rename,
                    format!(
                        "ALTER INDEX {} RENAME TO {};",
                        ident(&g.name),
                        ident(&c.name)
                    ),
                );
            }
        }
        for (gi, g) in gone.iter().enumerate() {
            if !renamed.iter().any(|(r, _)| *r == gi) {
                self.sql(Phase::DropIndex, format!("DROP INDEX {};", ident(&g.name)));
            }
        }
        for (ci, c) in came.iter().enumerate() {
            if !renamed.iter().any(|(_, r)| *r == ci) {
                self.create_index(&new.name, c);
            }
        }
    }

    fn create_index(&mut self, table: &str, index: &IndexSnapshot) {
        let using = if index.method == "btree" {
            String::new()
        } else {
            format!(" USING {}", index.method)
        };
        self.sql(
            Phase::CreateIndex,
            format!(
                "CREATE INDEX {} ON {}{using} ({});",
                ident(&index.name),
                ident(table),
                idents(&index.columns)
            ),
        );
    }

    fn columns(&mut self, old: &TableSnapshot, new: &TableSnapshot) {
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
                    .filter(|a| same_type(&a.ty, &c.ty, &self.local_enums))
                    .map(|a| a.name.as_str())
                    .collect();
                let candidates = if same_type.is_empty() {
                    added.iter().map(|a| a.name.as_str()).collect()
                } else {
                    same_type
                };
                let (added, new_name) = rename_candidates(&candidates);
                self.warn(
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
            self.sql(
                Phase::AlterColumns,
                format!("ALTER TABLE {table} DROP COLUMN {};", ident(&c.name)),
            );
        }
        for c in &added {
            let fills_itself = c.nullable || c.default.is_some() || c.identity.is_some();
            if !fills_itself {
                self.warn(
                    Phase::AlterColumns,
                    format!(
                        "column `{}.{}` is added NOT NULL without a default: this fails if \
                         `{}` has rows; give it a default, or add it nullable, fill it and \
                         then make it NOT NULL",
                        new.name, c.name, new.name
                    ),
                );
            }
            self.check_new_labels(c);
            self.sql(
                Phase::AlterColumns,
                format!("ALTER TABLE {table} ADD COLUMN {};", column_definition(c)),
            );
        }
        for c in &new.columns {
            if let Some(o) = old.column(&c.name) {
                self.alter_column(&new.name, o, c);
            }
        }
    }

    fn alter_column(&mut self, table_name: &str, old: &ColumnSnapshot, new: &ColumnSnapshot) {
        let alter = format!(
            "ALTER TABLE {} ALTER COLUMN {}",
            ident(table_name),
            ident(&new.name)
        );
        let type_changed = !same_type(&old.ty, &new.ty, &self.local_enums);
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
            self.sql(Phase::AlterColumns, format!("{alter} DROP IDENTITY;"));
        }
        if drop_first {
            self.sql(Phase::AlterColumns, format!("{alter} DROP DEFAULT;"));
            if old_serial && !new_serial {
                if let Some(sequence) = old.default.as_deref().and_then(sequence_of) {
                    self.sql(
                        Phase::AlterColumns,
                        format!("DROP SEQUENCE IF EXISTS {sequence};"),
                    );
                }
            }
        }
        if type_changed {
            self.sql(
                Phase::AlterColumns,
                format!(
                    "{alter} TYPE {} USING {}::{};",
                    new.ty,
                    ident(&new.name),
                    new.ty
                ),
            );
            // serial → bigserial: the sequence's own range must follow.
            let integer = matches!(new.ty.as_str(), "smallint" | "integer" | "bigint");
            if old_serial && new_serial && integer {
                if let Some(sequence) = old.default.as_deref().and_then(sequence_of) {
                    self.sql(
                        Phase::AlterColumns,
                        format!("ALTER SEQUENCE {sequence} AS {};", new.ty),
                    );
                }
            }
        }
        if set_after {
            if let Some(default) = &new.default {
                if new_serial && !old_serial {
                    let sequence = sequence_of(default).unwrap_or_else(|| {
                        ident(&pg_object_name(table_name, Some(&new.name), "seq"))
                    });
                    self.sql(
                        Phase::AlterColumns,
                        format!(
                            "CREATE SEQUENCE {sequence} AS {} OWNED BY {}.{};",
                            new.ty,
                            ident(table_name),
                            ident(&new.name)
                        ),
                    );
                    self.sql(
                        Phase::AlterColumns,
                        format!(
                            "SELECT setval('{}', COALESCE(max({}), 0) + 1, false) FROM {};",
                            sequence.replace('\'', "''"),
                            ident(&new.name),
                            ident(table_name)
                        ),
                    );
                    self.sql(
                        Phase::AlterColumns,
                        format!("{alter} SET DEFAULT {};", nextval_default(&sequence)),
                    );
                } else {
                    if !default_same {
                        self.explain_default(table_name, old, new);
                    }
                    self.check_new_labels(new);
                    self.sql(
                        Phase::AlterColumns,
                        format!("{alter} SET DEFAULT {default};"),
                    );
                }
            }
        }
        if old.nullable != new.nullable {
            if new.nullable {
                self.sql(Phase::AlterColumns, format!("{alter} DROP NOT NULL;"));
            } else {
                self.warn(
                    Phase::AlterColumns,
                    format!(
                        "column `{table_name}.{}` becomes NOT NULL: this fails if a row holds \
                         NULL there; fill those rows first (UPDATE ... WHERE {} IS NULL) in \
                         this migration",
                        new.name,
                        ident(&new.name)
                    ),
                );
                self.sql(Phase::AlterColumns, format!("{alter} SET NOT NULL;"));
            }
        }
        if let Some(identity) = new.identity {
            if old.identity != Some(identity) {
                let kind = match identity {
                    Identity::Always => "ALWAYS",
                    Identity::ByDefault => "BY DEFAULT",
                };
                let sql = if old.identity.is_some() {
                    format!("{alter} SET GENERATED {kind};")
                } else {
                    format!("{alter} ADD GENERATED {kind} AS IDENTITY;")
                };
                self.sql(Phase::AlterColumns, sql);
            }
        }
    }

    /// An expression default that differs only in spelling would be planned again on
    /// every run: say what PostgreSQL calls it.
    fn explain_default(&mut self, table: &str, old: &ColumnSnapshot, new: &ColumnSnapshot) {
        let (Some(old_default), Some(new_default)) = (&old.default, &new.default) else {
            return;
        };
        if self.direction != Direction::Up {
            return;
        }
        let expressions = matches!(normalize_default(&old.ty, old_default), Norm::Expr(_))
            && matches!(normalize_default(&new.ty, new_default), Norm::Expr(_));
        if expressions {
            self.warn(
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

    /// A default that uses an enum value added by this same migration needs the value
    /// committed first.
    fn check_new_labels(&mut self, c: &ColumnSnapshot) {
        if self.direction != Direction::Up {
            return;
        }
        let Some(default) = &c.default else { return };
        let base = c.ty.trim_end_matches("[]");
        let Some(added) = self.added_labels.get(base) else {
            return;
        };
        let Norm::Value(value) = normalize_default(&c.ty, default) else {
            return;
        };
        let uses = if c.ty.ends_with("[]") {
            array_elements(&value)
                .unwrap_or_default()
                .iter()
                .flatten()
                .any(|v| added.contains(v))
        } else {
            added.contains(&value)
        };
        if uses {
            self.no_transaction = true;
        }
    }
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

/// `id bigserial NOT NULL`, `status order_status NOT NULL DEFAULT 'pending'::order_status`.
fn column_definition(c: &ColumnSnapshot) -> String {
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

fn render(steps: &[Step]) -> String {
    let mut ordered: Vec<&Step> = steps.iter().collect();
    ordered.sort_by_key(|s| s.phase);
    let mut out = String::new();
    let mut last: Option<Phase> = None;
    for step in ordered {
        if last.is_some_and(|p| p != step.phase) {
            out.push('\n');
        }
        last = Some(step.phase);
        out.push_str(&step.text);
        out.push('\n');
    }
    out
}

fn ident(name: &str) -> String {
    quote_sql_ident(name).into_owned()
}

fn idents(names: &[String]) -> String {
    names
        .iter()
        .map(|n| ident(n))
        .collect::<Vec<_>>()
        .join(", ")
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// For a rename warning: what was added ("`b` is", "`b` or `c` is") and the
/// name to rename to (`b` itself when there is only one candidate).
fn rename_candidates(names: &[&str]) -> (String, String) {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [one] => (format!("{one} is"), ident(names[0])),
        [init @ .., last] => (
            format!("{} or {last} is", init.join(", ")),
            "<new name>".to_owned(),
        ),
        [] => (String::new(), "<new name>".to_owned()),
    }
}
