//! `scan`'s progress line: on a terminal, once a file has taken more than a couple of
//! seconds, one line on stderr rewritten in place (file, lines, bytes, matches, speed), cleared
//! when the file is done, so the output (stdout) and a redirected stderr stay clean.

use std::io::{IsTerminal as _, Write};
use std::time::{Duration, Instant};

/// Writes the progress of one file to a terminal.
pub struct Progress {
    out: Option<Box<dyn Write>>,
    /// Quiet until the file has taken this long.
    delay: Duration,
    /// At most one update per this long.
    every: Duration,
    started: Instant,
    last: Option<Instant>,
    file: String,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("on", &self.out.is_some())
            .field("file", &self.file)
            .finish()
    }
}

impl Progress {
    /// Progress on stderr when it is a terminal, else none.
    pub fn stderr() -> Progress {
        let out: Option<Box<dyn Write>> =
            std::io::stderr().is_terminal().then(|| Box::new(std::io::stderr()) as Box<dyn Write>);
        Progress::to(out, Duration::from_secs(2), Duration::from_millis(250))
    }

    /// Progress to `out` (none: nothing is written), after `delay`, every `every`.
    pub fn to(out: Option<Box<dyn Write>>, delay: Duration, every: Duration) -> Progress {
        Progress { out, delay, every, started: Instant::now(), last: None, file: String::new() }
    }

    /// A new file starts.
    pub fn start(&mut self, file: &str) {
        self.file = file.to_string();
        self.started = Instant::now();
        self.last = None;
    }

    /// Called after each chunk with the totals so far.
    pub fn update(&mut self, lines: u64, bytes: u64, matches: u64) {
        let Some(out) = self.out.as_mut() else { return };
        let now = Instant::now();
        let elapsed = now.duration_since(self.started);
        if elapsed < self.delay || self.last.is_some_and(|l| now.duration_since(l) < self.every) {
            return;
        }
        self.last = Some(now);
        let mib = bytes as f64 / (1024.0 * 1024.0);
        let _ = write!(
            out,
            "\r\x1b[Kscanning {}: {lines} lines, {mib:.0} MiB, {matches} matches, {:.0} MiB/s",
            self.file,
            mib / elapsed.as_secs_f64()
        );
        let _ = out.flush();
    }

    /// The file is done: the line goes.
    pub fn finish(&mut self) {
        if let (Some(out), Some(_)) = (self.out.as_mut(), self.last) {
            let _ = write!(out, "\r\x1b[K");
            let _ = out.flush();
        }
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn quiet_at_first_then_one_line_rewritten_then_cleared() {
        let sink = Shared::default();
        let text = || String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let mut p =
            Progress::to(Some(Box::new(sink.clone())), Duration::from_secs(3600), Duration::ZERO);
        p.start("observer.log");
        p.update(10, 1 << 20, 1);
        p.finish();
        assert_eq!(text(), "", "a quick file says nothing");
        let mut p = Progress::to(Some(Box::new(sink.clone())), Duration::ZERO, Duration::ZERO);
        p.start("observer.log");
        p.update(1000, 5 << 20, 3);
        assert!(
            text().starts_with("\r\x1b[Kscanning observer.log: 1000 lines, 5 MiB, 3 matches, "),
            "{}",
            text()
        );
        p.finish();
        assert!(text().ends_with("\r\x1b[K"), "cleared: {:?}", text());
        // Not a terminal: nothing at all.
        let mut p = Progress::to(None, Duration::ZERO, Duration::ZERO);
        p.start("x");
        p.update(1, 1, 1);
        p.finish();
    }
}
