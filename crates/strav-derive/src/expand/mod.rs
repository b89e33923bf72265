//! Each macro's output, as a function of its checked input alone: no
//! parsing and no errors here, so what a macro writes can be read and
//! snapshotted apart from how its input was read.

mod embed;
mod enums;
mod model;
mod paths;

pub use self::embed::expand_embed;
pub use self::enums::expand_enum;
pub use self::model::expand_model;
