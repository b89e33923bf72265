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
//! With `[citus] enabled` ([`Catalog::citus`]), a table that [`crate::citus::Layout`]
//! makes a reference table gets `SELECT create_reference_table('<table>');` in the
//! migration that creates it, after the tables and before indexes and foreign keys,
//! with a comment saying why; the name is unqualified like every other, so it resolves
//! to the schema being migrated. A change Citus refuses on a table it manages (identity
//! or serial added, identity changed, type change of a sequence-fed column, a sequence
//! `OWNED BY` it) gets a warning. A table that already exists is never made a reference
//! table by a plan: a snapshot does not say what Citus made of it.
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

// Three steps with a module each, so that each can be read and changed on its own: the
// state of each side (`snapshot`), what differs and in which order it must change
// (`planner`, which compares through `normalize` and speaks in `change`s), and how that
// is written (`sql`).
mod change;
mod normalize;
mod planner;
mod quote;
mod snapshot;
mod sql;
#[cfg(test)]
mod tests;

use crate::catalog::{Catalog, Domain};
pub use snapshot::{
    pg_object_name, referential_action_from_pg, ColumnSnapshot, EnumSnapshot, ForeignKeySnapshot,
    IndexSnapshot, PrimaryKeySnapshot, SchemaSnapshot, TableSnapshot, UniqueSnapshot,
};

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
/// references. `current` is the domain's own state: a snapshot read from a database
/// leaves out the runner's tracking table (`strav-migrate` does), or the plan drops it.
pub fn plan(domain: &Domain, catalog: &Catalog, current: &SchemaSnapshot) -> MigrationPlan {
    let desired = SchemaSnapshot::of_domain(catalog, domain);
    let current = current.clone();
    let citus = planner::CitusSchema::of(catalog, domain);
    let up = planner::up(&current, &desired, &citus);
    let after = planner::after_up(&current, &desired);
    let down = planner::down(&after, &current, &citus);
    let mut warnings = up.warnings.clone();
    if up.no_transaction {
        warnings.push(
            "this migration adds enum values and uses them, which PostgreSQL allows only \
             after the values are committed: it runs outside a transaction \
             (-- strav:no-transaction), so a failure can leave it half-applied"
                .to_owned(),
        );
    }
    MigrationPlan {
        up: sql::render(&up.steps),
        down: sql::render(&down.steps),
        warnings,
        no_transaction: up.no_transaction,
        statements: up.statement_count(),
    }
}

/// The SQL that creates every enum, table, constraint and index of `domain` in an empty
/// schema, or `None` when the catalog has no such domain. It is [`plan`] from an empty
/// snapshot, so tests, examples and benchmarks run exactly what `generate:migration`
/// writes for a new domain.
pub fn create_domain_sql(catalog: &Catalog, domain: &str) -> Option<String> {
    let domain = catalog.domain(domain)?;
    Some(plan(domain, catalog, &SchemaSnapshot::default()).up)
}
