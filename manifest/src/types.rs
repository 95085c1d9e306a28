//! Column types: one spelling per type, and which changes are safe.

/// Spells a type the way PostgreSQL's `format_type()` does, so that the
/// manifest and the catalog can be compared as strings: `varchar(64)` becomes
/// `character varying(64)`, `timestamptz` becomes `timestamp with time zone`,
/// `int4[]` becomes `integer[]`. Types it does not know are lowercased as written.
pub fn canonical_type(sql_type: &str) -> String {
    let lowered = sql_type
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    let (base, dims) = split_array(&lowered);
    let (name, args) = match base.split_once('(') {
        Some((name, rest)) if rest.ends_with(')') => {
            let args: String = rest
                .strip_suffix(')')
                .unwrap_or(rest)
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            (name.trim(), Some(args))
        }
        _ => (base, None),
    };
    let args_text = args
        .as_deref()
        .map(|a| format!("({a})"))
        .unwrap_or_default();
    let spelled = match name {
        "int2" | "smallint" => "smallint".to_owned(),
        "int" | "int4" | "integer" => "integer".to_owned(),
        "int8" | "bigint" => "bigint".to_owned(),
        "float4" | "real" => "real".to_owned(),
        "float8" | "float" | "double precision" => "double precision".to_owned(),
        "bool" | "boolean" => "boolean".to_owned(),
        "varchar" | "character varying" => format!("character varying{args_text}"),
        "char" | "character" | "bpchar" => {
            format!(
                "character{}",
                args.map_or("(1)".to_owned(), |a| format!("({a})"))
            )
        }
        "decimal" | "numeric" => format!("numeric{args_text}"),
        "timestamp" | "timestamp without time zone" => {
            format!("timestamp{args_text} without time zone")
        }
        "timestamptz" | "timestamp with time zone" => {
            format!("timestamp{args_text} with time zone")
        }
        "time" | "time without time zone" => format!("time{args_text} without time zone"),
        "timetz" | "time with time zone" => format!("time{args_text} with time zone"),
        other => format!("{other}{args_text}"),
    };
    format!("{spelled}{dims}")
}

/// True when `sql_type` (canonical or not) names a type PostgreSQL has
/// built in, whose spelling [`canonical_type`] knows: `numeric(12,2)`,
/// `text[]`. False for a type of a schema (`public.citext`), an
/// extension's or a domain, whatever the server calls it.
pub fn is_builtin_type(sql_type: &str) -> bool {
    let canonical = canonical_type(sql_type);
    let (base, _) = split_array(&canonical);
    let name = base.split_once('(').map_or(base, |(name, _)| name).trim();
    let name = name
        .strip_suffix(" without time zone")
        .or_else(|| name.strip_suffix(" with time zone"))
        .unwrap_or(name);
    let name = name.split_once('(').map_or(name, |(name, _)| name);
    BUILT_IN.contains(&name)
}

/// The names of the built-in types, as [`canonical_type`] spells them.
const BUILT_IN: &[&str] = &[
    "smallint",
    "integer",
    "bigint",
    "real",
    "double precision",
    "boolean",
    "character varying",
    "character",
    "numeric",
    "timestamp",
    "time",
    "text",
    "bytea",
    "date",
    "uuid",
    "json",
    "jsonb",
    "interval",
    "inet",
    "cidr",
    "macaddr",
    "macaddr8",
    "money",
    "point",
    "line",
    "lseg",
    "box",
    "path",
    "polygon",
    "circle",
    "xml",
    "tsvector",
    "tsquery",
    "oid",
    "bit",
    "bit varying",
    "int4range",
    "int8range",
    "numrange",
    "tsrange",
    "tstzrange",
    "daterange",
    "int4multirange",
    "int8multirange",
    "nummultirange",
    "tsmultirange",
    "tstzmultirange",
    "datemultirange",
    "pg_lsn",
    "txid_snapshot",
    "pg_snapshot",
    "regclass",
    "regtype",
    "regproc",
    "regprocedure",
    "regnamespace",
    "regrole",
    "regconfig",
    "name",
    "\"char\"",
    "serial",
    "bigserial",
    "smallserial",
];

