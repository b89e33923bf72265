//! A column, table or enum dropped while another is added may be a rename, which a
//! migration cannot tell: the planner drops and adds, and warns with the statement that
//! would rename instead.

use crate::diff::quote::ident;

/// For a rename warning: what was added ("`b` is", "`b` or `c` is") and the
/// name to rename to (`b` itself when there is only one candidate).
pub(super) fn rename_candidates(names: &[&str]) -> (String, String) {
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
