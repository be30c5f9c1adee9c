//! `tracing` setup: one line per event on stderr, in the Prometheus tools' logfmt
//! (`ts=... level=info caller=... msg="..." key=value`, what go-kit and node_exporter print) or
//! as one flat JSON object, plus a rate limiter so a collector failing on every scrape logs once
//! a minute, not once a scrape.
//!
//! Written here rather than taken from `tracing-logfmt`: that crate calls `gettid`, a glibc 2.30
//! symbol, so binaries using it do not start on CentOS/RHEL 7 or 8 (its issue #22), and it names
//! the message `message=` where every Prometheus tool writes `msg=`. A line is built whole and
//! written with one `write` so concurrent threads never interleave, and a closed stderr (EPIPE)
//! is ignored, never a panic. `RUST_LOG` is ignored on purpose: `--log.level` is the one knob.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// `--log.format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `ts=... level=info caller=... msg="..." key=value`
    Logfmt,
    /// One flat JSON object a line: `{"ts":...,"level":...,"caller":...,"msg":...,"key":...}`.
    Json,
}

/// `--log.level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Everything, including each round's details.
    Debug,
    /// Start-up, shutdown and state changes.
    Info,
    /// Something is off but work goes on.
    Warn,
    /// An operator must act.
    Error,
}

impl LogLevel {
    fn filter(self) -> LevelFilter {
        match self {
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Error => LevelFilter::ERROR,
        }
    }
}

/// Installs the global subscriber writing to stderr. Calling it twice is harmless (tests).
pub fn init(level: LogLevel, format: LogFormat) {
    let layer = LineLayer::new(format, |line: &[u8]| {
        // One write of the whole line; a closed or full stderr loses the line, nothing more.
        let _ = std::io::stderr().lock().write_all(line);
    });
    let _ = tracing_subscriber::registry().with(layer.with_filter(level.filter())).try_init();
}

/// Formats each event as one line and hands it to `write`.
pub struct LineLayer<W> {
    format: LogFormat,
    write: W,
}

impl<W> fmt::Debug for LineLayer<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineLayer").field("format", &self.format).finish_non_exhaustive()
    }
}

impl<W: Fn(&[u8]) + Send + Sync + 'static> LineLayer<W> {
    /// A layer writing lines in `format` through `write` (stderr in [`init`], a buffer in tests).
    pub fn new(format: LogFormat, write: W) -> Self {
        LineLayer { format, write }
    }
}

impl<S: Subscriber, W: Fn(&[u8]) + Send + Sync + 'static> Layer<S> for LineLayer<W> {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let ts = jiff::Timestamp::now();
        let line = format_event(self.format, &ts, event);
        (self.write)(line.as_bytes());
    }
}

fn level_str(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// One event as one line, `\n` included.
fn format_event(format: LogFormat, ts: &jiff::Timestamp, event: &Event<'_>) -> String {
    let meta = event.metadata();
    // Milliseconds, UTC, as go-kit's DefaultTimestampUTC prints in the Prometheus tools.
    let ts = format!("{ts:.3}");
    let mut fields = Fields::default();
    event.record(&mut fields);
    let msg = fields.message.take().unwrap_or_default();
    let mut out = String::with_capacity(128);
    match format {
        LogFormat::Logfmt => {
            let _ = write!(out, "ts={ts} level={} caller=", level_str(meta.level()));
            logfmt_value(&mut out, meta.target());
            out.push_str(" msg=");
            logfmt_value(&mut out, &msg);
            for (key, value) in &fields.rest {
                out.push(' ');
                out.push_str(key);
                out.push('=');
                logfmt_value(&mut out, &value.text());
            }
        }
        LogFormat::Json => {
            // Written in order (ts, level, caller, msg, then the event's fields) rather than
            // through a map, which would sort the keys.
            let seen = ["ts", "level", "caller", "msg"];
            let head = [ts.as_str(), level_str(meta.level()), meta.target(), msg.as_str()];
            out.push('{');
            for (i, (key, value)) in seen.iter().zip(head).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_pair(&mut out, key, &serde_json::Value::from(value));
            }
            for (key, value) in fields.rest {
                // A field named like one of ours keeps ours; the event's goes under `field_`.
                let key =
                    if seen.contains(&key) { format!("field_{key}") } else { key.to_string() };
                out.push(',');
                json_pair(&mut out, &key, &value.json());
            }
            out.push('}');
        }
    }
    out.push('\n');
    out
}

/// `"key":value`, both JSON-escaped.
fn json_pair(out: &mut String, key: &str, value: &serde_json::Value) {
    out.push_str(&serde_json::Value::from(key).to_string());
    out.push(':');
    out.push_str(&value.to_string());
}

/// Writes `v` bare when it is a plain word, else quoted with `\"`, `\\`, `\n`, `\r`, `\t` and
/// `\u{..}` escapes, so a value (a file name with a newline, say) can never forge a line or a key.
fn logfmt_value(out: &mut String, v: &str) {
    let plain = !v.is_empty()
        && v.chars().all(|c| !c.is_control() && !c.is_whitespace() && c != '"' && c != '=');
    if plain {
        out.push_str(v);
        return;
    }
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A field's value, typed for JSON.
#[derive(Debug)]
enum Value {
    Text(String),
    Int(i64),
    Uint(u64),
    Float(f64),
    Bool(bool),
}

impl Value {
    fn text(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Int(n) => n.to_string(),
            Value::Uint(n) => n.to_string(),
            Value::Float(x) => x.to_string(),
            Value::Bool(b) => b.to_string(),
        }
    }

    fn json(self) -> serde_json::Value {
        match self {
            Value::Text(s) => s.into(),
            Value::Int(n) => n.into(),
            Value::Uint(n) => n.into(),
            // NaN and infinities are not JSON numbers: written as text.
            Value::Float(x) => serde_json::Number::from_f64(x)
                .map_or_else(|| x.to_string().into(), serde_json::Value::Number),
            Value::Bool(b) => b.into(),
        }
    }
}

