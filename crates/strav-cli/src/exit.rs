//! Errors as the user sees them: one sentence on stderr and an exit code.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success (also when stdout is closed early, e.g. `strav schema:list \| head -1`) |
//! | 1 | the database or the connection failed; files could not be read or written; `generate:models --check` found out-of-date files |
//! | 2 | bad input: usage, names, configuration, definitions, a schema that exists / is not registered / is protected, missing `--force`; an export file that is damaged, truncated or not one; an import whose migrations differ from the target's |

use std::io::{self, Write};
use std::process::ExitCode;

/// Bad input: the user can fix it by changing the command or the config.
pub const USAGE: u8 = 2;
/// The environment failed: the database, the network, stdout.
pub const FAILURE: u8 = 1;

/// Why a command did not succeed.
#[derive(Debug)]
pub enum CliError {
    /// Print `error: {message}` and exit with `code`.
    Message { code: u8, message: String },
    /// Print `text` as it is and exit with `code`: a report that already says
    /// `error:` where it should, such as definition diagnostics.
    Report { code: u8, text: String },
    /// The reader of stdout went away; nothing more to say.
    BrokenPipe,
}

impl CliError {
    /// An error the user caused (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError::Message {
            code: USAGE,
            message: message.into(),
        }
    }

    /// A failure of the environment (exit 1).
    pub fn failure(message: impl Into<String>) -> Self {
        CliError::Message {
            code: FAILURE,
            message: message.into(),
        }
    }

    /// An error from `Database::connect_with`: configuration problems stay
    /// user errors; anything else is said to be the connection to `target`.
    pub fn connect(err: strav_orm::Error, target: &str) -> Self {
        if err.is_user_error() {
            return err.into();
        }
        let why = match &err {
            // The variant's own Display adds "database error: ", which says
            // less than "cannot connect".
            strav_orm::Error::Database { source, .. } => source.to_string(),
            other => other.to_string(),
        };
        CliError::failure(format!("cannot connect to the database at {target}: {why}"))
    }
}

impl From<strav_orm::Error> for CliError {
    fn from(err: strav_orm::Error) -> Self {
        let code = if err.is_user_error() { USAGE } else { FAILURE };
        CliError::Message {
            code,
            message: err.to_string(),
        }
    }
}

impl From<strav_migrate::Error> for CliError {
    fn from(err: strav_migrate::Error) -> Self {
        match err {
            strav_migrate::Error::Orm(e) => e.into(),
            other if other.is_user_error() => CliError::usage(other.to_string()),
            other => CliError::failure(other.to_string()),
        }
    }
}

impl From<strav_codegen::Error> for CliError {
    fn from(err: strav_codegen::Error) -> Self {
        match err {
            // Each diagnostic starts with `file:line:col: error:`, and the list
            // ends with an `error: N problems` summary line.
            strav_codegen::Error::Invalid(diagnostics) => CliError::Report {
                code: USAGE,
                text: diagnostics.to_string(),
            },
            // A path the user named (--generators, --schemas) that is not there.
            strav_codegen::Error::Read { ref source, .. }
                if source.kind() == io::ErrorKind::NotFound =>
            {
                CliError::usage(err.to_string())
            }
            other => CliError::failure(other.to_string()),
        }
    }
}

impl From<io::Error> for CliError {
    fn from(err: io::Error) -> Self {
        if err.kind() == io::ErrorKind::BrokenPipe {
            CliError::BrokenPipe
        } else {
            CliError::failure(format!("cannot write to stdout: {err}"))
        }
    }
}

/// Reports `result` on stderr and turns it into the process exit code.
pub fn finish(result: Result<(), CliError>) -> ExitCode {
    match result {
        Ok(()) | Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(CliError::Message { code, message }) => {
            // Nothing sensible is left to do if stderr is gone too.
            // Some messages (a TOML syntax error) carry a multi-line source
            // snippet; trailing blank lines are noise after it.
            let _ = writeln!(io::stderr().lock(), "error: {}", message.trim_end());
            ExitCode::from(code)
        }
        Err(CliError::Report { code, text }) => {
            let _ = writeln!(io::stderr().lock(), "{}", text.trim_end());
            ExitCode::from(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(e: CliError) -> u8 {
        match e {
            CliError::Message { code, .. } | CliError::Report { code, .. } => code,
            CliError::BrokenPipe => 0,
        }
    }

    #[test]
    fn definition_errors_exit_2_and_io_failures_exit_1() {
        let invalid = strav_codegen::Project::new()
            .with_definition(
                "public",
                "users.toml",
                "[columns]\nid = { type = \"strng\", primary_key = true }\n",
            )
            .catalog()
            .unwrap_err();
        match CliError::from(invalid) {
            CliError::Report { code, text } => {
                assert_eq!(code, USAGE);
                assert!(
                    text.starts_with("public/users.toml:2:15: error: "),
                    "{text}"
                );
                assert!(text.ends_with("no code was generated"), "{text}");
            }
            other => panic!("{other:?}"),
        }
        let missing = strav_codegen::Error::Read {
            path: "config/gen.toml".into(),
            source: io::ErrorKind::NotFound.into(),
        };
        assert_eq!(code(missing.into()), USAGE);
        let denied = strav_codegen::Error::Write {
            path: "src/models/mod.rs".into(),
            source: io::ErrorKind::PermissionDenied.into(),
        };
        assert_eq!(code(denied.into()), FAILURE);
    }

    #[test]
    fn user_errors_exit_2_and_database_errors_exit_1() {
        assert_eq!(
            code(strav_orm::Error::SchemaAlreadyExists("a".into()).into()),
            USAGE
        );
        assert_eq!(
            code(strav_orm::Error::PoolTimeout(std::time::Duration::from_secs(1)).into()),
            FAILURE
        );
        let db = strav_orm::Error::from(strav_orm::sqlx::Error::PoolClosed);
        assert_eq!(code(db.into()), FAILURE);
        let damaged = strav_orm::Error::ExportFile {
            path: "a.strav".into(),
            problem: strav_orm::portable::FileProblem::ChecksumMismatch,
        };
        assert_eq!(code(damaged.into()), USAGE);
        let unreadable = strav_orm::Error::Io {
            path: "a.strav".into(),
            source: io::ErrorKind::PermissionDenied.into(),
        };
        assert_eq!(code(unreadable.into()), FAILURE);
    }

    #[test]
    fn connection_errors_name_the_target() {
        let err = strav_orm::Error::from(strav_orm::sqlx::Error::Io(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "refused",
        )));
        match CliError::connect(err, "127.0.0.1:1/x") {
            CliError::Message { code, message } => {
                assert_eq!(code, FAILURE);
                assert!(
                    message.starts_with("cannot connect to the database at 127.0.0.1:1/x: "),
                    "{message}"
                );
                assert!(message.contains("refused"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn broken_pipe_is_not_an_error() {
        let e: CliError = io::Error::from(io::ErrorKind::BrokenPipe).into();
        assert!(matches!(e, CliError::BrokenPipe));
    }
}
