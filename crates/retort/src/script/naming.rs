//! Names for new revisions: ids and file names from `migrations.file_template`.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::time::UtcTime;

/// Slugs longer than this are cut at a word boundary (Alembic's
/// `truncate_slug_length` default).
const SLUG_MAX: usize = 40;

/// A new random revision id: 12 lowercase hex characters.
pub fn new_revision_id() -> String {
    // RandomState is seeded from the OS's random source; hashing the clock
    // through it gives unpredictable bits without a random-number dependency.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let bits = RandomState::new().hash_one((nanos, std::process::id()));
    format!("{:012x}", bits & 0xffff_ffff_ffff)
}

/// The message as a file-name slug: lowercase words joined by `_`.
pub fn slug(message: &str) -> String {
    let words: Vec<String> = message
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut slug = words.join("_");
    if slug.len() > SLUG_MAX {
        slug.truncate(SLUG_MAX);
        if let Some(cut) = slug.rfind('_') {
            slug.truncate(cut);
        }
    }
    slug
}

/// The file name (with `.sql`) for a new revision.
///
/// Tokens: `{date}` (YYYYMMDD), `{time}` (HHMM), `{year}`, `{month}`,
/// `{day}`, `{hour}`, `{minute}`, `{second}`, `{epoch}`, `{rev}`, `{slug}`.
/// The configuration is validated when loaded, so unknown tokens stay as is.
pub(crate) fn file_name(template: &str, now: &UtcTime, revision: &str, message: &str) -> String {
    let name = template
        .replace(
            "{date}",
            &format!("{:04}{:02}{:02}", now.year, now.month, now.day),
        )
        .replace("{time}", &format!("{:02}{:02}", now.hour, now.minute))
        .replace("{year}", &format!("{:04}", now.year))
        .replace("{month}", &format!("{:02}", now.month))
        .replace("{day}", &format!("{:02}", now.day))
        .replace("{hour}", &format!("{:02}", now.hour))
        .replace("{minute}", &format!("{:02}", now.minute))
        .replace("{second}", &format!("{:02}", now.second))
        .replace("{epoch}", &now.epoch.to_string())
        .replace("{rev}", revision)
        .replace("{slug}", &slug(message));
    // An empty slug would leave `…_.sql`.
    let name = name.trim_end_matches(['_', '-', '.', ' ']);
    format!("{name}.sql")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_12_hex_and_differ() {
        let a = new_revision_id();
        let b = new_revision_id();
        assert_eq!(a.len(), 12);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Add users table!"), "add_users_table");
        assert_eq!(slug("  "), "");
        assert_eq!(
            slug("add a rather long message that goes on and on and on"),
            "add_a_rather_long_message_that_goes_on"
        );
    }

    #[test]
    fn file_names() {
        let now = UtcTime::from_epoch(1_795_271_400);
        assert_eq!(
            file_name(
                "{date}_{time}_{rev}_{slug}",
                &now,
                "3a4feffbb7a1",
                "add users"
            ),
            "20261121_1430_3a4feffbb7a1_add_users.sql"
        );
        assert_eq!(file_name("{rev}_{slug}", &now, "ab", ""), "ab.sql");
        assert_eq!(
            file_name(
                "{year}-{month}-{day}_{hour}{minute}{second}_{epoch}",
                &now,
                "x",
                "y"
            ),
            "2026-11-21_143000_1795271400.sql"
        );
    }
}
