//! The export file, byte by byte (format version 1):
//!
//! | bytes | what |
//! |---|---|
//! | 8 | the signature `STRAVTNT` |
//! | 4 | the format version, big-endian (`1`) |
//! | 8 | the header's length `H`, big-endian |
//! | `H` | the header: UTF-8 JSON, [`ExportHeader`] |
//! | ... | the sections, back to back, in the header's order and lengths |
//! | 32 | SHA-256 of every byte before it |
//!
//! Sections: `structure` (JSON: the plan's statements and the sequence
//! positions), `migrations` (JSON: the `strav_migrations` rows), then one
//! `data` section per table, holding what `COPY ... TO STDOUT` wrote in
//! text format. The header gives each section's length, so the file's size
//! is known from the header alone: a file that is shorter is reported as
//! truncated, and any other change of any byte (the checksum's included) as
//! damaged, before anything reaches a database.
//!
//! Writing streams: the data sections go to a scratch file while the
//! snapshot is read (their lengths are not known before), then the header,
//! the small sections and the scratch file are written to `<file>.partial`,
//! which is synced and renamed over `<file>` only when complete.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::fs::File;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufWriter};

use super::FileProblem;
use crate::error::{Error, Result};
use crate::schema_name::{check_domain, SchemaName};

/// The first bytes of every export file.
pub(crate) const MAGIC: &[u8; 8] = b"STRAVTNT";
/// The format this version of Strav writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Signature, version and header length.
const PRELUDE: u64 = 8 + 4 + 8;
/// The SHA-256 at the end.
const DIGEST: u64 = 32;
/// The most a header may take (a header of thousands of tables is a few
/// hundred KiB).
const MAX_HEADER: u64 = 64 << 20;
/// Read and write in pieces of this size.
const CHUNK: usize = 256 * 1024;
/// The placeholder for the target schema's name starts with this.
pub(crate) const PLACEHOLDER_PREFIX: &str = "strav_export_";

/// What an export file says about itself: the first thing in it, readable
/// with `head -c 2000 FILE` (after 20 bytes of signature, version and length).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ExportHeader {
    /// The file format ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// The version of Strav that wrote it.
    pub strav_version: String,
    /// When the snapshot was taken.
    pub created_at: DateTime<Utc>,
    /// The domain the schema belonged to; the import registers it there.
    pub domain: String,
    /// The schema exported.
    pub source_schema: String,
    /// The database it was in.
    pub source_database: String,
    /// The PostgreSQL version it came from (`server_version`).
    pub server_version: String,
    /// The newest `strav_migrations` version in the snapshot (`None`: none applied).
    pub migration_version: Option<i64>,
    /// The `strav_migrations` rows in the file.
    pub migrations: usize,
    /// The name standing for the target schema in the `structure`
    /// statements; the import puts the new schema's name in its place.
    pub placeholder: String,
    /// How the data sections are encoded: always `"text"` (PostgreSQL's
    /// COPY text format, UTF-8, with the settings in `copy_settings`).
    pub copy_format: String,
    /// The settings the rows were written under (`DateStyle`, ...); the
    /// import reads them under the same.
    pub copy_settings: Vec<(String, String)>,
    /// The sections after the header, in order.
    pub sections: Vec<Section>,
}

/// One section of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Section {
    /// What it holds.
    pub kind: SectionKind,
    /// Its length in bytes.
    pub length: u64,
    /// `data`: the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// `data`: the columns COPY wrote, quoted and comma-separated
    /// (generated columns are not written; `None`: the table has no others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<String>,
    /// `data`: the rows it holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
}

/// The kinds of sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SectionKind {
    /// The statements that recreate the schema, and the sequences' positions.
    Structure,
    /// The `strav_migrations` rows.
    Migrations,
    /// One table's rows in COPY text format.
    Data,
}

impl Section {
    pub(crate) fn json(kind: SectionKind, bytes: &[u8]) -> Section {
        Section {
            kind,
            length: bytes.len() as u64,
            table: None,
            columns: None,
            rows: None,
        }
    }

    pub(crate) fn data(table: String, columns: Option<String>, rows: u64, length: u64) -> Section {
        Section {
            kind: SectionKind::Data,
            length,
            table: Some(table),
            columns,
            rows: Some(rows),
        }
    }
}

/// The `structure` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Structure {
    /// Types, functions, sequences, tables and views, in creation order;
    /// they name the target schema by the header's placeholder.
    pub create: Vec<String>,
    /// What follows the rows (constraints, indexes, triggers, ...).
    pub after: Vec<String>,
    /// Where each sequence stood.
    pub sequences: Vec<SequencePosition>,
    pub tables: usize,
    pub views: usize,
    pub functions: usize,
    pub types: usize,
}

