//! What the commands print on stdout: aligned text for people, JSON for tools.

use std::io::{self, Write};

use serde::Serialize;
use strav_orm::{SchemaInfo, SchemaStats};

use crate::exit::CliError;

/// Runs `f` on locked stdout and flushes; a closed pipe is not an error.
pub fn print(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), CliError> {
    let stdout = io::stdout();
    let mut w = stdout.lock();
    f(&mut w)?;
    w.flush()?;
    Ok(())
}

/// `1 table`, `2 tables`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `value` as pretty JSON and a newline.
pub fn json<T: Serialize>(w: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, value).map_err(io::Error::from)?;
    writeln!(w)
}

/// One value as one line of JSON (JSON Lines): a stream a reader can
/// process as it comes.
pub fn json_line<T: Serialize>(w: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *w, value).map_err(io::Error::from)?;
    writeln!(w)
}

/// The registered schemas as an aligned table, or a sentence when there are none.
pub fn schema_table(
    w: &mut dyn Write,
    schemas: &[SchemaInfo],
    domain: Option<&str>,
) -> io::Result<()> {
    if schemas.is_empty() {
        return match domain {
            Some(d) => writeln!(w, "no schemas registered in domain {d}"),
            None => writeln!(w, "no schemas registered"),
        };
    }
    let rows: Vec<[String; 3]> = schemas
        .iter()
        .map(|s| {
            [
                s.name.clone(),
                s.domain.clone(),
                s.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            ]
        })
        .collect();
    table(w, ["NAME", "DOMAIN", "CREATED_AT"], &rows)
}

fn table<const N: usize>(
    w: &mut dyn Write,
    header: [&str; N],
    rows: &[[String; N]],
) -> io::Result<()> {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |w: &mut dyn Write, cells: [&str; N]| -> io::Result<()> {
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == N {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  "));
            }
        }
        writeln!(w, "{}", text.trim_end())
    };
    line(w, header)?;
    for row in rows {
        line(w, row.each_ref().map(String::as_str))?;
    }
    Ok(())
}

/// One schema's size as `key value` lines.
pub fn schema_stats(w: &mut dyn Write, s: &SchemaStats) -> io::Result<()> {
    writeln!(w, "schema  {}", s.schema)?;
    writeln!(
        w,
        "domain  {}",
        s.domain.as_deref().unwrap_or("(not registered)")
    )?;
    writeln!(w, "tables  {}", s.tables)?;
    if s.rows_exact {
        writeln!(w, "rows    {}", s.total_rows)?;
    } else {
        writeln!(w, "rows    ~{} (estimate)", s.total_rows)?;
    }
    writeln!(
        w,
        "size    {} ({} bytes)",
        human_bytes(s.size_in_bytes),
        s.size_in_bytes
    )
}

/// Bytes in binary units: `0 B`, `512 B`, `8.0 KiB`, `1.5 MiB`.
pub fn human_bytes(bytes: i64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes.unsigned_abs() < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value.abs() >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn render(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> String {
        let mut buf = Vec::new();
        f(&mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn bytes_in_binary_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1.0 KiB");
        assert_eq!(human_bytes(8192), "8.0 KiB");
        assert_eq!(human_bytes(1536 * 1024), "1.5 MiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
        assert_eq!(human_bytes(i64::MAX), "8.0 EiB");
    }

    #[test]
    fn table_columns_line_up() {
        let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let schemas = [
            SchemaInfo {
                name: "a".into(),
                domain: "tenant".into(),
                created_at: at,
            },
            SchemaInfo {
                name: "company_123".into(),
                domain: "factory".into(),
                created_at: at,
            },
        ];
        let out = render(|w| schema_table(w, &schemas, None));
        assert_eq!(
            out,
            "NAME         DOMAIN   CREATED_AT\n\
             a            tenant   2026-01-02 03:04:05 UTC\n\
             company_123  factory  2026-01-02 03:04:05 UTC\n"
        );
        assert_eq!(
            render(|w| schema_table(w, &[], None)),
            "no schemas registered\n"
        );
    }

    #[test]
    fn stats_lines() {
        let s = SchemaStats {
            schema: "company_123".into(),
            domain: Some("tenant".into()),
            tables: 2,
            total_rows: 10,
            size_in_bytes: 49152,
            rows_exact: true,
        };
        assert_eq!(
            render(|w| schema_stats(w, &s)),
            "schema  company_123\ndomain  tenant\ntables  2\nrows    10\nsize    48.0 KiB (49152 bytes)\n"
        );
    }
}
