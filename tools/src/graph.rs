//! `strata graph`: the schemas as clusters, their tables, and the foreign
//! keys between them, as Mermaid or Graphviz DOT. Keys that cross a schema
//! boundary are counted and drawn apart, and cycles between schemas are
//! flagged: which domain depends on which, at a glance.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::Serialize;
use strata_manifest::{SchemaState, TENANT_PLACEHOLDER};

/// How the graph is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Mermaid's flowchart, which GitHub renders.
    Mermaid,
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
}

/// The graph of a schema state, written out, and what it found.
#[derive(Debug, Clone, Serialize)]
pub struct Graph {
    /// The graph, in the format asked for.
    pub text: String,
    /// Tables per schema.
    pub schemas: BTreeMap<String, usize>,
    /// Foreign keys in all.
    pub keys: usize,
    /// Foreign keys from one schema's tables to another's: `(from, to, count)`.
    pub cross_schema_keys: Vec<(String, String, usize)>,
    /// Schemas that depend on each other, each cycle once.
    pub cycles: Vec<Vec<String>>,
}

/// How a tenant schema is named in the picture: drawn once, as the model.
const TENANT_LABEL: &str = "tenant (every tenant's schema)";

/// [`graph`] of a live database's state: schemas under one prefix that
/// hold the same tables (tenants, as `strata pull` finds them) are drawn
/// once, as the tenant model.
pub fn graph_of_database(state: &SchemaState, format: Format) -> Graph {
    match crate::pull::find_tenants(state) {
        Some((template, _)) => graph(&template, format),
        None => graph(state, format),
    }
}

/// The graph of `state`: every table of every schema (the placeholder
/// schema of tenant models drawn once, as "tenant"), and every foreign key.
pub fn graph(state: &SchemaState, format: Format) -> Graph {
    let label = |schema: &str| match schema == TENANT_PLACEHOLDER {
        true => TENANT_LABEL.to_owned(),
        false => schema.to_owned(),
    };
    let mut schemas: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for table in &state.tables {
        schemas
            .entry(label(&table.schema))
            .or_default()
            .push(table.name.clone());
    }
    // Every edge: from table, to table, crossing or not.
    let mut edges: Vec<((String, String), (String, String))> = Vec::new();
    let mut cross: BTreeMap<(String, String), usize> = BTreeMap::new();
    for table in &state.tables {
        for key in &table.foreign_keys {
            let from = (label(&table.schema), table.name.clone());
            let to = (label(&key.references.schema), key.references.name.clone());
            if from.0 != to.0 {
                *cross.entry((from.0.clone(), to.0.clone())).or_default() += 1;
            }
            // A key to a table no model declares still shows where it goes.
            schemas.entry(to.0.clone()).or_default();
            if !schemas[&to.0].contains(&to.1) {
                if let Some(tables) = schemas.get_mut(&to.0) {
                    tables.push(to.1.clone());
                }
            }
            edges.push((from, to));
        }
    }
    for tables in schemas.values_mut() {
        tables.sort();
        tables.dedup();
    }
    let cycles = schema_cycles(&cross);
    let in_cycle: BTreeSet<&String> = cycles.iter().flatten().collect();

    // Stable, safe node ids: each table's place in the sorted list.
    let mut ids: BTreeMap<(String, String), String> = BTreeMap::new();
    for (schema, tables) in &schemas {
        for table in tables {
            let id = format!("t{}", ids.len());
            ids.insert((schema.clone(), table.clone()), id);
        }
    }
    let summary: Vec<String> = cross
        .iter()
        .map(|((from, to), n)| format!("{from} -> {to}: {n}"))
        .collect();
    let cycle_text: Vec<String> = cycles
        .iter()
        .map(|c| format!("{} -> {}", c.join(" -> "), c[0]))
        .collect();

    let mut text = String::new();
    match format {
        Format::Mermaid => {
            let quote = |s: &str| s.replace('"', "#quot;");
            let _ = writeln!(text, "flowchart LR");
            for line in summary.iter().map(|s| format!("cross-schema keys: {s}")) {
                let _ = writeln!(text, "  %% {line}");
            }
            for cycle in &cycle_text {
                let _ = writeln!(text, "  %% cycle between schemas: {cycle}");
            }
            for (n, (schema, tables)) in schemas.iter().enumerate() {
                let _ = writeln!(text, "  subgraph s{n}[\"{}\"]", quote(schema));
                for table in tables {
                    let id = &ids[&(schema.clone(), table.clone())];
                    let _ = writeln!(text, "    {id}[\"{}\"]", quote(table));
                }
                let _ = writeln!(text, "  end");
                if in_cycle.contains(schema) {
                    let _ = writeln!(text, "  style s{n} stroke:#c00,stroke-width:3px");
                }
            }
            let mut crossing = Vec::new();
            for (i, (from, to)) in edges.iter().enumerate() {
                let _ = writeln!(text, "  {} --> {}", ids[from], ids[to]);
                if from.0 != to.0 {
                    crossing.push(i.to_string());
                }
            }
            if !crossing.is_empty() {
                let _ = writeln!(
                    text,
                    "  linkStyle {} stroke:#c00,stroke-width:2px",
                    crossing.join(",")
                );
            }
        }
        Format::Dot => {
            let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
            let _ = writeln!(text, "digraph strata {{");
            let _ = writeln!(text, "  rankdir=LR;");
            let _ = writeln!(text, "  node [shape=box, fontname=\"Helvetica\"];");
            let mut caption = Vec::new();
            if !summary.is_empty() {
                caption.push(format!("cross-schema keys: {}", summary.join(", ")));
            }
            if !cycle_text.is_empty() {
                caption.push(format!("cycles between schemas: {}", cycle_text.join("; ")));
            }
            if !caption.is_empty() {
                let _ = writeln!(
                    text,
                    "  label={};",
                    quote(&caption.join("\\n")).replace("\\\\n", "\\n")
                );
                let _ = writeln!(text, "  labelloc=b;");
            }
            for (n, (schema, tables)) in schemas.iter().enumerate() {
                let _ = writeln!(text, "  subgraph cluster_{n} {{");
                let _ = writeln!(text, "    label={};", quote(schema));
                if in_cycle.contains(schema) {
                    let _ = writeln!(text, "    color=red; penwidth=3;");
                }
                for table in tables {
                    let id = &ids[&(schema.clone(), table.clone())];
                    let _ = writeln!(text, "    {id} [label={}];", quote(table));
                }
                let _ = writeln!(text, "  }}");
            }
            for (from, to) in &edges {
                let style = match from.0 != to.0 {
                    true => " [color=red, penwidth=2]",
                    false => "",
                };
                let _ = writeln!(text, "  {} -> {}{style};", ids[from], ids[to]);
            }
            let _ = writeln!(text, "}}");
        }
    }
    Graph {
        text,
        schemas: schemas.iter().map(|(s, t)| (s.clone(), t.len())).collect(),
        keys: edges.len(),
        cross_schema_keys: cross.into_iter().map(|((f, t), n)| (f, t, n)).collect(),
        cycles,
    }
}