/// A sequence's position, for `setval(name, last_value, is_called)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SequencePosition {
    pub name: String,
    pub last_value: i64,
    pub is_called: bool,
}

/// A row of `strav_migrations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub(crate) struct MigrationRow {
    pub version: i64,
    pub name: String,
    pub checksum: String,
    pub batch: i64,
    pub applied_at: DateTime<Utc>,
    pub duration_ms: i64,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

fn problem(path: &Path, problem: FileProblem) -> Error {
    Error::ExportFile {
        path: path.to_owned(),
        problem,
    }
}

fn malformed(path: &Path, what: impl Into<String>) -> Error {
    problem(path, FileProblem::Malformed(what.into()))
}

/// `<file><suffix>`, next to it.
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Writes the file: prelude, header, the JSON sections, then the data
/// sections copied from `body`, then the checksum. Goes to
/// `<path>.partial`, synced, then renamed to `path`. Returns its size.
pub(crate) async fn write(
    path: &Path,
    header: &ExportHeader,
    sections: &[&[u8]],
    body: &Path,
) -> Result<u64> {
    let header_json = serde_json::to_vec(header).map_err(|e| malformed(path, e.to_string()))?;
    let partial = sibling(path, ".partial");
    let result = async {
        let file = File::create(&partial).await.map_err(io(&partial))?;
        let mut out = Hashing::new(BufWriter::with_capacity(CHUNK, file));
        out.write(MAGIC).await.map_err(io(&partial))?;
        out.write(&FORMAT_VERSION.to_be_bytes())
            .await
            .map_err(io(&partial))?;
        out.write(&(header_json.len() as u64).to_be_bytes())
            .await
            .map_err(io(&partial))?;
        out.write(&header_json).await.map_err(io(&partial))?;
        for s in sections {
            out.write(s).await.map_err(io(&partial))?;
        }
        let mut data = File::open(body).await.map_err(io(body))?;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = data.read(&mut buf).await.map_err(io(body))?;
            if n == 0 {
                break;
            }
            out.write(&buf[..n]).await.map_err(io(&partial))?;
        }
        let (mut w, digest, written) = out.finish();
        w.write_all(&digest).await.map_err(io(&partial))?;
        w.flush().await.map_err(io(&partial))?;
        w.get_ref().sync_all().await.map_err(io(&partial))?;
        Ok::<u64, Error>(written + DIGEST)
    }
    .await;
    let size = match result {
        Ok(size) => size,
        Err(e) => {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(e);
        }
    };
    if let Err(e) = tokio::fs::rename(&partial, path).await {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(io(path)(e));
    }
    // Make the rename itself durable: a move deletes the source next.
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = File::open(dir).await {
            let _ = d.sync_all().await;
        }
    }
    Ok(size)
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: AsyncWriteExt + Unpin> Hashing<W> {
    fn new(inner: W) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
            written: 0,
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.hasher.update(bytes);
        self.written += bytes.len() as u64;
        self.inner.write_all(bytes).await
    }

    fn finish(self) -> (W, [u8; 32], u64) {
        (self.inner, digest(self.hasher), self.written)
    }
}

fn digest(hasher: Sha256) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&hasher.finalize());
    out
}

/// A file that passed [`verify`]: its header, its small sections parsed,
/// and its checksum (for the second reading, see [`Replay`]).
pub(crate) struct Verified {
    pub header: ExportHeader,
    pub structure: Structure,
    pub migrations: Vec<MigrationRow>,
    /// The header's length in bytes.
    header_len: u64,
    digest: [u8; 32],
}

impl Verified {
    /// Where the data sections start.
    fn data_offset(&self) -> u64 {
        PRELUDE + self.header_len + self.header.sections[0].length + self.header.sections[1].length
    }

    /// The data sections, in file order.
    pub fn data_sections(&self) -> &[Section] {
        &self.header.sections[2..]
    }
}

