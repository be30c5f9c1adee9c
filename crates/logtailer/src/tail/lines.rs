//! Byte-oriented line splitting for one file: a partial last line is held until its newline
//! (or until the caller decides it has waited long enough), an over-long line is cut at the
//! limit and the rest of it skipped. Pure: no I/O, no clock; `reader` feeds it bytes and
//! offsets.
//!
//! Lines are bytes, not `String`: a log with a stray Latin-1 byte must not lose the line
//! (linemux#70 drops it with "stream did not contain valid UTF-8"; reference A.6). Display
//! code converts with `String::from_utf8_lossy`.

use std::ops::Range;

/// One line handed out by the engine, borrowed from its [`Batch`](super::Batch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line<'a> {
    /// The line's bytes without the trailing `\n` (a `\r` before it is kept).
    pub bytes: &'a [u8],
    /// Byte offset of the line's first byte in its file.
    pub offset: u64,
    /// True when the line was longer than `max_line_bytes` and only its head is here.
    pub cut: bool,
    /// True when the line had no newline yet and was emitted because the partial-line
    /// timeout passed (or the file was truncated or left under it).
    pub partial: bool,
}

/// Where a line's bytes are in a batch's buffer, and what is known about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LineMeta {
    pub(crate) range: Range<usize>,
    pub(crate) offset: u64,
    pub(crate) cut: bool,
    pub(crate) partial: bool,
}

/// Output of the splitter: line bytes packed in one buffer (one allocation per batch, not per
/// line) plus where each line is.
#[derive(Debug, Default)]
pub(crate) struct LineSink {
    pub(crate) buf: Vec<u8>,
    pub(crate) lines: Vec<LineMeta>,
    /// Lines cut because they were longer than the limit.
    pub(crate) cut_lines: u64,
}

impl LineSink {
    fn push(&mut self, bytes: &[u8], offset: u64, cut: bool, partial: bool) {
        let start = self.buf.len();
        self.buf.extend_from_slice(bytes);
        self.lines.push(LineMeta { range: start..self.buf.len(), offset, cut, partial });
        if cut {
            self.cut_lines += 1;
        }
    }
}

/// Splits a byte stream into lines. Holds at most `max_line_bytes` of a pending line.
#[derive(Debug)]
pub(crate) struct Splitter {
    max_line_bytes: usize,
    /// Bytes of the current, not yet terminated line (at most `max_line_bytes`).
    pending: Vec<u8>,
    /// File offset of `pending[0]` (or of the line being skipped).
    pending_offset: u64,
    /// The current line passed the limit: its head is in `pending`, the rest is skipped.
    skipping: bool,
}

impl Splitter {
    pub(crate) fn new(max_line_bytes: usize) -> Self {
        Splitter {
            max_line_bytes: max_line_bytes.max(1),
            pending: Vec::new(),
            pending_offset: 0,
            skipping: false,
        }
    }

    /// Forgets any pending line and starts at `offset` (a new file, or a truncated one after
    /// `flush`).
    pub(crate) fn reset(&mut self, offset: u64) {
        self.pending.clear();
        self.pending_offset = offset;
        self.skipping = false;
    }

    /// True when bytes of an unterminated line are held.
    pub(crate) fn has_pending(&self) -> bool {
        !self.pending.is_empty() || self.skipping
    }

    /// Offset just after the last complete line handed out: where a restart must resume so
    /// that the pending line is read again in full.
    pub(crate) fn line_start(&self) -> u64 {
        self.pending_offset
    }

    /// Feeds `data`, which starts at file offset `offset` (the end of what was fed before).
    pub(crate) fn feed(&mut self, data: &[u8], offset: u64, out: &mut LineSink) {
        let mut rest = data;
        let mut at = offset;
        while !rest.is_empty() {
            match memchr::memchr(b'\n', rest) {
                Some(i) => {
                    self.take(&rest[..i]);
                    let cut = self.skipping;
                    out.push(&self.pending, self.pending_offset, cut, false);
                    at += i as u64 + 1;
                    rest = &rest[i + 1..];
                    self.reset(at);
                }
                None => {
                    self.take(rest);
                    rest = &[];
                }
            }
        }
    }

    /// Emits the pending line as it is (timeout passed, file truncated or left for good).
    /// Returns the offset just after its last byte seen, which is where reading resumes.
    pub(crate) fn flush(&mut self, end_offset: u64, out: &mut LineSink) {
        if self.has_pending() {
            out.push(&self.pending, self.pending_offset, self.skipping, true);
        }
        self.reset(end_offset);
    }

    fn take(&mut self, bytes: &[u8]) {
        let room = self.max_line_bytes.saturating_sub(self.pending.len());
        if bytes.len() > room {
            self.skipping = true;
        }
        self.pending.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(sink: &LineSink) -> Vec<(&[u8], u64, bool, bool)> {
        sink.lines
            .iter()
            .map(|m| (&sink.buf[m.range.clone()], m.offset, m.cut, m.partial))
            .collect()
    }

    #[test]
    fn splits_across_feeds_and_keeps_offsets() {
        let mut s = Splitter::new(100);
        let mut out = LineSink::default();
        s.feed(b"ab\ncd", 0, &mut out);
        assert!(s.has_pending());
        assert_eq!(s.line_start(), 3);
        s.feed(b"e\n\nf", 5, &mut out);
        assert_eq!(
            lines(&out),
            vec![(&b"ab"[..], 0, false, false), (b"cde", 3, false, false), (b"", 7, false, false)]
        );
        assert_eq!(s.line_start(), 8);
        s.flush(9, &mut out);
        assert_eq!(lines(&out)[3], (&b"f"[..], 8, false, true));
        assert!(!s.has_pending());
    }

    #[test]
    fn cuts_long_lines_and_counts_them() {
        let mut s = Splitter::new(4);
        let mut out = LineSink::default();
        s.feed(b"0123456", 0, &mut out);
        s.feed(b"789\nxy\n", 7, &mut out);
        assert_eq!(lines(&out), vec![(&b"0123"[..], 0, true, false), (b"xy", 11, false, false)]);
        assert_eq!(out.cut_lines, 1);
        assert_eq!(s.line_start(), 14);
    }

    #[test]
    fn keeps_invalid_utf8() {
        let mut s = Splitter::new(100);
        let mut out = LineSink::default();
        s.feed(b"\xff\xfeok\n", 0, &mut out);
        assert_eq!(lines(&out), vec![(&b"\xff\xfeok"[..], 0, false, false)]);
    }
}
