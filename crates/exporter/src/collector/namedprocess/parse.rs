//! Pure parsers for the per-process files the namedprocess collector reads:
//! `/proc/PID/stat`, the `VmSwap` line of `/proc/PID/status` and `/proc/PID/cmdline`
//! (field numbers and formats from proc(5)).

/// The fields of `/proc/PID/stat` the collector uses (proc(5) numbering in brackets).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat<'a> {
    /// (2) `comm`: the executable's name, truncated by the kernel to 15 bytes (TASK_COMM_LEN).
    pub comm: &'a str,
    /// (14) `utime`: user-mode CPU time, in clock ticks.
    pub utime: u64,
    /// (15) `stime`: kernel-mode CPU time, in clock ticks.
    pub stime: u64,
    /// (20) `num_threads`.
    pub num_threads: u64,
    /// (22) `starttime`: clock ticks after boot when the process started.
    pub starttime: u64,
    /// (23) `vsize`: virtual memory size in bytes.
    pub vsize: u64,
    /// (24) `rss`: resident set size in pages.
    pub rss_pages: u64,
}

/// Parses one `/proc/PID/stat` line. `comm` sits between the first `(` and the *last* `)`:
/// it may itself contain spaces and parentheses (`(sd-pam)` shows as `((sd-pam))`), so the
/// numeric fields are counted from the last `)`.
pub fn stat(text: &str) -> Result<Stat<'_>, String> {
    let open = text.find('(').ok_or("no `(` before comm")?;
    let close = text.rfind(')').ok_or("no `)` after comm")?;
    if close < open {
        return Err("`)` before `(`".into());
    }
    let comm = &text[open + 1..close];
    // Fields from (3) `state` on; index 0 here is field 3.
    let mut fields = text[close + 1..].split_ascii_whitespace();
    let mut at = 3;
    let mut field = |n: usize| -> Result<u64, String> {
        let f = fields.nth(n - at).ok_or_else(|| format!("missing field {n}"))?;
        at = n + 1;
        f.parse().map_err(|_| format!("field {n} {f:?} is not a number"))
    };
    let utime = field(14)?;
    let stime = field(15)?;
    let num_threads = field(20)?;
    let starttime = field(22)?;
    let vsize = field(23)?;
    let rss_pages = field(24)?;
    Ok(Stat { comm, utime, stime, num_threads, starttime, vsize, rss_pages })
}

