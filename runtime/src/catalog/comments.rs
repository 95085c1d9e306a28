//! Comments on tables and columns.

use strata_manifest::Table;

use super::stream::keep_all;
use super::{Compare, Part, Read, TableCompare};
use crate::canonical::TableSpelling;
use crate::drift::{quoted, Collector, DifferenceKind, ObjectKind};

/// Comments on tables come with the tables ([`super::tables`]), on
/// columns with the columns ([`super::columns`]): a join of their own cost
/// more than reading them, and a table's columns and their comments are
/// compared together, as they come.
pub(crate) const PART: Part = Part {
    name: "comments",
    sql: "",
    read: Read::Nothing,
    compare: Compare::Table(TableCompare {
        complete_with: "columns",
        compare,
        // The columns' release frees their comments.
        release: keep_all,
    }),
};

fn compare(expected: &Table, actual: &Table, _: &TableSpelling<'_>, out: &mut Collector) {
    {
        let mut changed = |object, name: String, want: &Option<String>, have: &Option<String>| {
            if want != have {
                let d = out.push(DifferenceKind::Changed, object, name);
                d.property = Some("comment".to_owned());
                d.expected = want.clone();
                d.actual = have.clone();
            }
        };
        changed(
            ObjectKind::Table,
            quoted(&[&expected.schema, &expected.name]),
            &expected.comment,
            &actual.comment,
        );
        for column in &expected.columns {
            if let Some(found) = actual.column(&column.name) {
                changed(
                    ObjectKind::Column,
                    quoted(&[&expected.schema, &expected.name, &column.name]),
                    &column.comment,
                    &found.comment,
                );
            }
        }
    }
}
