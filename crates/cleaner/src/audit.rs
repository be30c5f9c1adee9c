//! The append-only audit log: one JSON object a line per action, saying when, what, which
//! file, how many bytes, why, and what came of it. Opened with `O_APPEND` and never truncated,
//! so concurrent readers (and `tail -f`) see whole lines; fsynced at the end of each run.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
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
    /// The file.
    pub path: &'a Path,
    /// Its size at the scan.
    pub bytes: u64,
    /// Why (the rule and the values that triggered it).
    pub reason: &'a str,
    /// `done`, `held`, `skipped: ...`, `failed: ...`, or `dry-run`.
    pub result: &'a str,
    /// The policy that owns the file.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub policy: &'a str,
}

/// The open audit log.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    out: BufWriter<File>,
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
        Ok(AuditLog { path: path.to_path_buf(), out: BufWriter::with_capacity(1 << 16, file) })
    }

    /// Appends one record stamped with the current time.
    pub fn write(&mut self, mut record: Record<'_>) -> io::Result<()> {
        record.time = Some(rfc3339(SystemTime::now()));
        serde_json::to_writer(&mut self.out, &record)?;
        self.out.write_all(b"\n")
    }

    /// Flushes and fsyncs; called at the end of a run.
    pub fn finish(mut self) -> io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_data()
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
        let rec = Record {
            time: None,
            action: "delete",
            path: Path::new("/log/a \"b\".1"),
            bytes: 10,
            reason: "age 9d0h over max_age 8d0h",
            result: "done",
            policy: "observer",
        };
        log.write(rec).unwrap();
        log.finish().unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines[0], "{\"earlier\":1}", "existing content kept");
        let v: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(v["path"], "/log/a \"b\".1");
        assert_eq!(v["action"], "delete");
        assert_eq!(v["policy"], "observer");
        assert!(v["time"].as_str().unwrap().ends_with('Z'));
    }
}