/// The cycles between schemas: each set of two or more schemas that reach
/// one another by foreign keys (a strongly connected component), in name order.
fn schema_cycles(cross: &BTreeMap<(String, String), usize>) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = cross.keys().flat_map(|(a, b)| [a, b]).collect();
    let reach = |from: &String| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(at) = stack.pop() {
            for (a, b) in cross.keys() {
                if *a == at && seen.insert(b.clone()) {
                    stack.push(b.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&String, BTreeSet<String>> =
        nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut cycles: Vec<Vec<String>> = Vec::new();
    let mut placed: BTreeSet<&String> = BTreeSet::new();
    for node in &nodes {
        if placed.contains(node) {
            continue;
        }
        let component: Vec<String> = nodes
            .iter()
            .filter(|other| {
                reachable[*node].contains(**other) && reachable[**other].contains(*node)
            })
            .map(|s| (*s).clone())
            .collect();
        if component.len() >= 2 {
            for member in nodes.iter().filter(|n| component.contains(n)) {
                placed.insert(member);
            }
            cycles.push(component);
        }
    }
    cycles
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_manifest::{Column, ForeignKey, QualifiedName, Table};

    fn table(schema: &str, name: &str, references: &[(&str, &str)]) -> Table {
        let mut table = Table::new(schema, name);
        table.columns.push(Column::new("id", "bigint").not_null());
        for (i, (s, t)) in references.iter().enumerate() {
            table.add_foreign_key(ForeignKey {
                name: format!("{name}_{i}_fkey"),
                columns: vec![format!("ref_{i}")],
                references: QualifiedName::new(*s, *t),
                referenced_columns: vec!["id".into()],
                on_delete: Default::default(),
                on_update: Default::default(),
                deferral: Default::default(),
                not_valid: false,
            });
        }
        table
    }

    #[test]
    fn cross_schema_keys_are_counted_and_cycles_flagged() {
        let mut state = SchemaState::default();
        for t in [
            table(
                "sales",
                "orders",
                &[("crm", "customers"), ("sales", "carts")],
            ),
            table("sales", "carts", &[]),
            table("crm", "customers", &[("sales", "orders")]),
            table(
                "audit",
                "log",
                &[("crm", "customers"), ("crm", "customers")],
            ),
            table(TENANT_PLACEHOLDER, "notes", &[("crm", "customers")]),
        ] {
            state.schemas.insert(t.schema.clone());
            state.tables.push(t);
        }
        let dot = graph(&state, Format::Dot);
        assert_eq!(dot.keys, 6);
        assert_eq!(
            dot.cross_schema_keys,
            [
                ("audit".to_owned(), "crm".to_owned(), 2),
                ("crm".to_owned(), "sales".to_owned(), 1),
                ("sales".to_owned(), "crm".to_owned(), 1),
                (TENANT_LABEL.to_owned(), "crm".to_owned(), 1),
            ]
        );
        assert_eq!(dot.cycles, [["crm".to_owned(), "sales".to_owned()]]);
        assert!(
            dot.text
                .contains("cycles between schemas: crm -> sales -> crm"),
            "{}",
            dot.text
        );
        assert_eq!(dot.text.matches("[color=red, penwidth=2]").count(), 5);
        let mermaid = graph(&state, Format::Mermaid);
        assert!(mermaid.text.starts_with("flowchart LR"));
        assert!(
            mermaid.text.contains(&format!("[\"{TENANT_LABEL}\"]")),
            "{}",
            mermaid.text
        );
        assert_eq!(mermaid.text.matches(" --> ").count(), 6);
    }
}
