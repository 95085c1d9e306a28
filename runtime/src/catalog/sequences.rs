//! Sequences of `Builder::sql_dir`: each must exist with its file's type,
//! bounds, increment, start, cache, cycling and owning column; a sequence
//! in a managed schema that no file declares, and that no column owns (an
//! identity's or a `serial`'s), is unexpected.

use strata_manifest::{SchemaState, Sequence, SequenceSettings};

use super::{read_row, Compare, Part, Read};
use crate::drift::{quoted, Collector, DifferenceKind, ObjectKind};
use crate::introspect::Catalog;

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    bool,
    Option<String>,
    bool,
);

/// Schema, name, type, start, increment, maximum, minimum, cache, cycle,
/// owning column (`schema.table.column`), and whether a column owns it as
/// a `serial` does, of every sequence in the managed schemas but those an
/// extension owns and those of identity columns (`deptype` `i`): an
/// identity's sequence is part of its column, compared with it, and at
/// 11,000 identity columns reading them cost more than every other
/// sequence did. The owner's names come from one call
/// (`pg_identify_object_as_address`), not three joins: planning a join
/// costs more than running it on catalogs this small, and the statement is
/// planned at every check.
pub(crate) const PART: Part = Part {
    name: "sequences",
    sql: "SELECT ARRAY[n.nspname::text, c.relname::text,
            pg_catalog.format_type(s.seqtypid, NULL), s.seqstart::text, s.seqincrement::text,
            s.seqmax::text, s.seqmin::text, s.seqcache::text, s.seqcycle::text,
            pg_catalog.array_to_string((pg_catalog.pg_identify_object_as_address(
                o.refclassid, o.refobjid, o.refobjsubid)).object_names, '.'),
            (o.objid IS NOT NULL AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                JOIN pg_catalog.pg_attrdef ad ON ad.oid = d.objid
               WHERE d.classid = 'pg_catalog.pg_attrdef'::regclass
                 AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = c.oid
                 AND ad.adrelid = o.refobjid AND ad.adnum = o.refobjsubid))::text]
   FROM pg_catalog.pg_sequence s
   JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   LEFT JOIN pg_catalog.pg_depend o ON o.classid = 'pg_catalog.pg_class'::regclass AND o.objid = c.oid
        AND o.refclassid = 'pg_catalog.pg_class'::regclass AND o.deptype = 'a'
   WHERE n.nspname = ANY($1::text[])
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
                     WHERE e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = c.oid
                       AND e.deptype IN ('e', 'i'))
   ORDER BY n.nspname, c.relname",
    read: Read::Rows(|fields, catalog| {
        let row: Row = read_row(fields)?;
        let (schema, name, ty, start, increment, max, min, cache, cycle, owner, by_column) = row;
        // Spelt as a file would spell it, and read back by the same parser.
        let mut sql = format!(
            "CREATE SEQUENCE {}.{} AS {ty} INCREMENT BY {increment} MINVALUE {min} MAXVALUE {max} START WITH {start} CACHE {cache} {}",
            strata_manifest::quote_ident(&schema),
            strata_manifest::quote_ident(&name),
            if cycle { "CYCLE" } else { "NO CYCLE" }
        );
        if let Some(owner) = &owner {
            let parts: Vec<String> = owner.split('.').map(strata_manifest::quote_ident).collect();
            sql.push_str(&format!(" OWNED BY {}", parts.join(".")));
        }
        if by_column {
            catalog
                .column_sequences
                .insert((schema.clone(), name.clone()));
        }
        catalog.state.add_sequence(Sequence { schema, name, sql });
        Ok(())
    }),
    compare: Compare::State(compare),
};

fn compare(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    use DifferenceKind::*;
    let find = |among: &'_ [Sequence], s: &Sequence| {
        among
            .iter()
            .find(|o| o.schema == s.schema && o.name == s.name)
            .cloned()
    };
    for want in &expected.sequences {
        let name = quoted(&[&want.schema, &want.name]);
        let Some(have) = find(&catalog.state.sequences, want) else {
            out.push(Missing, ObjectKind::Sequence, name);
            continue;
        };
        let (w, h): (SequenceSettings, SequenceSettings) = (want.settings(), have.settings());
        let fields: [(&str, String, String); 8] = [
            ("type", w.data_type.clone(), h.data_type.clone()),
            (
                "increment",
                w.increment.to_string(),
                h.increment.to_string(),
            ),
            ("minvalue", w.min.to_string(), h.min.to_string()),
            ("maxvalue", w.max.to_string(), h.max.to_string()),
            ("start", w.start.to_string(), h.start.to_string()),
            ("cache", w.cache.to_string(), h.cache.to_string()),
            ("cycle", w.cycle.to_string(), h.cycle.to_string()),
            (
                "owned by",
                w.owned_by.clone().unwrap_or_else(|| "none".to_owned()),
                h.owned_by.clone().unwrap_or_else(|| "none".to_owned()),
            ),
        ];
        for (property, expected, actual) in fields {
            if expected != actual {
                let d = out.push(Changed, ObjectKind::Sequence, name.clone());
                d.property = Some(property.to_owned());
                d.expected = Some(expected);
                d.actual = Some(actual);
            }
        }
    }
    for have in &catalog.state.sequences {
        let owned = catalog
            .column_sequences
            .contains(&(have.schema.clone(), have.name.clone()));
        if !owned && find(&expected.sequences, have).is_none() {
            out.push(
                Unexpected,
                ObjectKind::Sequence,
                quoted(&[&have.schema, &have.name]),
            );
        }
    }
}