/// The event's `message` and its other fields in the order they were written.
#[derive(Debug, Default)]
struct Fields {
    message: Option<String>,
    rest: Vec<(&'static str, Value)>,
}

impl Fields {
    fn push(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = Some(value.text());
        } else {
            self.rest.push((field.name(), value));
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, Value::Text(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, Value::Text(value.to_string()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, Value::Int(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, Value::Uint(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, Value::Float(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, Value::Bool(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.push(field, Value::Text(value.to_string()));
    }
}

/// Lets one log line per key through per `period`; counts what it held back.
#[derive(Debug)]
pub struct RateLimiter {
    period: Duration,
    last: Mutex<HashMap<String, (Instant, u64)>>,
}

impl RateLimiter {
    /// A limiter that allows one line per key per `period`.
    pub fn new(period: Duration) -> Self {
        RateLimiter { period, last: Mutex::new(HashMap::new()) }
    }

    /// `Some(suppressed)` when a line for `key` may be logged now, with how many were held
    /// back since the last one; `None` when it must be dropped.
    pub fn check(&self, key: &str) -> Option<u64> {
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        match last.get_mut(key) {
            Some((at, held)) if now.duration_since(*at) < self.period => {
                *held += 1;
                None
            }
            Some((at, held)) => {
                let n = *held;
                *at = now;
                *held = 0;
                Some(n)
            }
            None => {
                last.insert(key.to_string(), (now, 0));
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// Runs `f` under a subscriber writing `format` lines into a buffer; returns the lines.
    fn capture(format: LogFormat, level: LogLevel, f: impl FnOnce()) -> Vec<String> {
        let buf = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = Arc::clone(&buf);
        let layer = LineLayer::new(format, move |line: &[u8]| {
            sink.lock().unwrap().extend_from_slice(line);
        });
        let subscriber = tracing_subscriber::registry().with(layer.with_filter(level.filter()));
        tracing::subscriber::with_default(subscriber, f);
        let text = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn logfmt_has_the_prometheus_tools_keys_in_order() {
        let lines = capture(LogFormat::Logfmt, LogLevel::Info, || {
            tracing::info!(address = %"127.0.0.1:62889", tls = false, n = 3u64, "Listening.");
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        let l = &lines[0];
        let rest = l.strip_prefix("ts=").unwrap();
        let (ts, rest) = rest.split_once(' ').unwrap();
        // 2026-12-07T10:26:48.123Z
        assert_eq!(ts.len(), 24, "{ts}");
        assert!(ts.ends_with('Z') && ts.as_bytes()[19] == b'.', "{ts}");
        assert_eq!(
            rest,
            "level=info caller=obwatch_common::logging::tests msg=Listening. \
             address=127.0.0.1:62889 tls=false n=3"
        );
    }

    #[test]
    fn logfmt_quotes_and_escapes_so_no_value_forges_a_line_or_a_key() {
        let name = "a b\n ts=0 level=error msg=\"forged\"\\\u{7}";
        let lines = capture(LogFormat::Logfmt, LogLevel::Info, || {
            tracing::warn!(path = name, empty = "", "Cannot read the file.");
        });
        assert_eq!(lines.len(), 1, "a newline in a value must not start a line: {lines:?}");
        assert!(
            lines[0].ends_with(
                r#"msg="Cannot read the file." path="a b\n ts=0 level=error msg=\"forged\"\\\u{7}" empty="""#
            ),
            "{}",
            lines[0]
        );
    }

    #[test]
    fn json_is_one_flat_object_with_typed_values() {
        let lines = capture(LogFormat::Json, LogLevel::Debug, || {
            tracing::debug!(count = 2u64, delta = -1i64, ratio = 0.5, ok = true, err = %"x\ny",
                msg = "clash", "Round done.");
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        let v: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(v["level"], "debug");
        assert_eq!(v["msg"], "Round done.");
        assert_eq!(v["field_msg"], "clash");
        assert_eq!(v["caller"], "obwatch_common::logging::tests");
        assert_eq!(v["count"], 2);
        assert_eq!(v["delta"], -1);
        assert_eq!(v["ratio"], 0.5);
        assert_eq!(v["ok"], true);
        assert_eq!(v["err"], "x\ny");
        assert!(v.get("fields").is_none(), "flat, not nested: {v}");
        assert!(lines[0].starts_with(r#"{"ts":""#), "{}", lines[0]);
        assert!(lines[0].contains(r#"Z","level":"debug","caller":"#), "{}", lines[0]);
    }

    #[test]
    fn level_filters_below_the_chosen_level() {
        let lines = capture(LogFormat::Logfmt, LogLevel::Warn, || {
            tracing::info!("hidden");
            tracing::warn!("shown");
            tracing::error!("also shown");
        });
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].contains("level=warn") && lines[1].contains("level=error"));
    }

    #[test]
    fn rate_limiter_holds_back_and_counts() {
        // A period long enough that no preemption on a loaded machine ends it between checks.
        let rl = RateLimiter::new(Duration::from_secs(1));
        assert_eq!(rl.check("cpu"), Some(0));
        assert_eq!(rl.check("cpu"), None);
        assert_eq!(rl.check("cpu"), None);
        assert_eq!(rl.check("meminfo"), Some(0));
        std::thread::sleep(Duration::from_millis(1050)); // the period itself is under test
        assert_eq!(rl.check("cpu"), Some(2));
    }
}
