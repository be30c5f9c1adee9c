//! YAML config loading with errors that point at file, line and column, plus the duration,
//! size and percentage value types shared by every binary's config.
//!
//! YAML crate: `serde_yaml` is deprecated upstream (archived in 2024). `serde-saphyr` is
//! maintained, pure Rust (no `unsafe-libyaml`), panic-free on bad input, and its errors carry a
//! line, a column and a snippet of the offending key, which is what a DBA editing a config needs.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// Why a config file could not be used. Every message starts with the file's path.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The YAML did not parse into the expected shape.
    #[error("{path}:{line}:{column}: {message}\n{snippet}")]
    Parse {
        /// The config file.
        path: PathBuf,
        /// 1-based line (0 when unknown).
        line: u64,
        /// 1-based column (0 when unknown).
        column: u64,
        /// What was wrong, naming the field and what was expected.
        message: String,
        /// The offending lines with a caret, as the YAML parser rendered them.
        snippet: String,
    },
    /// The YAML parsed but a value is not acceptable.
    #[error("{path}: field `{field}`: {message}")]
    Invalid {
        /// The config file (or flag source).
        path: PathBuf,
        /// Dotted path of the field, e.g. `web.listen_address`.
        field: String,
        /// What was expected.
        message: String,
    },
}

impl ConfigError {
    /// A validation error for `field` in `path`.
    pub fn invalid(path: &Path, field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            path: path.to_path_buf(),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// `value`, when set, must be at least `min`: stores it in `slot`, else names `field` in
/// `path` and the limit. For the many "interval/timeout of at least N" settings.
pub fn set_at_least(
    path: &Path,
    field: &str,
    value: Option<HumanDuration>,
    min: Duration,
    slot: &mut Duration,
) -> Result<(), ConfigError> {
    let Some(d) = value else { return Ok(()) };
    if d.0 < min {
        return Err(ConfigError::invalid(
            path,
            field,
            format!("expected a duration of at least {}, got {d}", HumanDuration(min)),
        ));
    }
    *slot = d.0;
    Ok(())
}

/// How often a background collector runs a round and how long one round may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Polling {
    /// Time between rounds.
    pub interval: Duration,
    /// Longest one round may take.
    pub timeout: Duration,
}

impl Polling {
    /// `SECTION.interval` and `SECTION.TIMEOUT_KEY` from `path` over `defaults`: each at least
    /// 100 ms, and the timeout at most the interval (a round must end before the next is due).
    /// Every background collector (oceanbase, obproxy, clusterware) checks its settings here.
    pub fn from_yaml(
        path: &Path,
        (section, timeout_key): (&str, &str),
        (interval, timeout): (Option<HumanDuration>, Option<HumanDuration>),
        defaults: Polling,
    ) -> Result<Polling, ConfigError> {
        let mut p = defaults;
        let min = Duration::from_millis(100);
        set_at_least(path, &format!("{section}.interval"), interval, min, &mut p.interval)?;
        let timeout_field = format!("{section}.{timeout_key}");
        set_at_least(path, &timeout_field, timeout, min, &mut p.timeout)?;
        if p.timeout > p.interval {
            return Err(ConfigError::invalid(
                path,
                timeout_field,
                format!(
                    "expected at most {section}.interval ({}), got {}",
                    HumanDuration(p.interval),
                    HumanDuration(p.timeout)
                ),
            ));
        }
        Ok(p)
    }
}

/// Reads and deserializes a YAML file. Unknown keys are errors when `T` says
/// `#[serde(deny_unknown_fields)]`, which every config struct of this project does.
pub fn load_yaml<T: DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
    parse_yaml(path, &text)
}

/// Deserializes YAML text; `path` is only used in errors.
pub fn parse_yaml<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, ConfigError> {
    // An empty file means "all defaults", as for Prometheus' own config files.
    let text = if text.trim().is_empty() { "{}" } else { text };
    serde_saphyr::from_str::<T>(text).map_err(|e| {
        let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
        let message = e.without_snippet().to_string();
        // The crate prefixes "error: line L column C: "; we print our own prefix.
        let message = match message.split_once(": ") {
            Some((head, rest)) if head.starts_with("error") => {
                rest.split_once(": ").map_or(rest, |(_, m)| m).to_string()
            }
            _ => message,
        };
        let snippet = e.to_string().replace("<input>", &path.display().to_string());
        let snippet = snippet.lines().skip(1).collect::<Vec<_>>().join("\n");
        ConfigError::Parse { path: path.to_path_buf(), line, column, message, snippet }
    })
}

