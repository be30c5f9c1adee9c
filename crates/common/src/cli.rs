//! What the three `main.rs` share when they talk to the terminal: messages on stderr that
//! never abort. `eprintln!` panics when stderr is closed (`obwatch-logtailer check ... 2>&1 |
//! head -1`), and with `panic = "abort"` that was a SIGABRT (exit 134) instead of the
//! documented exit code; [`stderr!`](crate::stderr) drops the message instead.

/// `eprintln!` that ignores a closed or full stderr.
#[macro_export]
macro_rules! stderr {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stderr().lock(), $($arg)*);
    }};
}

/// True for the error a write to a closed pipe gives (`... | head`): the reader is gone, which
/// is no failure of ours, so the caller stops writing and exits with the code it has.
pub fn is_broken_pipe(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::BrokenPipe
}
