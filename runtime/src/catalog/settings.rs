//! Database settings that the models set: `search_path`.

use strata_manifest::SchemaState;

use super::{rows, Compare, Part, Read};
use crate::drift::{Collector, DifferenceKind, ObjectKind};
use crate::introspect::Catalog;

/// The database's settings for every role (`ALTER DATABASE … SET`).
pub(crate) const PART: Part = Part {
    name: "settings",
    sql: "SELECT coalesce(to_json(s.setconfig), '[]')
   FROM pg_catalog.pg_db_role_setting s
   JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
   WHERE d.datname = current_database() AND s.setrole = 0",
    read: Read::Json(|json, catalog| {
        let settings: Vec<String> = rows(json)?;
        catalog.state.search_path = settings
            .iter()
            .find_map(|s| s.strip_prefix("search_path=").map(parse_search_path));
        Ok(())
    }),
    compare: Compare::State(compare),
};

fn compare(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    let actual = &catalog.state;
    if expected.search_path.is_some() && expected.search_path != actual.search_path {
        let spell = |path: &Option<Vec<String>>| path.as_ref().map(|p| p.join(", "));
        let d = out.push(
            DifferenceKind::Changed,
            ObjectKind::Setting,
            "search_path".to_owned(),
        );
        d.expected = spell(&expected.search_path);
        d.actual = spell(&actual.search_path).or_else(|| Some("the server default".to_owned()));
    }
}

/// `public, "Tenant", analytics` → the schema names, unquoted.
fn parse_search_path(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|part| {
            let part = part.trim();
            match part.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
                Some(quoted) => quoted.replace("\"\"", "\""),
                None => part.to_owned(),
            }
        })
        .filter(|part| !part.is_empty())
        .collect()
}
