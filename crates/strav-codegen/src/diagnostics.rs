//! Errors that point at a file, a line and a column, and say what would be right.
//!
//! Every problem found in a run is collected into [`Diagnostics`] before anything is
//! reported, so a user fixes all of them in one go instead of one per build.
//!
//! Drawing the source line, its underline and the `help:`/`note:` lines is left to
//! `annotate-snippets`, the renderer rustc's and cargo's messages come from, so these read
//! like the compiler errors around them in a build log and get its handling of tabs, wide
//! characters and long lines.

use std::fmt;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// One input file and its text, with the line table needed to turn byte offsets into
/// `line:column` positions.
#[derive(Clone, Debug)]
pub struct SourceFile {
    path: PathBuf,
    text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// `path` is what diagnostics print; it is never opened.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            path: path.into(),
            text,
            line_starts,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let column = self.text[start..floor_char_boundary(&self.text, offset)]
            .chars()
            .count();
        (line + 1, column + 1)
    }

    fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts[line - 1];
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// A single problem in a definition or configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as it was named to the generator (relative paths stay relative).
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    /// 1-based, counted in characters.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// What would be right.
    pub help: Option<String>,
    /// Other places involved, such as the first declaration of a duplicate.
    pub notes: Vec<String>,
    excerpt: Option<Excerpt>,
}

/// The line a diagnostic points at, kept instead of the whole file so that a diagnostic
/// stays cheap to clone, compare and sort.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Excerpt {
    /// Without its line break.
    text: String,
    /// Bytes of `text` to underline, on character boundaries. Empty when the place is the
    /// end of the line (a missing `]`, say): the renderer then marks the spot after it.
    underline: Range<usize>,
}

impl Diagnostic {
    /// A diagnostic at `span` (byte offsets) of `file`.
    pub fn at(file: &SourceFile, span: Range<usize>, message: impl Into<String>) -> Self {
        let (line, column) = file.line_col(span.start);
        let text = file.line_text(line).to_string();
        let (end_line, end_column) = file.line_col(span.end.max(span.start));
        // A span that runs past its first line is underlined to the end of that line.
        let width = if end_line == line && end_column > column {
            end_column - column
        } else {
            text.chars().count().saturating_sub(column - 1).max(1)
        };
        let underline = byte_of_char(&text, column - 1)..byte_of_char(&text, column - 1 + width);
        Diagnostic {
            file: file.path().to_path_buf(),
            line,
            column,
            message: message.into(),
            help: None,
            notes: Vec::new(),
            excerpt: Some(Excerpt { text, underline }),
        }
    }

    /// A diagnostic about a file as a whole; it points at its first line.
    pub fn file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: path.into(),
            line: 1,
            column: 1,
            message: message.into(),
            help: None,
            notes: Vec::new(),
            excerpt: None,
        }
    }

    /// At `span` when the problem has a place in `file`, else about the file as a whole.
    pub(crate) fn at_or_file(
        file: &SourceFile,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> Self {
        match span {
            Some(span) => Diagnostic::at(file, span, message),
            None => Diagnostic::file(file.path(), message),
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// `file:line:column`, the form editors and terminals turn into links.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The location leads the first line (`file:line:column: error: ...`), the form
        // editors and terminals turn into links and that tools grep for; the renderer would
        // otherwise put it on a `-->` line of its own.
        let level = Level::ERROR.with_name(format!("{}: error", self.location()));
        let mut report = Group::with_title(level.primary_title(self.message.as_str()));
        if let Some(excerpt) = &self.excerpt {
            report = report.element(
                Snippet::source(excerpt.text.as_str())
                    .line_start(self.line)
                    .annotation(AnnotationKind::Primary.span(excerpt.underline.clone())),
            );
        }
        if let Some(help) = &self.help {
            report = report.element(Level::HELP.message(help.as_str()));
        }
        for note in &self.notes {
            report = report.element(Level::NOTE.message(note.as_str()));
        }
        writeln!(f, "{}", RENDERER.render(&[report]))
    }
}

/// Plain text: diagnostics end up in error values, build-script output and files, where
/// colour codes would be noise. Source lines are shown whole, as long as they are, rather
/// than cut to a terminal width the build cannot know.
const RENDERER: Renderer = Renderer::plain().term_width(1 << 20);

/// The byte offset of the `n`th character of `text`, or its length when it has fewer.
fn byte_of_char(text: &str, n: usize) -> usize {
    text.char_indices().nth(n).map_or(text.len(), |(i, _)| i)
}

/// Every problem found in one run, sorted by file and position.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics {
    list: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.list.push(diagnostic);
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.list.iter()
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.list
    }

    /// `Ok(value)` when nothing was reported, else every diagnostic, sorted.
    pub(crate) fn finish<T>(mut self, value: T) -> Result<T, Error> {
        if self.list.is_empty() {
            return Ok(value);
        }
        self.list.sort_by(|a, b| {
            (&a.file, a.line, a.column, &a.message).cmp(&(&b.file, b.line, b.column, &b.message))
        });
        self.list.dedup();
        Err(Error::Invalid(self))
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for diagnostic in &self.list {
            writeln!(f, "{diagnostic}")?;
        }
        let n = self.list.len();
        write!(
            f,
            "error: {n} problem{} in the schema definitions; no code was generated",
            if n == 1 { "" } else { "s" }
        )
    }
}

