//! Input for the property tests that feed parsers and config loaders broken text (no panic on
//! input): a known-good text with a few byte edits, and how many cases to run.

/// One edit: at `pos` (modulo the length), `0` replaces the byte with `byte`, `1` inserts
/// `byte`, `2` deletes the byte.
pub type Edit = (u16, u8, u8);

/// `text` with `edits` applied and then cut to `keep` (modulo its length + 1) bytes, unless
/// `keep` is `u16::MAX`, as text
/// (invalid UTF-8 replaced, as a reader using `from_utf8_lossy` would see it).
pub fn mutate(text: &str, edits: &[Edit], keep: u16) -> String {
    let mut b = text.as_bytes().to_vec();
    for &(pos, byte, kind) in edits {
        let at = usize::from(pos) % (b.len() + 1);
        match kind % 3 {
            0 if at < b.len() => b[at] = byte,
            1 => b.insert(at, byte),
            2 if at < b.len() => {
                b.remove(at);
            }
            _ => {}
        }
    }
    if keep != u16::MAX {
        b.truncate(usize::from(keep) % (b.len() + 1));
    }
    String::from_utf8_lossy(&b).into_owned()
}

/// Cases per property: `FUZZ_CASES` when set (a longer run by hand), else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_and_cuts() {
        assert_eq!(mutate("abc", &[(1, b'X', 0)], u16::MAX), "aXc");
        assert_eq!(mutate("abc", &[(0, b'X', 1)], u16::MAX), "Xabc");
        assert_eq!(mutate("abc", &[(2, 0, 2)], u16::MAX), "ab");
        assert_eq!(mutate("abcdef", &[], 3), "abc");
        assert_eq!(mutate("", &[(5, b'x', 0)], 9), "");
    }
}
