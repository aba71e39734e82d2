//! Checksums of revision files, tagged with their algorithm.
//!
//! A stored checksum reads `sha256-v1:<hex>`. The tag names how the file was
//! normalised before hashing, so a later retort that normalises differently
//! adds a new tag and still verifies every checksum stored before it.

use sha2::{Digest, Sha256};

/// The algorithm new checksums use.
pub const CURRENT: Algorithm = Algorithm::Sha256V1;

/// How a checksum was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// SHA-256 of the raw bytes (no normalisation); read-only, for
    /// checksums recorded by tools that hashed files as they were.
    Sha256V0,
    /// SHA-256 of the text with a leading BOM removed, CRLF and CR turned
    /// into LF, trailing blanks removed from every line, and trailing blank
    /// lines removed.
    Sha256V1,
}

impl Algorithm {
    /// The tag before the `:`.
    pub fn tag(self) -> &'static str {
        match self {
            Algorithm::Sha256V0 => "sha256-v0",
            Algorithm::Sha256V1 => "sha256-v1",
        }
    }

    fn from_tag(tag: &str) -> Option<Algorithm> {
        match tag {
            "sha256-v0" => Some(Algorithm::Sha256V0),
            "sha256-v1" => Some(Algorithm::Sha256V1),
            _ => None,
        }
    }

    /// The tagged checksum of a file's text.
    pub fn checksum(self, text: &str) -> String {
        let digest = match self {
            Algorithm::Sha256V0 => Sha256::digest(text.as_bytes()),
            Algorithm::Sha256V1 => {
                let mut hasher = Sha256::new();
                normalised(text, |piece| hasher.update(piece));
                hasher.finalize()
            }
        };
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(74);
        out.push_str(self.tag());
        out.push(':');
        for byte in digest {
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        out
    }
}

/// The tagged checksum of `text` with the current algorithm.
pub fn checksum(text: &str) -> String {
    CURRENT.checksum(text)
}

/// The algorithm of a stored checksum, if retort knows it.
pub fn algorithm_of(stored: &str) -> Option<Algorithm> {
    stored
        .split_once(':')
        .and_then(|(tag, _)| Algorithm::from_tag(tag))
}

/// Whether `text` matches a stored checksum under the stored one's algorithm.
/// `None` when the algorithm is unknown (a newer retort wrote it).
pub fn matches(stored: &str, text: &str) -> Option<bool> {
    algorithm_of(stored).map(|a| a.checksum(text) == stored)
}

/// Feeds the normalised text to `out` piece by piece, without building it:
/// a BOM dropped, every line without its ending and trailing blanks, lines
/// joined by LF, trailing blank lines dropped. (Every upgrade checksums every
/// applied file, so copying each one first would be a cost per revision.)
fn normalised(text: &str, mut out: impl FnMut(&[u8])) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if is_tidy(text) {
        // Most files only differ from their normal form by trailing blank
        // lines: hash them in one piece rather than line by line.
        out(text.trim_end_matches(['\n', ' ', '\t']).as_bytes());
        return;
    }
    // Line breaks owed before the next non-empty line: a run of empty lines
    // is written only once something follows it.
    let mut owed = 0usize;
    let mut first = true;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        // A lone CR also ends a line (old Mac line endings).
        for part in line.split('\r') {
            if !first {
                owed += 1;
            }
            first = false;
            let part = part.trim_end_matches([' ', '\t']);
            if !part.is_empty() {
                for _ in 0..owed {
                    out(b"\n");
                }
                owed = 0;
                out(part.as_bytes());
            }
        }
    }
}

/// No CR anywhere and no line ending in a blank: normalising would only
/// drop what trails the last line.
fn is_tidy(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return true;
    };
    // One pass over byte pairs without an early exit, which the compiler
    // turns into vector code: a search per line, or a scan that stops at
    // the first match, cost as much as the hashing.
    let untidy = bytes
        .iter()
        .zip(&bytes[1..])
        .fold(first == b'\r', |found, (&a, &b)| {
            found | (b == b'\r') | ((b == b'\n') & ((a == b' ') | (a == b'\t')))
        });
    !untidy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_ignores_endings_bom_and_trailing_blanks() {
        let plain = "CREATE TABLE t (id int);\nDROP TABLE t;\n";
        let messy = "\u{feff}CREATE TABLE t (id int);  \r\nDROP TABLE t;\t\r\n\r\n\n";
        assert_eq!(checksum(plain), checksum(messy));
        assert_eq!(
            checksum(plain),
            checksum("CREATE TABLE t (id int);\rDROP TABLE t;")
        );
        assert_ne!(
            checksum(plain),
            checksum("CREATE TABLE t (id  int);\nDROP TABLE t;\n")
        );
        assert!(checksum(plain).starts_with("sha256-v1:"));
        assert_eq!(checksum(plain).len(), "sha256-v1:".len() + 64);
    }

    /// The plain definition the streaming version must match.
    fn reference(text: &str) -> String {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut out = String::new();
        for line in text.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            for part in line.split('\r') {
                out.push_str(part.trim_end_matches([' ', '\t']));
                out.push('\n');
            }
        }
        while out.ends_with('\n') {
            out.pop();
        }
        out
    }

    #[test]
    fn streaming_matches_the_definition() {
        let cases = [
            "",
            "\n",
            "\n\nx",
            "a\n\n\nb\n\n",
            "  \n\t\nSELECT 1;   \r\n\r\n",
            "\u{feff}\r\rx\r",
            "a \n \nb",
            "a\n\nb\n \n\t",
            "tidy\n\n  indented\nlast  ",
            "\u{feff}tidy\n",
        ];
        for text in cases {
            let mut streamed = Vec::new();
            normalised(text, |p| streamed.extend_from_slice(p));
            assert_eq!(
                String::from_utf8(streamed).unwrap(),
                reference(text),
                "{text:?}"
            );
        }
    }

    proptest::proptest! {
        /// Texts built from the characters normalisation cares about, so
        /// both the one-piece and the line-by-line path are exercised.
        #[test]
        fn any_text_streams_to_the_definition(text in "\u{feff}?[a \t\r\n]{0,40}") {
            let mut streamed = Vec::new();
            normalised(&text, |p| streamed.extend_from_slice(p));
            proptest::prop_assert_eq!(String::from_utf8(streamed).unwrap(), reference(&text));
        }
    }

    #[test]
    fn stored_checksums_keep_their_algorithm() {
        let text = "SELECT 1;\r\n";
        let v0 = Algorithm::Sha256V0.checksum(text);
        assert_eq!(matches(&v0, text), Some(true));
        assert_eq!(matches(&v0, "SELECT 1;\n"), Some(false));
        assert_eq!(matches("sha999-v9:abc", text), None);
        assert_eq!(
            Algorithm::Sha256V0.checksum(""),
            "sha256-v0:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
