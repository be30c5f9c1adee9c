//! `obwatch-logtailer scan`: replays log files through the rules with no state and no
//! delivery, printing every match (text, or NDJSON as in ARCHITECTURE.md). Files are read in
//! large chunks and each chunk is searched whole; a multiline record that crosses a chunk
//! boundary is carried into the next chunk. `for_count`/`within` are not applied: scan shows
//! the matches those counters would see.
//!
//! Rotated logs are what people scan after an incident, and the cleaner compresses them, so a
//! gzip or zstd file (recognised by its magic bytes, whatever its name) is read decompressed,
//! and its groups are those of its name without the `.gz`/`.zst` suffix when the full name
//! selects none. `-` is standard input, read by every group.

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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `file:line: alertname severity {labels} | record`.
    #[default]
    Text,
    /// One JSON object a line: `{"alertname","severity","file","line","labels"}`.
    Json,
}

/// What one file gave.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Lines read.
    pub lines: u64,
    /// Bytes read (decompressed).
    pub bytes: u64,
    /// Matches printed.
    pub matches: u64,
    /// Matches per alert name.
    pub by_alert: BTreeMap<String, u64>,
}

impl ScanStats {
    /// Adds another file's figures.
    pub fn add(&mut self, other: &ScanStats) {
        self.lines += other.lines;
        self.bytes += other.bytes;
        self.matches += other.matches;
        for (alert, n) in &other.by_alert {
            *self.by_alert.entry(alert.clone()).or_default() += n;
        }
    }
}

/// The groups that read `path`: those its name selects, or for a compressed rotated log
/// (`observer.log.20261201120000.gz`) those of its name without the suffix; `-` (stdin) is
/// read by all.
pub fn groups_for_log(rules: &RuleSet, path: &Path) -> Vec<usize> {
    if path == Path::new("-") {
        return (0..rules.groups().len()).collect();
    }
    let groups = rules.groups_for(path);
    if !groups.is_empty() {
        return groups;
    }
    match path.extension().and_then(|e| e.to_str()) {
        Some("gz" | "zst") => rules.groups_for(&path.with_extension("")),
        _ => groups,
    }
}

/// Opens a log for reading: `-` is stdin; gzip (1f 8b) and zstd (28 b5 2f fd) content is
/// decompressed, whatever the file is called.
pub fn open_log(path: &Path) -> io::Result<Box<dyn Read>> {
    let raw: Box<dyn Read> =
        if path == Path::new("-") { Box::new(io::stdin()) } else { Box::new(File::open(path)?) };
    let mut input = io::BufReader::with_capacity(256 * 1024, raw);
    let head = io::BufRead::fill_buf(&mut input)?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(input))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(zstd::stream::read::Decoder::with_buffer(input)?)
    } else {
        Box::new(input)
    })
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

/// Scans `path` (`-`: stdin; compressed or not) with `groups` and writes each match to `out`;
/// `progress` hears of each chunk.
pub fn scan_file(
    rules: &RuleSet,
    path: &Path,
    groups: Vec<usize>,
    format: Format,
    out: &mut dyn Write,
    progress: &mut crate::progress::Progress,
) -> Result<ScanStats, ScanError> {
    let read_err = |source| ScanError::Read { path: path.to_path_buf(), source };
    let matcher = Matcher::new(rules, groups);
    let mut input = open_log(path).map_err(read_err)?;
    let display = path.display().to_string();
    let mut by_alert = BTreeMap::<String, u64>::new();
    let mut emit = |hit: &Hit<'_>| {
        let alert = &rules.groups()[hit.group].rules[hit.rule].alert;
        *by_alert.entry(alert.clone()).or_default() += 1;
        print_hit(rules, hit, &display, format, out)
    };
    progress.start(&display);
    let mut tick = |s: &ScanStats| progress.update(s.lines, s.bytes, s.matches);
    let result = scan_reader(&matcher, &mut input, CHUNK_BYTES, &mut emit, &mut tick);
    progress.finish();
    let mut stats = result.map_err(|e| match e {
        ReadOrWrite::Read(e) => read_err(e),
        ReadOrWrite::Write(e) => ScanError::Write(e),
    })?;
    stats.by_alert = by_alert;
    Ok(stats)
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
    tick: &mut dyn FnMut(&ScanStats),
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
        tick(&stats);
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
        let stats =
            scan_reader(&matcher, &mut &text[..], chunk, &mut emit, &mut |_| {}).ok().unwrap();
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

    #[test]
    fn gzip_and_zstd_logs_are_read_decompressed_with_their_uncompressed_names_groups() {
        let rules = RuleSet::from_yaml(
            Path::new("t.yaml"),
            "groups:\n  - name: ob\n    files: ['observer.log*']\n    rules:\n      - alert: OraError\n        match: 'ORA-(?P<code>\\d+)'\n        severity: warning\n",
        )
        .unwrap();
        let d = tempfile::tempdir().unwrap();
        let text = b"routine\nORA-00600 internal\nroutine\nORA-07445 core\n".repeat(50);
        let gz = d.path().join("observer.log.20261201120000.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&text).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let zst = d.path().join("observer.log.1.zst");
        std::fs::write(&zst, zstd::encode_all(&text[..], 1).unwrap()).unwrap();
        // The cleaner's names: `observer.log*` selects them by name, and a compressed file
        // whose name only matches without the suffix gets that name's groups.
        let renamed = d.path().join("observer.log.gz");
        std::fs::copy(&gz, &renamed).unwrap();
        for path in [&gz, &zst, &renamed] {
            let groups = groups_for_log(&rules, path);
            assert_eq!(groups, vec![0], "{}", path.display());
            let mut out = Vec::new();
            let zero = std::time::Duration::ZERO;
            let mut quiet = crate::progress::Progress::to(None, zero, zero);
            let stats =
                scan_file(&rules, path, groups, Format::Text, &mut out, &mut quiet).unwrap();
            assert_eq!(stats.matches, 100, "{}", path.display());
            assert_eq!(stats.lines, 200);
            assert_eq!(stats.by_alert.get("OraError"), Some(&100));
            assert!(String::from_utf8(out).unwrap().contains(":2: OraError warning"));
        }
        let other = d.path().join("messages.gz");
        std::fs::copy(&gz, &other).unwrap();
        assert!(groups_for_log(&rules, &other).is_empty());
        assert_eq!(groups_for_log(&rules, Path::new("-")), vec![0]);
    }
}
