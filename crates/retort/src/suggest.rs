//! "Did you mean …?": the known word closest to a mistyped one.

/// The candidate closest to `word` by edit distance (a transposition
/// counts as one edit), if it is close enough to be a typo: one edit per
/// four characters, at least one, and none for words under three
/// characters. A candidate longer than a word of four or more characters
/// is also compared by its prefix, so a mistyped prefix of a revision id
/// finds the id.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word: Vec<char> = word.chars().collect();
    if word.len() < 3 {
        return None;
    }
    let limit = (word.len() / 4).max(1);
    // The closest candidate, and whether another one is as close: a
    // guess between equals (`r09` among `r01`…`r08`) helps nobody.
    let mut best: Option<(usize, &str, bool)> = None;
    for candidate in candidates {
        let chars: Vec<char> = candidate.chars().collect();
        let mut distance = edit_distance(&word, &chars);
        if chars.len() > word.len() && word.len() >= 4 {
            distance = distance.min(edit_distance(&word, &chars[..word.len()]));
        }
        if distance > limit {
            continue;
        }
        best = match best {
            Some((d, b, _)) if d == distance && b != candidate => Some((d, b, true)),
            Some((d, ..)) if d <= distance => best,
            _ => Some((distance, candidate, false)),
        };
    }
    best.filter(|&(_, _, tied)| !tied)
        .map(|(_, candidate, _)| candidate)
}

/// Optimal string alignment distance: insertions, deletions,
/// substitutions and adjacent transpositions.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let width = b.len() + 1;
    let mut rows = vec![0usize; (a.len() + 1) * width];
    let at = |i: usize, j: usize| i * width + j;
    for i in 0..=a.len() {
        rows[at(i, 0)] = i;
    }
    for j in 0..=b.len() {
        rows[at(0, j)] = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[at(i - 1, j)] + 1)
                .min(rows[at(i, j - 1)] + 1)
                .min(rows[at(i - 1, j - 1)] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[at(i - 2, j - 2)] + 1);
            }
            rows[at(i, j)] = best;
        }
    }
    rows[at(a.len(), b.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_the_word() {
        let words = ["revision", "revises", "message", "downgrade", "upgrade"];
        assert_eq!(closest("revisez", words), Some("revises"));
        assert_eq!(closest("mesage", words), Some("message"));
        assert_eq!(closest("downgrade", words), Some("downgrade"));
        assert_eq!(closest("ugprade", words), Some("upgrade"));
        assert_eq!(closest("branch", words), None);
        assert_eq!(closest("x", words), None);
        assert_eq!(closest("r09", ["r01", "r02", "r03"]), None);
        assert_eq!(closest("r09", ["r01", "r19"]), None);
        assert_eq!(closest("r091", ["r090", "s11"]), Some("r090"));
    }

    #[test]
    fn a_mistyped_prefix_finds_the_id() {
        let ids = ["3a4feffbb7a1", "0c90191dbca7"];
        assert_eq!(closest("3a4fefb", ids), Some("3a4feffbb7a1"));
        assert_eq!(closest("3a4feffbb7a2", ids), Some("3a4feffbb7a1"));
        assert_eq!(closest("0c91", ids), Some("0c90191dbca7"));
        assert_eq!(closest("ffff", ids), None);
    }
}