/// Why a run produced no code.
#[derive(thiserror::Error)]
pub enum Error {
    /// The definitions or the naming configuration are wrong; every problem is listed.
    #[error("{0}")]
    Invalid(Diagnostics),
    /// A file or directory that the run needs could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Generated code could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Neither `Builder::out_dir` nor the `OUT_DIR` of a build script says where to write.
    #[error(
        "no output directory: call `Builder::out_dir(...)`, or run the builder from a build \
         script, where cargo sets OUT_DIR"
    )]
    NoOutDir,
}

impl Error {
    /// The diagnostics of an [`Error::Invalid`], or nothing.
    pub fn diagnostics(&self) -> Option<&Diagnostics> {
        match self {
            Error::Invalid(d) => Some(d),
            _ => None,
        }
    }
}

// `fn main() -> Result<(), Box<dyn Error>>` in a build script prints the error with `{:?}`:
// show the readable diagnostics there too, not a struct dump.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The closest candidate to `word`, when it is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (levenshtein(&word, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance counting a swap of two neighbours as one edit (`tabel` → `table`).
fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_from_one() {
        let file = SourceFile::new("a.toml", "ab\nçd = 1\n\nx");
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(1), (1, 2));
        assert_eq!(file.line_col(3), (2, 1));
        // `ç` is two bytes but one column.
        assert_eq!(file.line_col(5), (2, 2));
        assert_eq!(file.line_col(11), (3, 1));
        assert_eq!(file.line_col(12), (4, 1));
        // Past the end clamps to the end.
        assert_eq!(file.line_col(99), (4, 2));
    }

    #[test]
    fn renders_location_snippet_and_help() {
        let file = SourceFile::new("s/t.toml", "[columns]\nid = { type = \"strng\" }\n");
        let d = Diagnostic::at(&file, 23..30, "unknown type `strng`").with_help("use `text`");
        assert_eq!(d.location(), "s/t.toml:2:14");
        assert_eq!(
            d.to_string(),
            "s/t.toml:2:14: error: unknown type `strng`\n  |\n2 | id = { type = \"strng\" }\n  |              ^^^^^^^\n  |\n  = help: use `text`\n"
        );
    }

    #[test]
    fn underlines_whole_characters_and_the_end_of_a_line() {
        // `é` is two bytes: the underline must not split it.
        let file = SourceFile::new("a.toml", "[columns]\nnom = \"é!\"\n[t\n");
        let d = Diagnostic::at(&file, 17..19, "x");
        assert_eq!((d.line, d.column), (2, 8));
        assert!(
            d.to_string().contains("2 | nom = \"é!\"\n  |        ^\n"),
            "{d}"
        );
        // A missing `]`: the place after the text.
        let d = Diagnostic::at(&file, 24..24, "unclosed");
        assert_eq!(d.location(), "a.toml:3:3");
        assert!(d.to_string().contains("3 | [t\n  |   ^\n"), "{d}");
    }

    #[test]
    fn a_whole_file_diagnostic_has_no_source_line() {
        let d = Diagnostic::file("t/x.toml", "no columns").with_help("add some");
        assert_eq!(
            d.to_string(),
            "t/x.toml:1:1: error: no columns\n |\n = help: add some\n"
        );
    }

    #[test]
    fn suggestions_only_for_near_misses() {
        assert_eq!(
            did_you_mean("nulable", ["type", "nullable"]),
            Some("nullable")
        );
        assert_eq!(did_you_mean("tabel", ["table", "model"]), Some("table"));
        assert_eq!(did_you_mean("colour", ["type", "nullable"]), None);
    }
}