fn split_array(t: &str) -> (&str, String) {
    let mut base = t.trim();
    let mut dims = String::new();
    while let Some(stripped) = base.strip_suffix("[]") {
        base = stripped.trim_end();
        dims.push_str("[]");
    }
    (base, dims)
}

/// True when every value of type `from` converts to `to` without loss, so
/// that `ALTER COLUMN … TYPE` cannot destroy or round data. Both are
/// canonical spellings. A change PostgreSQL would round without complaint
/// (a smaller numeric scale, a lower timestamp precision) is not widening.
pub fn is_widening(from: &str, to: &str) -> bool {
    if from == to {
        return true;
    }
    let rank = |t: &str| match t {
        "smallint" => Some(1),
        "integer" => Some(2),
        "bigint" => Some(3),
        "numeric" => Some(4),
        _ => None,
    };
    if let (Some(a), Some(b)) = (rank(from), rank(to)) {
        return a < b;
    }
    // Integers fit a float whose mantissa holds all their digits, and a
    // numeric with room for all their digits.
    let digits = |t: &str| match t {
        "smallint" => Some(5),
        "integer" => Some(10),
        "bigint" => Some(19),
        _ => None,
    };
    if let Some(d) = digits(from) {
        if to == "double precision" {
            return from != "bigint";
        }
        if to == "real" {
            return from == "smallint";
        }
        if let Some(Some((p, s))) = numeric_args(to) {
            return p - s >= d;
        }
    }
    if from == "real" && to == "double precision" {
        return true;
    }
    if to == "text" && !from.ends_with("[]") {
        return true;
    }
    if let (Some(a), Some(b)) = (
        varchar_limit(from).or(if from == "text" { Some(None) } else { None }),
        varchar_limit(to),
    ) {
        return match (a, b) {
            (_, None) => true,
            (Some(a), Some(b)) => a <= b,
            (None, Some(_)) => false,
        };
    }
    if let (Some(a), Some(b)) = (numeric_args(from), numeric_args(to)) {
        return match (a, b) {
            (_, None) => true,
            (None, Some(_)) => false,
            // Integer digits and fraction digits must both fit.
            (Some((p1, s1)), Some((p2, s2))) => s2 >= s1 && p2 - s2 >= p1 - s1,
        };
    }
    if let (Some((kind_a, p1)), Some((kind_b, p2))) = (precision(from), precision(to)) {
        return kind_a == kind_b && p2 >= p1;
    }
    false
}

/// True when `ALTER COLUMN … TYPE` from `from` to `to` changes only the
/// catalog: PostgreSQL neither rewrites the table nor rebuilds its
/// indexes. A longer or unlimited `varchar`, `varchar` to `text` and back
/// to an unlimited `varchar`, and a `numeric` with more precision and the
/// same scale, or unconstrained. Every other type change rewrites.
pub fn is_metadata_only(from: &str, to: &str) -> bool {
    if from == to {
        return true;
    }
    let limit = |t: &str| {
        if t == "text" {
            Some(None)
        } else {
            varchar_limit(t)
        }
    };
    if let (Some(a), Some(b)) = (limit(from), limit(to)) {
        return match (a, b) {
            (_, None) => true,
            (Some(a), Some(b)) => a <= b,
            (None, Some(_)) => false,
        };
    }
    if let (Some(a), Some(b)) = (numeric_args(from), numeric_args(to)) {
        return match (a, b) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some((p1, s1)), Some((p2, s2))) => s1 == s2 && p2 >= p1,
        };
    }
    false
}