/// Splits `"256MiB"` into `(256.0, "MiB")`; `None` when there is no leading number.
fn number_and_unit(s: &str) -> Option<(f64, &str)> {
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    Some((num.parse().ok()?, unit))
}

/// A duration in Prometheus' form: `90s`, `10m`, `2h`, `8d`, `1w`, `1y`, `1500ms`, or several of
/// them largest first, `1h30m`, `2d12h`, `1m30s` (units ms s m h d w y; y = 365d).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanDuration(pub Duration);

/// Duration units, `ms` before `m` so the longer one is tried first; the rank orders them.
const DURATION_UNITS: [(&str, f64, u8); 7] = [
    ("ms", 0.001, 0),
    ("s", 1.0, 1),
    ("m", 60.0, 2),
    ("h", 3600.0, 3),
    ("d", 86400.0, 4),
    ("w", 7.0 * 86400.0, 5),
    ("y", 365.0 * 86400.0, 6),
];

impl std::str::FromStr for HumanDuration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let expected = || {
            format!(
                "expected a duration like 30s, 10m, 1h30m, 8d or 1w (units ms, s, m, h, d, w, y, \
                 largest first), got {s:?}"
            )
        };
        if s.is_empty() {
            return Err(expected());
        }
        let (mut rest, mut secs, mut last_rank) = (s, 0.0f64, u8::MAX);
        while !rest.is_empty() {
            let split = rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
            let n: f64 = rest[..split].parse().map_err(|_| expected())?;
            rest = &rest[split..];
            let (unit, scale, rank) =
                DURATION_UNITS.iter().find(|(u, _, _)| rest.starts_with(u)).ok_or_else(expected)?;
            if *rank >= last_rank {
                return Err(expected());
            }
            last_rank = *rank;
            secs += n * scale;
            rest = &rest[unit.len()..];
        }
        Duration::try_from_secs_f64(secs)
            .map(HumanDuration)
            .map_err(|_| format!("duration {s:?} is out of range"))
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if !ms.is_multiple_of(1000) { write!(f, "{ms}ms") } else { write!(f, "{}s", ms / 1000) }
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A size written as `512B`, `64KiB`, `256MiB`, `20GiB` or `1TiB`, or logrotate's `100k`,
/// `100M`, `1G` (all powers of 1024); `KB`, `MB`, `GB`, `TB` are powers of 1000.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl std::str::FromStr for ByteSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (n, unit) = number_and_unit(s.trim()).ok_or_else(|| {
            format!("expected a size like 512MiB, 20GiB or 100M (B, KiB/k, MiB/M, GiB/G, TiB/T, KB, MB, GB, TB), got {s:?}")
        })?;
        let scale: f64 = match unit.trim() {
            "" | "B" => 1.0,
            "KiB" | "k" | "K" => 1024.0,
            "MiB" | "M" => 1024.0 * 1024.0,
            "GiB" | "G" => 1024f64.powi(3),
            "TiB" | "T" => 1024f64.powi(4),
            "KB" | "kB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            "TB" => 1e12,
            _ => {
                return Err(format!(
                    "expected a unit of B, KiB (k), MiB (M), GiB (G), TiB (T), KB, MB, GB or TB \
                     in {s:?}"
                ));
            }
        };
        Ok(ByteSize((n * scale) as u64))
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A percentage written as `80%` (or `80.5%`), between 0 and 100 inclusive; disk watermarks.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Percent(f64);

impl Percent {
    /// The percentage, e.g. `80.0` for `80%`, or `None` outside 0..=100.
    pub fn new(value: f64) -> Option<Self> {
        (0.0..=100.0).contains(&value).then_some(Percent(value))
    }

    /// The value in percent (`80.0` for `80%`).
    pub fn value(self) -> f64 {
        self.0
    }

    /// The value as a ratio (`0.8` for `80%`).
    pub fn ratio(self) -> f64 {
        self.0 / 100.0
    }
}

