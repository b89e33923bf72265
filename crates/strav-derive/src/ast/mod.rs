//! Each macro's input, read into types that the checks and the expansions
//! can use without going back to syn.
//!
//! Reading reports every attribute error to the `Ctxt` and keeps going. An
//! input of the wrong shape (a derive on the wrong kind of item) is one
//! error and no value: nothing else about it would mean anything.

mod enums;
mod migrations;
mod model;

pub use self::enums::Enum;
pub use self::migrations::MigrationDir;
pub use self::model::{Field, Model};
