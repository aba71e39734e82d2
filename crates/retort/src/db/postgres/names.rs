//! Names as PostgreSQL writes and chooses them: identifiers quoted only
//! when they must be, and the names the server gives constraints the user
//! did not name.

use crate::db::ddl_text;
use crate::schema::Name;

/// An identifier, quoted unless it is a lowercase plain name that is not
/// a keyword (what `quote_ident` leaves bare).
pub(super) fn ident(name: &str) -> String {
    ddl_text::quote_unless_plain(name, KEYWORDS)
}

/// A name, with its schema when it has one.
pub(super) fn qualified(name: &Name) -> String {
    match &name.schema {
        Some(schema) => format!("{}.{}", ident(schema), ident(&name.name)),
        None => ident(&name.name),
    }
}

/// Identifiers, comma-separated.
pub(super) fn idents(names: &[String]) -> String {
    ddl_text::list(names, ident)
}

pub(super) use ddl_text::literal;

/// The longest name the server keeps (NAMEDATALEN - 1 bytes).
const MAX_NAME: usize = 63;

/// Whether `name` is the one PostgreSQL gives a constraint on `table`
/// left unnamed: `<table>_<addition>_<label>`, cut to fit as the server
/// cuts it (`makeObjectName`), with a number after the label when the
/// first choice was taken (`ChooseConstraintName`).
pub(super) fn is_generated(name: &str, table: &str, addition: Option<&str>, label: &str) -> bool {
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let pass = &name[name.len() - digits..];
    let label = if pass.is_empty() || pass.starts_with('0') {
        label.to_owned()
    } else {
        format!("{label}{pass}")
    };
    name == object_name(table, addition, &label)
}

/// `makeObjectName`: the longer of the two parts is shortened, a byte at
/// a time, until the whole fits.
fn object_name(table: &str, addition: Option<&str>, label: &str) -> String {
    let overhead = label.len() + 1 + usize::from(addition.is_some());
    let available = MAX_NAME.saturating_sub(overhead);
    let mut first = table.len();
    let mut second = addition.map_or(0, str::len);
    while first + second > available {
        if first > second {
            first -= 1;
        } else {
            second -= 1;
        }
    }
    let mut name = clip(table, first).to_owned();
    if let Some(addition) = addition {
        name.push('_');
        name.push_str(clip(addition, second));
    }
    name.push('_');
    name.push_str(label);
    name
}

/// The longest prefix of `text` of at most `bytes` bytes that ends on a
/// character boundary.
fn clip(text: &str, bytes: usize) -> &str {
    let mut end = bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The keywords `quote_ident` quotes (all but the unreserved ones, from
/// `pg_get_keywords()`, through PostgreSQL 17), sorted.
const KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "json",
    "json_array",
    "json_arrayagg",
    "json_exists",
    "json_object",
    "json_objectagg",
    "json_query",
    "json_scalar",
    "json_serialize",
    "json_table",
    "json_value",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "merge_action",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_only_when_they_must_be() {
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]), "sorted");
        assert_eq!(ident("users"), "users");
        assert_eq!(ident("_x1"), "_x1");
        assert_eq!(ident("user"), "\"user\"");
        assert_eq!(ident("Users"), "\"Users\"");
        assert_eq!(ident("a b"), "\"a b\"");
        assert_eq!(ident("1a"), "\"1a\"");
        assert_eq!(ident("say\"hi"), "\"say\"\"hi\"");
        assert_eq!(qualified(&Name::in_schema("Other", "t")), "\"Other\".t");
    }

    #[test]
    fn server_chosen_names_are_recognised() {
        assert!(is_generated("t_pkey", "t", None, "pkey"));
        assert!(is_generated("t_pkey1", "t", None, "pkey"));
        assert!(!is_generated("t_pk", "t", None, "pkey"));
        assert!(is_generated("t_a_b_key", "t", Some("a_b"), "key"));
        assert!(is_generated("t_a_b_key12", "t", Some("a_b"), "key"));
        assert!(!is_generated("t_a_key", "t", Some("a_b"), "key"));
        assert!(is_generated("t_c1_check", "t", Some("c1"), "check"));
        assert!(is_generated("t_check", "t", None, "check"));
        assert!(is_generated(
            "orders_user_id_fkey",
            "orders",
            Some("user_id"),
            "fkey"
        ));
        // The longer part gives way until the name fits in 63 bytes.
        let table = "a".repeat(60);
        let name = format!("{}_{}_fkey", "a".repeat(29), "b".repeat(28));
        assert_eq!(name.len(), 63);
        assert!(is_generated(&name, &table, Some(&"b".repeat(40)), "fkey"));
    }
}