/// True when PostgreSQL converts `from` to `to` by an assignment cast, which
/// is what `ALTER COLUMN … TYPE` without `USING` does: between numbers,
/// between strings, from anything to a string, between dates and times as
/// the catalog allows, between `json` and `jsonb`, and between lengths or
/// precisions of one type (an assignment cast refuses a value too long for
/// `varchar(n)`, where an explicit cast would cut it). Types strata does not
/// know are assumed castable: PostgreSQL says so when they are not.
pub fn has_assignment_cast(from: &str, to: &str) -> bool {
    let (from_base, from_dims) = split_array(from);
    let (to_base, to_dims) = split_array(to);
    let (a, b) = (base_name(from_base), base_name(to_base));
    if from_dims != to_dims {
        return to_dims.is_empty() && family(&b) == Some(Family::String);
    }
    if a == b {
        return true;
    }
    match (family(&a), family(&b)) {
        (_, Some(Family::String)) => true,
        (None, _) | (_, None) => true,
        (Some(Family::Number), Some(Family::Number)) => true,
        (Some(Family::Json), Some(Family::Json)) => true,
        (Some(Family::Time), Some(Family::Time)) => matches!(
            (a.as_str(), b.as_str()),
            (
                "date",
                "timestamp without time zone" | "timestamp with time zone"
            ) | (
                "timestamp without time zone",
                "timestamp with time zone" | "date" | "time without time zone"
            ) | (
                "timestamp with time zone",
                "timestamp without time zone"
                    | "date"
                    | "time without time zone"
                    | "time with time zone"
            ) | ("time without time zone", "time with time zone" | "interval")
                | ("time with time zone", "time without time zone")
                | ("interval", "time without time zone")
        ),
        _ => false,
    }
}

/// A value of the type that fits any length or precision it has, for
/// filling a restored NOT NULL column: `0`, `''`, `false`, the epoch, …
/// (`None` for a type strata does not know).
pub(crate) fn zero_value(sql_type: &str) -> Option<&'static str> {
    let (base, dims) = split_array(sql_type);
    if !dims.is_empty() {
        return Some("'{}'");
    }
    let full = base_name(base);
    Some(match full.as_str() {
        "date" | "timestamp without time zone" | "timestamp with time zone" => "'epoch'",
        "time without time zone" | "time with time zone" => "'00:00'",
        "interval" => "'0'",
        "boolean" => "false",
        "uuid" => "'00000000-0000-0000-0000-000000000000'",
        "json" | "jsonb" => "'{}'",
        "bytea" => "''",
        _ => match family(&full) {
            Some(Family::Number) => "0",
            Some(Family::String) => "''",
            _ => return None,
        },
    })
}

/// A type's name without its arguments: `character varying(10)` is
/// `character varying`, `timestamp(3) with time zone` is `timestamp with time zone`.
fn base_name(t: &str) -> String {
    let mut words = String::new();
    let mut depth = 0usize;
    for c in t.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => words.push(c),
            _ => {}
        }
    }
    words.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Number,
    String,
    Time,
    Json,
    Other,
}

/// The family of a known type (canonical spelling, without arguments).
fn family(name: &str) -> Option<Family> {
    Some(match name {
        "smallint" | "integer" | "bigint" | "real" | "double precision" | "numeric" => {
            Family::Number
        }
        "text" | "character varying" | "character" => Family::String,
        "date"
        | "timestamp without time zone"
        | "timestamp with time zone"
        | "time without time zone"
        | "time with time zone"
        | "interval" => Family::Time,
        "json" | "jsonb" => Family::Json,
        "boolean" | "uuid" | "bytea" | "inet" | "cidr" | "macaddr" => Family::Other,
        _ => return None,
    })
}

/// `timestamp(3) with time zone` → `("timestamp with time zone", 3)`; no
/// precision means 6, PostgreSQL's.
fn precision(t: &str) -> Option<(String, u32)> {
    for kind in ["timestamp", "time"] {
        let Some(rest) = t.strip_prefix(kind) else {
            continue;
        };
        let (p, zone) = match rest.strip_prefix('(') {
            Some(args) => {
                let (p, zone) = args.split_once(')')?;
                (p.trim().parse().ok()?, zone)
            }
            None => (6, rest),
        };
        let zone = zone.trim();
        if zone == "with time zone" || zone == "without time zone" {
            return Some((format!("{kind} {zone}"), p));
        }
    }
    None
}

/// `character varying(n)` → `Some(Some(n))`, `character varying` → `Some(None)`.
fn varchar_limit(t: &str) -> Option<Option<u32>> {
    let rest = t.strip_prefix("character varying")?;
    if rest.is_empty() {
        return Some(None);
    }
    rest.strip_prefix('(')?
        .strip_suffix(')')?
        .parse()
        .ok()
        .map(Some)
}

