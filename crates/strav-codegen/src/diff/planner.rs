//! Decides the changes between two snapshots: which statements, in which order, and what
//! to warn about. One module per kind of object; they all write to one [`Recorder`].

mod citus;
mod columns;
mod constraints;
mod enums;
mod recorder;
mod renames;
mod tables;

use super::change::Step;
use super::snapshot::SchemaSnapshot;
pub(super) use citus::CitusSchema;
use recorder::{Direction, Recorder};

/// The changes from one snapshot to another.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Changes {
    /// In the order they run: phase by phase, and in each phase as they were found.
    pub steps: Vec<Step>,
    /// The text of every [`Step::Warning`], in the order they were found.
    pub warnings: Vec<String>,
    /// A default uses an enum value added by the same changes, which PostgreSQL allows
    /// only once the value is committed.
    pub no_transaction: bool,
}

impl Changes {
    pub fn statement_count(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s, Step::Run(_)))
            .count()
    }
}

/// What it takes to bring a schema holding `from` to `to`, with warnings.
pub(super) fn up(from: &SchemaSnapshot, to: &SchemaSnapshot, citus: &CitusSchema) -> Changes {
    between(Direction::Up, from, to, citus)
}

/// What undoes [`up`]: `from` is the state `up` left ([`after_up`]), `to` the state
/// before it. Only notes, no warnings: whoever reads them read those of `up`.
pub(super) fn down(from: &SchemaSnapshot, to: &SchemaSnapshot, citus: &CitusSchema) -> Changes {
    between(Direction::Down, from, to, citus)
}

fn between(
    direction: Direction,
    from: &SchemaSnapshot,
    to: &SchemaSnapshot,
    citus: &CitusSchema,
) -> Changes {
    let mut rec = Recorder::new(direction, from, to);
    enums::plan(&mut rec, from, to);
    tables::plan(&mut rec, from, to, citus);
    citus::warn_refused(&mut rec, from, citus);
    rec.steps.sort_by_key(Step::phase);
    Changes {
        steps: rec.steps,
        warnings: rec.warnings,
        no_transaction: rec.no_transaction,
    }
}

/// The schema as `up` leaves it: the definitions, except that enum values PostgreSQL
/// cannot drop are still there.
pub(super) fn after_up(current: &SchemaSnapshot, desired: &SchemaSnapshot) -> SchemaSnapshot {
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
