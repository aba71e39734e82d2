//! Positions in files read as text, for errors that name a line.

/// The 1-based line of byte offset `at`.
pub(crate) fn line_at(bytes: &[u8], at: usize) -> usize {
    memchr::memchr_iter(b'\n', &bytes[..at.min(bytes.len())]).count() + 1
}

/// `bytes` as UTF-8, or the line of the first byte that is not.
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, usize> {
    std::str::from_utf8(bytes).map_err(|e| line_at(bytes, e.valid_up_to()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_offsets_and_bad_bytes() {
        assert_eq!(line_at(b"a\nb\nc", 0), 1);
        assert_eq!(line_at(b"a\nb\nc", 2), 2);
        assert_eq!(line_at(b"a\nb\nc", 99), 3);
        assert_eq!(utf8(b"ok\nfine"), Ok("ok\nfine"));
        assert_eq!(utf8(b"ok\n\nbad \xff here"), Err(3));
    }
}
