//! What the planners write to: the steps found so far, the warnings for `up`, and what
//! decides whether `up` can run in a transaction.

use std::collections::{BTreeMap, BTreeSet};

use crate::diff::change::{Change, Phase, Step};
use crate::diff::normalize::{array_elements, normalize_default, Norm};
use crate::diff::snapshot::{ColumnSnapshot, SchemaSnapshot};

/// `up` reports warnings and the need to run outside a transaction; `down` only undoes
/// what `up` did, so it says less.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Direction {
    Up,
    Down,
}

pub(super) struct Recorder {
    pub direction: Direction,
    /// In the order they were found; sorted by phase at the end.
    pub steps: Vec<Step>,
    pub warnings: Vec<String>,
    pub no_transaction: bool,
    /// Enum values this run adds, by enum name.
    pub added_labels: BTreeMap<String, BTreeSet<String>>,
    /// Enums of the schema itself (both sides): their names are never `public.`-equal.
    pub local_enums: BTreeSet<String>,
}

impl Recorder {
    pub fn new(direction: Direction, from: &SchemaSnapshot, to: &SchemaSnapshot) -> Self {
        Recorder {
            direction,
            steps: Vec::new(),
            warnings: Vec::new(),
            no_transaction: false,
            added_labels: BTreeMap::new(),
            local_enums: from
                .enums
                .iter()
                .chain(&to.enums)
                .map(|e| e.name.clone())
                .collect(),
        }
    }

    pub fn push(&mut self, change: Change) {
        self.steps.push(Step::Run(change));
    }

    pub fn note(&mut self, phase: Phase, text: String) {
        self.steps.push(Step::Note { phase, text });
    }

    /// A warning in `up` (file and list); nothing in `down`, whose statements only
    /// mirror what `up` did.
    pub fn warn(&mut self, phase: Phase, text: String) {
        if self.direction == Direction::Up {
            self.steps.push(Step::Warning {
                phase,
                text: text.clone(),
            });
            self.warnings.push(text);
        }
    }

    /// A default that uses an enum value added by this same migration needs the value
    /// committed first.
    pub fn check_new_labels(&mut self, c: &ColumnSnapshot) {
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
