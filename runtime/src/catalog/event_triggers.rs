//! Event triggers of `Builder::sql_dir`: each must exist and run its
//! function on its event for its tags, enabled; one that no file declares
//! is unexpected. They belong to the database, so every one is read, but
//! strata's own DDL watch and those an extension owns.

use strata_manifest::{EventTrigger, QualifiedName, SchemaState};

use super::{rows, Compare, Part, Read};
use crate::drift::{Collector, DifferenceKind, ObjectKind};
use crate::introspect::Catalog;

/// Name, event, tags, the function's schema and name, and whether enabled.
pub(crate) const PART: Part = Part {
    name: "event triggers",
    sql:
        "SELECT coalesce(json_agg(json_build_array(e.evtname, e.evtevent, coalesce(e.evttags, '{}'),
            n.nspname, p.proname, e.evtenabled <> 'D') ORDER BY e.evtname), '[]')
   FROM pg_catalog.pg_event_trigger e
   JOIN pg_catalog.pg_proc p ON p.oid = e.evtfoid
   JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
   WHERE e.evtname NOT LIKE 'strata\\_%'
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend x
                     WHERE x.classid = 'pg_catalog.pg_event_trigger'::regclass
                       AND x.objid = e.oid AND x.deptype = 'e')",
    read: Read::Json(|json, catalog| {
        for (name, event, tags, schema, function, enabled) in
            rows::<(String, String, Vec<String>, String, String, bool)>(json)?
        {
            catalog.state.event_triggers.push(EventTrigger {
                name,
                event,
                tags,
                function: QualifiedName::new(schema, function),
                disabled: !enabled,
            });
        }
        Ok(())
    }),
    compare: Compare::State(compare),
};

fn compare(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    use DifferenceKind::*;
    let actual = &catalog.state.event_triggers;
    for want in &expected.event_triggers {
        let Some(have) = actual.iter().find(|t| t.name == want.name) else {
            out.push(Missing, ObjectKind::EventTrigger, want.name.clone());
            continue;
        };
        let mut changed = |property: &str, expected: String, actual: String| {
            if expected != actual {
                let d = out.push(Changed, ObjectKind::EventTrigger, want.name.clone());
                d.property = Some(property.to_owned());
                d.expected = Some(expected);
                d.actual = Some(actual);
            }
        };
        changed("event", want.event.clone(), have.event.clone());
        changed("tags", want.tags.join(", "), have.tags.join(", "));
        changed(
            "function",
            format!("{}.{}", want.function.schema, want.function.name),
            format!("{}.{}", have.function.schema, have.function.name),
        );
        let enabled = |on: bool| if on { "enabled" } else { "disabled" }.to_owned();
        changed("state", enabled(!want.disabled), enabled(!have.disabled));
    }
    for have in actual {
        if !expected.event_triggers.iter().any(|t| t.name == have.name) {
            out.push(Unexpected, ObjectKind::EventTrigger, have.name.clone());
        }
    }
}