/// Reads the whole file and checks it: signature, version, the lengths the
/// header announces against the file's size, the checksum, and the shape of
/// the header and of the JSON sections. Nothing touches a database before
/// this has passed; every way a file can be wrong is an
/// [`Error::ExportFile`], never a panic.
pub(crate) async fn verify(path: &Path) -> Result<Verified> {
    let mut file = File::open(path).await.map_err(io(path))?;
    let len = file.metadata().await.map_err(io(path))?.len();
    let mut prelude = [0u8; PRELUDE as usize];
    let got = read_up_to(&mut file, &mut prelude)
        .await
        .map_err(io(path))?;
    let signature = got.min(MAGIC.len());
    if prelude[..signature] != MAGIC[..signature] {
        return Err(problem(path, FileProblem::NotAnExport));
    }
    if got < PRELUDE as usize {
        return Err(problem(
            path,
            FileProblem::Truncated {
                expected: None,
                actual: len,
            },
        ));
    }
    let version = u32::from_be_bytes(prelude[8..12].try_into().unwrap_or_default());
    if version != FORMAT_VERSION {
        return Err(problem(
            path,
            FileProblem::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            },
        ));
    }
    let header_len = u64::from_be_bytes(prelude[12..20].try_into().unwrap_or_default());
    if len < PRELUDE + DIGEST {
        return Err(problem(
            path,
            FileProblem::Truncated {
                expected: None,
                actual: len,
            },
        ));
    }
    // Everything between the prelude and the checksum is hashed; the
    // header's bytes are kept on the way, when its length is plausible.
    let body_len = len - PRELUDE - DIGEST;
    let keep = if header_len <= body_len && header_len <= MAX_HEADER {
        header_len as usize
    } else {
        0
    };
    let mut header_bytes = Vec::with_capacity(keep);
    let mut hasher = Sha256::new();
    hasher.update(prelude);
    let mut remaining = body_len;
    let mut buf = vec![0u8; CHUNK];
    while remaining > 0 {
        let want = remaining.min(CHUNK as u64) as usize;
        file.read_exact(&mut buf[..want]).await.map_err(io(path))?;
        hasher.update(&buf[..want]);
        let room = keep - header_bytes.len();
        header_bytes.extend_from_slice(&buf[..want.min(room)]);
        remaining -= want as u64;
    }
    let mut stored = [0u8; DIGEST as usize];
    file.read_exact(&mut stored).await.map_err(io(path))?;
    let digest = digest(hasher);

    let header: Option<ExportHeader> = if keep > 0 {
        serde_json::from_slice(&header_bytes).ok()
    } else {
        None
    };
    let expected = header.as_ref().and_then(|h| {
        h.sections
            .iter()
            .try_fold(PRELUDE + header_len + DIGEST, |n, s| {
                n.checked_add(s.length)
            })
    });
    if digest != stored {
        // "Truncated" when the file ends inside the header it announces, or
        // before the sections its (readable) header announces.
        return Err(problem(
            path,
            match expected {
                Some(expected) if expected > len => FileProblem::Truncated {
                    expected: Some(expected),
                    actual: len,
                },
                None if header_len > body_len => FileProblem::Truncated {
                    expected: None,
                    actual: len,
                },
                _ => FileProblem::ChecksumMismatch,
            },
        ));
    }

    // The checksum holds: what follows fails only for a file written by
    // something other than Strav.
    let Some(header) = header else {
        return Err(malformed(
            path,
            "the header is not valid JSON, or longer than 64 MiB",
        ));
    };
    if expected != Some(len) {
        return Err(malformed(
            path,
            format!("the sections' lengths do not add up to the file's size ({len} bytes)"),
        ));
    }
    check_header(path, &header)?;
    let structure_len = header.sections[0].length;
    let migrations_len = header.sections[1].length;
    let small = structure_len
        .checked_add(migrations_len)
        .filter(|n| *n <= len)
        .ok_or_else(|| malformed(path, "section lengths out of range"))?;
    file.seek(std::io::SeekFrom::Start(PRELUDE + header_len))
        .await
        .map_err(io(path))?;
    let mut small_bytes = vec![0u8; small as usize];
    file.read_exact(&mut small_bytes).await.map_err(io(path))?;
    let (structure_bytes, migrations_bytes) = small_bytes.split_at(structure_len as usize);
    let structure: Structure = serde_json::from_slice(structure_bytes)
        .map_err(|e| malformed(path, format!("the structure section: {e}")))?;
    let migrations: Vec<MigrationRow> = serde_json::from_slice(migrations_bytes)
        .map_err(|e| malformed(path, format!("the migrations section: {e}")))?;
    if migrations.len() != header.migrations
        || migrations.iter().map(|m| m.version).max() != header.migration_version
    {
        return Err(malformed(
            path,
            "the migrations section does not match the header",
        ));
    }
    Ok(Verified {
        header,
        structure,
        migrations,
        header_len,
        digest,
    })
}

