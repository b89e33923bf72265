//! The vocabulary of a migration: each statement it can hold ([`Change`]), comments
//! about them ([`Step`]), and the phases that order them. The planner decides which
//! changes a migration needs; the renderer spells them as SQL; neither needs to know how
//! the other works.

use super::snapshot::{
    ColumnSnapshot, EnumSnapshot, ForeignKeySnapshot, IndexSnapshot, PrimaryKeySnapshot,
    TableSnapshot, UniqueSnapshot,
};
use crate::catalog::Identity;

/// Where a change goes; changes run phase by phase, in this order, so that whatever a
/// statement needs exists before it and whatever it frees is gone after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Phase {
    CreateEnum,
    AddEnumValue,
    DropForeignKey,
    DropIndex,
    DropConstraint,
    DropTable,
    // Before CreateTable: a new table's index may take a name a rename frees.
    Rename,
    CreateTable,
    // After the tables exist and before any foreign key: Citus makes a table with
    // foreign keys to plain tables a reference table only if their actions allow it.
    CreateReferenceTable,
    AlterColumns,
    AddConstraint,
    CreateIndex,
    AddForeignKey,
    DropEnum,
}

/// One statement of a migration. Names are plain (the renderer quotes them); sequences,
/// types and defaults are SQL text, as snapshots hold them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Change {
    CreateEnum(EnumSnapshot),
    AddEnumValue {
        name: String,
        label: String,
        position: LabelPosition,
    },
    DropEnum {
        name: String,
    },
    /// With its columns, primary key and unique constraints; indexes and foreign keys
    /// are changes of their own.
    CreateTable(TableSnapshot),
    DropTable {
        name: String,
    },
    /// Citus: `SELECT create_reference_table(...)` on a table just created.
    CreateReferenceTable {
        table: String,
    },
    AddColumn {
        table: String,
        column: ColumnSnapshot,
    },
    DropColumn {
        table: String,
        column: String,
    },
    AlterColumn {
        table: String,
        column: String,
        change: ColumnChange,
    },
    CreateSequence {
        sequence: String,
        ty: String,
        table: String,
        column: String,
    },
    /// Moves a new sequence past the values a column already holds.
    ContinueSequenceAfterMax {
        sequence: String,
        table: String,
        column: String,
    },
    SetSequenceType {
        sequence: String,
        ty: String,
    },
    DropSequence {
        sequence: String,
    },
    AddPrimaryKey {
        table: String,
        key: PrimaryKeySnapshot,
    },
    AddUnique {
        table: String,
        unique: UniqueSnapshot,
    },
    /// A primary key or unique constraint.
    DropConstraint {
        table: String,
        name: String,
    },
    /// A unique constraint or foreign key whose definition stays.
    RenameConstraint {
        table: String,
        from: String,
        to: String,
    },
    AddForeignKey {
        table: String,
        key: ForeignKeySnapshot,
    },
    DropForeignKey {
        table: String,
        name: String,
    },
    CreateIndex {
        table: String,
        index: IndexSnapshot,
    },
    RenameIndex {
        from: String,
        to: String,
    },
    DropIndex {
        name: String,
    },
}

/// One `ALTER TABLE ... ALTER COLUMN`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum ColumnChange {
    DropIdentity,
    DropDefault,
    /// To this type, converting the values in place.
    SetType(String),
    SetDefault(String),
    DropNotNull,
    SetNotNull,
    AddIdentity(Identity),
    SetIdentity(Identity),
}

/// Where a new enum value goes among the existing ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum LabelPosition {
    Before(String),
    After(String),
    /// The enum has no values yet.
    Last,
}

impl Change {
    fn phase(&self) -> Phase {
        match self {
            Change::CreateEnum(_) => Phase::CreateEnum,
            Change::AddEnumValue { .. } => Phase::AddEnumValue,
            Change::DropEnum { .. } => Phase::DropEnum,
            Change::CreateTable(_) => Phase::CreateTable,
            Change::DropTable { .. } => Phase::DropTable,
            Change::CreateReferenceTable { .. } => Phase::CreateReferenceTable,
            Change::AddColumn { .. }
            | Change::DropColumn { .. }
            | Change::AlterColumn { .. }
            | Change::CreateSequence { .. }
            | Change::ContinueSequenceAfterMax { .. }
            | Change::SetSequenceType { .. }
            | Change::DropSequence { .. } => Phase::AlterColumns,
            Change::AddPrimaryKey { .. } | Change::AddUnique { .. } => Phase::AddConstraint,
            Change::DropConstraint { .. } => Phase::DropConstraint,
            Change::RenameConstraint { .. } | Change::RenameIndex { .. } => Phase::Rename,
            Change::AddForeignKey { .. } => Phase::AddForeignKey,
            Change::DropForeignKey { .. } => Phase::DropForeignKey,
            Change::CreateIndex { .. } => Phase::CreateIndex,
            Change::DropIndex { .. } => Phase::DropIndex,
        }
    }
}

/// A change, or a comment about the changes next to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Step {
    Run(Change),
    /// Why the statements that follow are there, or what they cost. Placed in the phase
    /// of the statement it is about.
    Note {
        phase: Phase,
        text: String,
    },
    /// A note that someone must read before running the migration.
    Warning {
        phase: Phase,
        text: String,
    },
}

impl Step {
    pub fn phase(&self) -> Phase {
        match self {
            Step::Run(change) => change.phase(),
            Step::Note { phase, .. } | Step::Warning { phase, .. } => *phase,
        }
    }
}