/// `numeric(p,s)` → `Some(Some((p, s)))`, `numeric` → `Some(None)`.
fn numeric_args(t: &str) -> Option<Option<(i64, i64)>> {
    let rest = t.strip_prefix("numeric")?;
    if rest.is_empty() {
        return Some(None);
    }
    let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
    let mut parts = inner.split(',');
    let p: i64 = parts.next()?.parse().ok()?;
    let s: i64 = parts.next().map_or(Some(0), |s| s.parse().ok())?;
    Some(Some((p, s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spells_like_format_type() {
        assert_eq!(canonical_type("VARCHAR(64)"), "character varying(64)");
        assert_eq!(canonical_type("timestamptz"), "timestamp with time zone");
        assert_eq!(
            canonical_type("timestamp(3)"),
            "timestamp(3) without time zone"
        );
        assert_eq!(canonical_type("int4[]"), "integer[]");
        assert_eq!(canonical_type("decimal(10, 2)"), "numeric(10,2)");
        assert_eq!(canonical_type("char"), "character(1)");
        assert_eq!(canonical_type("citext"), "citext");
        for builtin in [
            "int4",
            "numeric(12,2)",
            "timestamptz(3)",
            "text[]",
            "time with time zone",
            "bit varying(3)",
        ] {
            assert!(is_builtin_type(builtin), "{builtin}");
        }
        for other in [
            "citext",
            "public.citext",
            "public.geometry(Polygon,4326)",
            "extensions.hstore[]",
            "\"Shop\".\"Status\"",
        ] {
            assert!(!is_builtin_type(other), "{other}");
        }
    }

    #[test]
    fn knows_which_changes_keep_every_value() {
        assert!(is_metadata_only(
            "character varying(10)",
            "character varying(20)"
        ));
        assert!(is_metadata_only("character varying(10)", "text"));
        assert!(is_metadata_only("text", "character varying"));
        assert!(is_metadata_only("numeric(10,2)", "numeric(12,2)"));
        assert!(is_metadata_only("numeric(10,2)", "numeric"));
        assert!(!is_metadata_only("numeric(10,2)", "numeric(12,4)"));
        assert!(!is_metadata_only("integer", "bigint"));
        assert!(!is_metadata_only("text", "character varying(10)"));
        assert!(!is_metadata_only("integer", "text"));
        assert!(is_widening("integer", "bigint"));
        assert!(!is_widening("bigint", "integer"));
        assert!(is_widening(
            "character varying(64)",
            "character varying(255)"
        ));
        assert!(!is_widening(
            "character varying(255)",
            "character varying(64)"
        ));
        assert!(is_widening("character varying(64)", "text"));
        assert!(!is_widening("text", "character varying(64)"));
        assert!(is_widening("numeric(10,2)", "numeric(12,2)"));
        assert!(!is_widening("numeric(10,2)", "numeric(10,1)"));
        assert!(is_widening("real", "double precision"));
        assert!(!is_widening("text", "integer"));
        assert!(!is_widening("numeric(10,4)", "numeric(10,2)"));
        assert!(!is_widening(
            "timestamp(6) without time zone",
            "timestamp(0) without time zone"
        ));
        assert!(!is_widening(
            "timestamp without time zone",
            "timestamp(3) without time zone"
        ));
        assert!(is_widening(
            "timestamp(3) with time zone",
            "timestamp with time zone"
        ));
        assert!(is_widening("integer", "numeric(12,2)"));
        assert!(!is_widening("integer", "numeric(10,2)"));
    }

    #[test]
    fn knows_which_changes_need_using() {
        assert!(!has_assignment_cast("text", "integer"));
        assert!(has_assignment_cast("integer", "text"));
        assert!(has_assignment_cast("bigint", "integer"));
        assert!(has_assignment_cast("text", "character varying(10)"));
        assert!(!has_assignment_cast("boolean", "integer"));
        assert!(!has_assignment_cast("text", "uuid"));
        assert!(has_assignment_cast("json", "jsonb"));
        assert!(has_assignment_cast(
            "timestamp(3) without time zone",
            "timestamp with time zone"
        ));
        assert!(has_assignment_cast("citext", "text"));
        assert!(has_assignment_cast("text", "citext"));
        assert!(has_assignment_cast("integer[]", "bigint[]"));
        assert!(!has_assignment_cast("text[]", "integer[]"));
    }
}