/// The header's own consistency: names Strav will use, sections in the order
/// Strav writes them.
fn check_header(path: &Path, h: &ExportHeader) -> Result<()> {
    if h.format_version != FORMAT_VERSION {
        return Err(malformed(
            path,
            "the header's format version differs from the file's",
        ));
    }
    check_domain(&h.domain).map_err(|e| malformed(path, e.to_string()))?;
    if !h.placeholder.starts_with(PLACEHOLDER_PREFIX) || SchemaName::new(&h.placeholder).is_err() {
        return Err(malformed(
            path,
            "the placeholder is not a Strav placeholder",
        ));
    }
    if h.copy_format != "text" {
        return Err(malformed(
            path,
            format!(
                "data in {:?} format; this Strav reads \"text\"",
                h.copy_format
            ),
        ));
    }
    let kinds: Vec<SectionKind> = h.sections.iter().map(|s| s.kind).collect();
    let shape_ok = kinds.len() >= 2
        && kinds[0] == SectionKind::Structure
        && kinds[1] == SectionKind::Migrations
        && h.sections[2..]
            .iter()
            .all(|s| s.kind == SectionKind::Data && s.table.is_some() && s.rows.is_some());
    if !shape_ok {
        return Err(malformed(
            path,
            "expected a structure section, a migrations section, then data sections",
        ));
    }
    Ok(())
}

/// Fills `buf` as far as the file goes; returns how much was read.
async fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        let n = file.read(&mut buf[got..]).await?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(got)
}

/// The second reading, during the import: the data sections in order,
/// hashed again, so that a file changed since [`verify`] is caught (and the
/// import's transaction rolled back) by [`Replay::finish`].
pub(crate) struct Replay<'v> {
    path: PathBuf,
    file: File,
    hasher: Sha256,
    verified: &'v Verified,
    buf: Vec<u8>,
}

impl<'v> Replay<'v> {
    /// Opens the file and reads (hashing) up to the first data section.
    pub(crate) async fn open(path: &Path, verified: &'v Verified) -> Result<Replay<'v>> {
        let file = File::open(path).await.map_err(io(path))?;
        let mut replay = Replay {
            path: path.to_owned(),
            file,
            hasher: Sha256::new(),
            verified,
            buf: vec![0u8; CHUNK],
        };
        let mut skip = verified.data_offset();
        while skip > 0 {
            let chunk = replay.next_chunk(skip).await?;
            skip -= chunk as u64;
        }
        Ok(replay)
    }

    /// Reads (hashing) up to `max` bytes into the buffer; returns how many.
    async fn next_chunk(&mut self, max: u64) -> Result<usize> {
        let want = max.min(self.buf.len() as u64) as usize;
        let path = self.path.clone();
        self.file
            .read_exact(&mut self.buf[..want])
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => {
                    problem(&path, FileProblem::ChangedDuringImport)
                }
                _ => io(&path)(e),
            })?;
        self.hasher.update(&self.buf[..want]);
        Ok(want)
    }

    /// The next piece (at most `max` bytes) of the current section.
    pub(crate) async fn read(&mut self, max: u64) -> Result<&[u8]> {
        let n = self.next_chunk(max).await?;
        Ok(&self.buf[..n])
    }

    /// Reads the checksum and compares both readings with it.
    pub(crate) async fn finish(mut self) -> Result<()> {
        let mut stored = [0u8; DIGEST as usize];
        let changed = || problem(&self.path, FileProblem::ChangedDuringImport);
        self.file
            .read_exact(&mut stored)
            .await
            .map_err(|_| changed())?;
        let mut extra = [0u8; 1];
        let trailing = self.file.read(&mut extra).await.map_err(|_| changed())?;
        let hasher = std::mem::take(&mut self.hasher);
        if trailing != 0 || digest(hasher) != stored || stored != self.verified.digest {
            return Err(changed());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_serialize_compactly() {
        let s = Section::data("orders".into(), Some("\"id\"".into()), 2, 10);
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"kind":"data","length":10,"table":"orders","columns":"\"id\"","rows":2}"#
        );
        let j = Section::json(SectionKind::Structure, b"{}");
        assert_eq!(
            serde_json::to_string(&j).unwrap(),
            r#"{"kind":"structure","length":2}"#
        );
    }

    #[test]
    fn siblings_keep_the_directory() {
        assert_eq!(
            sibling(Path::new("/tmp/a.strav"), ".partial"),
            PathBuf::from("/tmp/a.strav.partial")
        );
        assert_eq!(
            sibling(Path::new("a.strav"), ".partial"),
            PathBuf::from("a.strav.partial")
        );
    }
}
