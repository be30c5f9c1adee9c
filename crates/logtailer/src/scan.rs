//! `obwatch-logtailer scan`: replays log files through the rules with no state and no
//! delivery, printing every match (text, or NDJSON as in ARCHITECTURE.md). Files are read in
//! large chunks and each chunk is searched whole; a multiline record that crosses a chunk
//! boundary is carried into the next chunk. `for_count`/`within` are not applied: scan shows
//! the matches those counters would see.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::rule::{Hit, Matcher, RuleSet};

/// Bytes read per chunk.
const CHUNK_BYTES: usize = 4 << 20;
/// A record longer than this is evaluated as it is rather than carried further.
const MAX_CARRY_BYTES: usize = 64 << 20;

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `file:line: alertname severity {labels} | record`.
    Text,
    /// One JSON object a line: `{"alertname","severity","file","line","labels"}`.
    Json,
}

/// What one file gave.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Lines read.
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Matches printed.
    pub matches: u64,
}

/// Why a file could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The log could not be opened or read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The log file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Writing the output failed (a closed pipe).
    #[error("cannot write the output: {0}")]
    Write(#[source] io::Error),
}

#[derive(Serialize)]
struct JsonMatch<'a> {
    alertname: &'a str,
    severity: &'a str,
    file: &'a str,
    line: u64,
    labels: &'a BTreeMap<String, String>,
}

/// Scans `path` with the groups that read it and writes each match to `out`.
pub fn scan_file(
    rules: &RuleSet,
    path: &Path,
    format: Format,
    out: &mut dyn Write,
) -> Result<ScanStats, ScanError> {
    let read_err = |source| ScanError::Read { path: path.to_path_buf(), source };
    let matcher = Matcher::new(rules, rules.groups_for(path));
    let mut file = File::open(path).map_err(read_err)?;
    let display = path.display().to_string();
    let mut emit = |hit: &Hit<'_>| print_hit(rules, hit, &display, format, out);
    scan_reader(&matcher, &mut file, CHUNK_BYTES, &mut emit).map_err(|e| match e {
        ReadOrWrite::Read(e) => read_err(e),
        ReadOrWrite::Write(e) => ScanError::Write(e),
    })
}

enum ReadOrWrite {
    Read(io::Error),
    Write(io::Error),
}

/// The chunk loop: reads `chunk` bytes at a time, evaluates what holds whole records and
/// carries the rest. Every hit goes to `emit`, in file order.
fn scan_reader(
    matcher: &Matcher<'_>,
    input: &mut dyn Read,
    chunk: usize,
    emit: &mut dyn FnMut(&Hit<'_>) -> io::Result<()>,
) -> Result<ScanStats, ReadOrWrite> {
    let mut stats = ScanStats::default();
    let mut buf: Vec<u8> = Vec::with_capacity(chunk * 2);
    let mut next_line = 1u64;
    loop {
        let old_len = buf.len();
        buf.resize(old_len + chunk, 0);
        let n = read_full(input, &mut buf[old_len..]).map_err(ReadOrWrite::Read)?;
        buf.truncate(old_len + n);
        stats.bytes += n as u64;
        let eof = n == 0;
        if eof && buf.last().is_some_and(|&b| b != b'\n') {
            buf.push(b'\n'); // the last line, without its newline, is still a line
        }
        let complete = memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1);
        let mut cut = if eof { complete } else { matcher.safe_end(&buf[..complete]) };
        if cut == 0 && !eof {
            if buf.len() < MAX_CARRY_BYTES {
                continue; // one record (or line) so far: read on
            }
            // A record or line this long is evaluated in pieces.
            cut = if complete > 0 { complete } else { buf.len() };
        }
        let text = &buf[..cut];
        if !matcher.is_empty() {
            for hit in matcher.eval(text, next_line) {
                emit(&hit).map_err(ReadOrWrite::Write)?;
                stats.matches += 1;
            }
        }
        let lines = memchr::memchr_iter(b'\n', text).count() as u64;
        next_line += lines;
        stats.lines += lines;
        buf.drain(..cut);
        if eof {
            return Ok(stats);
        }
    }
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_full(file: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn print_hit(
    rules: &RuleSet,
    hit: &Hit<'_>,
    file: &str,
    format: Format,
    out: &mut dyn Write,
) -> io::Result<()> {
    let rule = &rules.groups()[hit.group].rules[hit.rule];
    let labels = rule.alert_labels(&hit.captures);
    match format {
        Format::Json => {
            let m = JsonMatch {
                alertname: &rule.alert,
                severity: rule.severity.as_str(),
                file,
                line: hit.line,
                labels: &labels,
            };
            serde_json::to_writer(&mut *out, &m)?;
            out.write_all(b"\n")
        }
        Format::Text => {
            let shown: Vec<String> = labels
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "alertname" | "severity"))
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect();
            // A multiline record on one output line: its lines joined with ` ⏎ `.
            let record = String::from_utf8_lossy(hit.record).replace('\n', " ⏎ ");
            let first = match record.char_indices().nth(200) {
                Some((i, _)) => &record[..i],
                None => &record,
            };
            writeln!(
                out,
                "{file}:{}: {} {} {{{}}} | {first}",
                hit.line,
                rule.alert,
                rule.severity.as_str(),
                shown.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Found = (u64, usize, Vec<(String, String)>);

    const RULES: &str = r#"
groups:
  - name: lines
    rules:
      - alert: OraError
        match: 'ORA-(?P<code>\d+)'
        severity: warning
  - name: records
    multiline: { start: '^\d{4}-\d\d-\d\d ', max_lines: 4 }
    rules:
      - alert: Evicted
        match: '(?s)^2011-.*\nCRS-1607:Node (?P<node>\S+)'
        severity: critical
"#;

    fn hits(rules: &RuleSet, text: &[u8], chunk: usize) -> (Vec<Found>, ScanStats) {
        let matcher = Matcher::new(rules, vec![0, 1]);
        let mut got = Vec::new();
        let mut emit = |h: &Hit<'_>| {
            got.push((h.line, h.group, h.captures.clone()));
            Ok(())
        };
        let stats = scan_reader(&matcher, &mut &text[..], chunk, &mut emit).ok().unwrap();
        (got, stats)
    }

    #[test]
    fn chunk_boundaries_change_nothing() {
        let rules = RuleSet::from_yaml(Path::new("t.yaml"), RULES).unwrap();
        let mut text = Vec::new();
        for i in 0..40 {
            match i % 5 {
                0 => text.extend_from_slice(b"2011-03-04 10:06:37\n"),
                1 => text.extend_from_slice(
                    format!("CRS-1607:Node rac{i} is being evicted\n").as_bytes(),
                ),
                2 => {
                    text.extend_from_slice(format!("ORA-{i:05} ").as_bytes());
                    text.extend_from_slice(b"\xff odd byte\n");
                }
                3 => text.extend_from_slice(b"continuation\n"),
                _ => text.extend_from_slice(b"2012-01-01 00:00:00 other\n"),
            }
        }
        text.extend_from_slice(b"2011-01-01 x\nCRS-1607:Node last"); // no final newline
        let (want, stats) = hits(&rules, &text, 1 << 20);
        assert_eq!(stats.lines, 42);
        assert_eq!(want.iter().filter(|h| h.1 == 1).count(), 9, "{want:?}");
        assert_eq!(want.last().unwrap(), &(41, 1, vec![("node".to_string(), "last".to_string())]));
        for chunk in [1, 2, 3, 7, 16, 50, 333] {
            assert_eq!(hits(&rules, &text, chunk).0, want, "chunk {chunk}");
        }
    }
}
