//! The append-only audit log: one JSON object a line per action, saying when, what, which
//! file, how many bytes, why, and what came of it. Opened with `O_APPEND` and never truncated;
//! each record is built whole and written with one `write`, so a failing write never leaves
//! half a record and concurrent readers (and `tail -f`) see whole lines; fsynced at the end of
//! each run. Before each action a `started` record is written: when it cannot be, the action
//! is not taken (`lib.rs`), so nothing is ever done without a record.
//!
//! File names are bytes, not text: `path` is the name as UTF-8 (invalid bytes shown as U+FFFD)
//! and, only when the name is not valid UTF-8, `path_hex` carries its exact bytes in hex
//! (`xxd -r -p` turns it back). A newline in a name is escaped by JSON like any other
//! character, so it can never start a forged record.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// One audit record (also the shape of `once --format json` lines, which omit `time`).
#[derive(Debug, Serialize)]
pub struct Record<'a> {
    /// RFC 3339, UTC, milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// `delete`, `compress`, `rotate`, `held` or `deleted_open`.
    pub action: &'a str,
    /// The file, as UTF-8 (lossy; see `path_hex`).
    pub path: Cow<'a, str>,
    /// The file name's exact bytes in hex, when they are not valid UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_hex: Option<String>,
    /// The file itself, for the text output (quoted and escaped there).
    #[serde(skip)]
    pub raw_path: &'a Path,
    /// Its size at the scan: the apparent size (`ls -l`), the one meaning of "bytes" in
    /// action lines, the audit log and the metrics.
    pub bytes: u64,
    /// The disk space it takes (allocated blocks, `du`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_bytes: Option<u64>,
    /// Why (the rule and the values that triggered it).
    pub reason: &'a str,
    /// `done`, `held`, `skipped: ...`, `failed: ...`, or `dry-run`.
    pub result: &'a str,
    /// The policy that owns the file.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub policy: &'a str,
}

impl<'a> Record<'a> {
    /// A record for `path` (its lossless forms filled in); `time` is set when it is written.
    pub fn new(
        action: &'a str,
        path: &'a Path,
        bytes: u64,
        reason: &'a str,
        result: &'a str,
        policy: &'a str,
    ) -> Self {
        let raw = path.as_os_str().as_bytes();
        let path_hex = std::str::from_utf8(raw).is_err().then(|| {
            raw.iter().fold(String::with_capacity(raw.len() * 2), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            })
        });
        Record {
            time: None,
            action,
            path: String::from_utf8_lossy(raw),
            path_hex,
            raw_path: path,
            bytes,
            disk_bytes: None,
            reason,
            result,
            policy,
        }
    }

    /// The same record with the file's allocated size.
    pub fn with_disk_bytes(mut self, disk_bytes: u64) -> Self {
        self.disk_bytes = Some(disk_bytes);
        self
    }
}

/// The open audit log.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: File,
    line: Vec<u8>,
}

impl AuditLog {
    /// Opens (creating, mode 0640) `path` for appending.
    pub fn open(path: &Path) -> io::Result<AuditLog> {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o640)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(path)?;
        Ok(AuditLog { path: path.to_path_buf(), file, line: Vec::with_capacity(512) })
    }

    /// Appends one record stamped with the current time, whole, with one `write` (O_APPEND).
    pub fn write(&mut self, record: &mut Record<'_>) -> io::Result<()> {
        record.time = Some(rfc3339(SystemTime::now()));
        self.line.clear();
        serde_json::to_writer(&mut self.line, &*record)?;
        self.line.push(b'\n');
        // A short write to a regular file only happens when the disk fills: an error then.
        let n = (&self.file).write(&self.line)?;
        if n != self.line.len() {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "short write (disk full?)"));
        }
        Ok(())
    }

    /// Fsyncs; called at the end of a run.
    pub fn finish(self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// The file, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `2024-03-01T10:00:00.123Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn rfc3339_known_instants() {
        let at = |s: u64, ms: u64| rfc3339(UNIX_EPOCH + Duration::from_millis(s * 1000 + ms));
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(at(1_709_287_200, 123), "2024-03-01T10:00:00.123Z");
        assert_eq!(at(4_102_444_799, 999), "2099-12-31T23:59:59.999Z");
    }

    #[test]
    fn appends_whole_json_lines() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("audit.jsonl");
        std::fs::write(&p, "{\"earlier\":1}\n").unwrap();
        let mut log = AuditLog::open(&p).unwrap();
        let mut rec = Record::new(
            "delete",
            Path::new("/log/a \"b\".1"),
            10,
            "age 9d0h over max_age 8d0h",
            "done",
            "observer",
        );
        log.write(&mut rec).unwrap();
        log.finish().unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines[0], "{\"earlier\":1}", "existing content kept");
        let v: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(v["path"], "/log/a \"b\".1");
        assert_eq!(v["action"], "delete");
        assert_eq!(v["policy"], "observer");
        assert!(v["time"].as_str().unwrap().ends_with('Z'));
        assert!(v.get("path_hex").is_none(), "only for names that are not UTF-8");
    }

    #[test]
    fn names_with_invalid_utf8_or_newlines_stay_one_exact_record() {
        use std::ffi::OsStr;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("audit.jsonl");
        let mut log = AuditLog::open(&p).unwrap();
        let bad = Path::new(OsStr::from_bytes(b"/log/a\xff\xfe.1"));
        let nl = Path::new("/log/x\n{\"action\":\"forged\"}");
        log.write(&mut Record::new("delete", bad, 1, "r", "done", "p")).unwrap();
        log.write(&mut Record::new("delete", nl, 1, "r", "done", "p")).unwrap();
        log.finish().unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<serde_json::Value> =
            text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0]["path_hex"], "2f6c6f672f61fffe2e31");
        assert_eq!(lines[0]["path"], "/log/a\u{fffd}\u{fffd}.1");
        assert_eq!(lines[1]["path"], "/log/x\n{\"action\":\"forged\"}");
    }

    #[test]
    fn a_device_that_fails_writes_is_an_error_not_half_a_record() {
        // /dev/full accepts the open and fails every write with ENOSPC.
        let mut log = AuditLog::open(Path::new("/dev/full")).unwrap();
        let err = log
            .write(&mut Record::new("delete", Path::new("/l/a"), 1, "r", "done", ""))
            .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(28), "{err}");
    }
}