/// Swapped-out memory in bytes from `/proc/PID/status` (`VmSwap:  1234 kB`, kernel 2.6.34+;
/// process-exporter's `swapped`). Kernel threads and older kernels have no such line: 0.
pub fn status_swap_bytes(text: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix("VmSwap:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// argv\[0\] from raw `/proc/PID/cmdline` bytes (NUL-separated, usually NUL-terminated).
/// Programs that rewrite their arguments (Oracle's `ora_lmon_ORCL1`, setproctitle) may pad
/// with spaces or NULs; trailing blanks are dropped.
pub fn argv0(cmdline: &[u8]) -> &[u8] {
    let first = cmdline.split(|&b| b == 0).next().unwrap_or_default();
    let end = first.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |i| i + 1);
    &first[..end]
}

/// Appends the arguments joined by single spaces to `out` (process-exporter joins `cmdline`
/// the same way before matching its regexes). Trailing NULs and blanks are dropped.
pub fn join_cmdline(cmdline: &[u8], out: &mut String) {
    out.clear();
    let trimmed = match cmdline.iter().rposition(|&b| b != 0 && !b.is_ascii_whitespace()) {
        Some(i) => &cmdline[..=i],
        None => return,
    };
    for (i, arg) in trimmed.split(|&b| b == 0).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&String::from_utf8_lossy(arg));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured on this project's CI host (kernel 6.18): PID 1 and `cat /proc/self/stat`.
    const INIT: &str = "1 (process_api) S 0 0 0 0 -1 4194560 27617 274564 0 175 267 557 962 496 \
        20 0 13 0 21 39768064 2516 18446744073709551615 1 1 0 0 0 0 0 4096 1256 0 0 0 17 0 0 0 \
        0 0 0 0 0 0 0 0 0 0 0\n";
    const CAT: &str = "2565 (cat) R 2562 2562 1859 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 \
        441219 3133440 398 18446744073709551615 94471946350592 94471946370473 140728195905200 \
        0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 94471946386480 94471946388096 94472462155776 \
        140728195910372 140728195910392 140728195910392 140728195911659 0\n";
    /// Written in the shape of systemd's per-user `(sd-pam)` helper: parentheses inside comm.
    const SD_PAM: &str = "1402 ((sd-pam)) S 1401 1401 1401 0 -1 1077936448 49 0 0 0 0 0 0 0 20 \
        0 1 0 2312 105472000 1296 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 0 0 0 0 0 \
        0 0 0 0 0 0 0 0 0\n";

    #[test]
    fn parses_real_stat_lines() {
        let s = stat(INIT).unwrap();
        assert_eq!(
            s,
            Stat {
                comm: "process_api",
                utime: 267,
                stime: 557,
                num_threads: 13,
                starttime: 21,
                vsize: 39768064,
                rss_pages: 2516
            }
        );
        let s = stat(CAT).unwrap();
        assert_eq!((s.comm, s.starttime, s.rss_pages), ("cat", 441219, 398));
        let s = stat(SD_PAM).unwrap();
        assert_eq!((s.comm, s.num_threads, s.vsize), ("(sd-pam)", 1, 105472000));
    }

    #[test]
    fn comm_with_spaces_and_close_paren() {
        let line = "77 (a) b c) S 1 77 77 0 -1 0 0 0 0 0 5 6 0 0 20 0 2 0 99 4096 3 0\n";
        let s = stat(line).unwrap();
        assert_eq!((s.comm, s.utime, s.stime, s.num_threads, s.starttime), ("a) b c", 5, 6, 2, 99));
    }

    #[test]
    fn rejects_truncated_or_odd_stat() {
        assert!(stat("").unwrap_err().contains("no `(`"));
        assert!(stat("1 (x) S 0 0").unwrap_err().contains("missing field 14"));
        let bad = INIT.replace(" 557 ", " x ");
        assert!(stat(&bad).unwrap_err().contains("field 15 \"x\""));
    }

    #[test]
    fn swap_from_status() {
        // Excerpt of /proc/1/status on the same host, and a kernel thread (no Vm* lines).
        let status =
            "Name:\tprocess_api\nVmRSS:\t   10064 kB\nVmSwap:\t       0 kB\nThreads:\t13\n";
        assert_eq!(status_swap_bytes(status), 0);
        assert_eq!(status_swap_bytes("Name:\tocssd.bin\nVmSwap:\t    2048 kB\n"), 2 << 20);
        assert_eq!(status_swap_bytes("Name:\tkthreadd\nThreads:\t1\n"), 0);
    }

    #[test]
    fn argv0_and_cmdline() {
        let raw = b"/u01/app/19.0.0/grid/bin/ocssd.bin \0";
        assert_eq!(argv0(raw), b"/u01/app/19.0.0/grid/bin/ocssd.bin");
        // Oracle background processes overwrite argv with their name, padded with blanks.
        assert_eq!(argv0(b"ora_lmon_ORCL1                 "), b"ora_lmon_ORCL1");
        assert_eq!(argv0(b""), b"");
        let mut s = String::new();
        join_cmdline(b"/process_api\0--firecracker-init\0--addr\x000.0.0.0:2024\0", &mut s);
        assert_eq!(s, "/process_api --firecracker-init --addr 0.0.0.0:2024");
        join_cmdline(b"\0\0", &mut s);
        assert_eq!(s, "");
    }
}