impl std::str::FromStr for Percent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let expected = || format!("expected a percentage like 80% (0% to 100%), got {s:?}");
        let num = t.strip_suffix('%').ok_or_else(expected)?.trim_end();
        let n: f64 = num.parse().map_err(|_| expected())?;
        if !n.is_finite() {
            return Err(expected());
        }
        Percent::new(n).ok_or_else(expected)
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Web {
        listen_address: String,
        timeout: Option<HumanDuration>,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Top {
        web: Web,
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let p = Path::new("/etc/obwatch/exporter.yml");
        let err = parse_yaml::<Top>(p, "web:\n  listen_address: ':1'\n  listen_adress: x\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/etc/obwatch/exporter.yml:3:3: "), "{err}");
        assert!(err.contains("listen_adress"), "{err}");
        assert!(err.contains("listen_address"), "expected names should be listed: {err}");
    }

    #[test]
    fn bad_duration_says_what_is_expected() {
        let err = parse_yaml::<Top>(
            Path::new("c.yml"),
            "web:\n  listen_address: x\n  timeout: 5 minutes\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("c.yml:3:"), "{err}");
        assert!(err.contains("units ms, s, m, h, d, w, y"), "{err}");
    }

    #[test]
    fn durations_and_sizes() {
        let d = |s: &str| s.parse::<HumanDuration>().map(|d| d.0);
        assert_eq!(d("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(d("8d"), Ok(Duration::from_secs(8 * 86400)));
        assert_eq!(d("1500ms"), Ok(Duration::from_millis(1500)));
        assert!(d("10").is_err() && d("m").is_err() && d("-1s").is_err());
        // Prometheus' compound form, largest unit first.
        assert_eq!(d("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(d("2d12h"), Ok(Duration::from_secs(2 * 86400 + 12 * 3600)));
        assert_eq!(d("1m30s500ms"), Ok(Duration::from_millis(90_500)));
        assert_eq!(d("1y"), Ok(Duration::from_secs(365 * 86400)));
        for bad in ["30m1h", "1h1h", "1h30", "", "1.5.5s", "5x"] {
            let err = d(bad).unwrap_err();
            assert!(err.contains("expected a duration like 30s, 10m, 1h30m"), "{bad}: {err}");
        }
        let b = |s: &str| s.parse::<ByteSize>().map(|b| b.0);
        assert_eq!(b("256MiB"), Ok(256 << 20));
        assert_eq!(b("20GiB"), Ok(20 << 30));
        assert_eq!(b("1.5KiB"), Ok(1536));
        // logrotate's suffixes are powers of 1024 too; KB, MB, ... powers of 1000.
        assert_eq!(b("100k"), Ok(100 << 10));
        assert_eq!(b("100M"), Ok(100 << 20));
        assert_eq!(b("1G"), Ok(1 << 30));
        assert_eq!(b("2T"), Ok(2 << 40));
        assert_eq!(b("5MB"), Ok(5_000_000));
        let err = b("3 parsecs").unwrap_err();
        assert!(err.contains("KiB (k), MiB (M)"), "{err}");
    }

    #[test]
    fn percentages() {
        let p = |s: &str| s.parse::<Percent>().map(Percent::value);
        assert_eq!(p("80%"), Ok(80.0));
        assert_eq!(p(" 70.5 %"), Ok(70.5));
        assert_eq!(p("0%"), Ok(0.0));
        assert_eq!(p("100%"), Ok(100.0));
        for bad in ["80", "101%", "-1%", "NaN%", "inf%", "x%", "%"] {
            let err = p(bad).unwrap_err();
            assert!(err.contains("expected a percentage like 80%"), "{bad}: {err}");
        }
        assert_eq!("85%".parse::<Percent>().unwrap().ratio(), 0.85);
        assert_eq!("12.5%".parse::<Percent>().unwrap().to_string(), "12.5%");
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Disk {
            high: Percent,
        }
        let err = parse_yaml::<Disk>(Path::new("d.yml"), "high: 180%\n").unwrap_err().to_string();
        assert!(err.starts_with("d.yml:1:") && err.contains("0% to 100%"), "{err}");
    }
}
