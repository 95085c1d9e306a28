//! A property test over random model histories. Random models A and B differ
//! by any mix of new, renamed and moved tables (some with compat views), new
//! and renamed columns, new keys, indexes, checks and foreign keys. Apply A,
//! insert rows, migrate to B: drift is clean against B and every row is still
//! there; roll back to A: drift is clean against A and every row is there.
//!
//! Reproduce a failure with the seed it prints: `STRATA_SEED=… cargo test -p
//! strata-tests --test db histories`. `STRATA_CASES` sets how many cases run.

use strata::sqlx::{self, PgPool};
use strata::Migrator;
use strata_manifest::{
    constraint_name, quote_ident, Check, Column, ForeignKey, Index, QualifiedName, SchemaState,
    Table,
};
use strata_tests::{write_migrations, Rng};

use crate::support::psql;

const SCHEMAS: [&str; 4] = ["public", "tenant_shared", "tenant_kct", "Analytics"];
const WORDS: [&str; 10] = [
    "orders",
    "items",
    "Leads",
    "measurements",
    "outfits",
    "notes",
    "AiAction",
    "segments",
    "alerts",
    "palettes",
];
const TYPES: [&str; 7] = [
    "integer",
    "bigint",
    "text",
    "character varying(40)",
    "boolean",
    "numeric(12,2)",
    "date",
];

#[derive(Clone)]
struct ColumnSpec {
    name: String,
    ty: &'static str,
    nullable: bool,
    default: Option<String>,
    unique: bool,
    index: bool,
    check: bool,
    /// Index into the table list: a nullable foreign key to that table's id.
    references: Option<usize>,
    renamed_from: Option<String>,
}

#[derive(Clone)]
struct TableSpec {
    schema: String,
    name: String,
    columns: Vec<ColumnSpec>,
    /// A two-column index over these columns, partial when `.2`.
    pair_index: Option<(usize, usize, bool)>,
    moved_from: Option<String>,
    renamed_from: Option<String>,
    compat_view: bool,
}

/// Hands out names never used before in a case, so moves and renames never collide.
struct Names(usize);

impl Names {
    fn table(&mut self, rng: &mut Rng) -> String {
        self.0 += 1;
        format!("{}_{}", WORDS[rng.below(WORDS.len())], self.0)
    }
    fn column(&mut self, rng: &mut Rng) -> String {
        self.0 += 1;
        let word = ["Size", "colour", "price", "note", "when", "flag"][rng.below(6)];
        format!("{word}_{}", self.0)
    }
}

fn new_column(rng: &mut Rng, names: &mut Names, tables: usize, existing_rows: bool) -> ColumnSpec {
    let ty = TYPES[rng.below(TYPES.len())];
    let references = (tables > 0 && rng.chance(15)).then(|| rng.below(tables));
    let ty = if references.is_some() { "bigint" } else { ty };
    // A new NOT NULL column on a table with rows needs a default.
    let nullable = references.is_some() || rng.chance(60);
    let default = (!nullable && existing_rows).then(|| default_for(ty).to_owned());
    ColumnSpec {
        name: names.column(rng),
        ty,
        nullable,
        default,
        // Row values are distinct per column, except booleans and defaults.
        unique: ty != "boolean" && (nullable || !existing_rows) && rng.chance(20),
        index: rng.chance(25),
        check: ty != "boolean" && rng.chance(20),
        references,
        renamed_from: None,
    }
}

fn default_for(ty: &str) -> &'static str {
    match ty {
        "boolean" => "false",
        "text" | "character varying(40)" => "'n/a'",
        "date" => "'2000-01-01'",
        _ => "0",
    }
}

fn new_table(rng: &mut Rng, names: &mut Names, tables: usize) -> TableSpec {
    let mut columns = Vec::new();
    for _ in 0..1 + rng.below(4) {
        columns.push(new_column(rng, names, tables, false));
    }
    let pair_index = (columns.len() >= 2 && rng.chance(30)).then(|| (0, 1, rng.chance(50)));
    TableSpec {
        schema: SCHEMAS[rng.below(SCHEMAS.len())].to_owned(),
        name: names.table(rng),
        columns,
        pair_index,
        moved_from: None,
        renamed_from: None,
        compat_view: false,
    }
}

fn check_expr(column: &ColumnSpec) -> String {
    let c = quote_ident(&column.name);
    match column.ty {
        "text" | "character varying(40)" => format!("length({c}) < 1000"),
        "date" => format!("{c} > '1900-01-01'"),
        _ => format!("{c} > -1"),
    }
}

/// The state the specs describe, with names derived as strata-build derives them.
fn state_of(specs: &[TableSpec]) -> SchemaState {
    let mut state = SchemaState::default();
    for spec in specs {
        let mut table = Table::new(&spec.schema, &spec.name);
        table.moved_from = spec.moved_from.clone();
        table.renamed_from = spec.renamed_from.clone();
        if spec.compat_view {
            table.compat_view = Some(QualifiedName::new(
                spec.moved_from.as_deref().unwrap_or(&spec.schema),
                spec.renamed_from.as_deref().unwrap_or(&spec.name),
            ));
        }
        let mut id = Column::new("id", "bigint").not_null();
        id.identity = true;
        table.columns.push(id);
        table.set_primary_key(vec!["id".into()]);
        for column in &spec.columns {
            let one = vec![column.name.clone()];
            table.columns.push(Column {
                nullable: column.nullable,
                default: column.default.clone(),
                renamed_from: column.renamed_from.clone(),
                ..Column::new(&column.name, column.ty)
            });
            if column.unique {
                table.add_unique(one.clone());
            }
            if column.index {
                table.add_index(Index {
                    name: constraint_name(&spec.name, &one, "idx"),
                    columns: one.clone(),
                    unique: false,
                    predicate: None,
                    ..Default::default()
                });
            }
            if column.check {
                table.add_check(Check {
                    name: constraint_name(&spec.name, &one, "check"),
                    expr: check_expr(column),
                });
            }
            if let Some(target) = column.references {
                table.add_foreign_key(ForeignKey {
                    name: constraint_name(&spec.name, &one, "fkey"),
                    columns: one,
                    references: QualifiedName::new(&specs[target].schema, &specs[target].name),
                    referenced_columns: vec!["id".into()],
                    on_delete: strata_manifest::Action::SetNull,
                    on_update: strata_manifest::Action::NoAction,
                    deferral: Default::default(),
                    not_valid: false,
                });
            }
        }
        if let Some((a, b, partial)) = spec.pair_index {
            let columns = vec![spec.columns[a].name.clone(), spec.columns[b].name.clone()];
            table.add_index(Index {
                name: constraint_name(&spec.name, &columns, "idx"),
                predicate: partial.then(|| format!("{} IS NOT NULL", quote_ident(&columns[0]))),
                columns,
                unique: false,
                ..Default::default()
            });
        }
        state.add_table(table);
    }
    state
}

/// B: A with one to four random changes, each carrying the hints a model would.
fn mutate(rng: &mut Rng, names: &mut Names, a: &[TableSpec]) -> (Vec<TableSpec>, Vec<String>) {
    let mut b = a.to_vec();
    let mut log = Vec::new();
    for _ in 0..1 + rng.below(4) {
        let t = rng.below(b.len());
        match rng.below(8) {
            0 => {
                let table = new_table(rng, names, b.len());
                log.push(format!("new table {}.{}", table.schema, table.name));
                b.push(table);
            }
            // Only tables of A are renamed or moved: a model new in B has nothing to move from.
            1 if t < a.len() && b[t].renamed_from.is_none() => {
                let fresh = names.table(rng);
                log.push(format!("rename {} to {fresh}", b[t].name));
                b[t].renamed_from = Some(std::mem::replace(&mut b[t].name, fresh));
                b[t].compat_view |= rng.chance(30);
            }
            2 if t < a.len() && b[t].moved_from.is_none() => {
                let to = SCHEMAS
                    .iter()
                    .find(|s| **s != b[t].schema && rng.chance(50));
                if let Some(to) = to {
                    log.push(format!("move {}.{} to {to}", b[t].schema, b[t].name));
                    b[t].moved_from = Some(std::mem::replace(&mut b[t].schema, (*to).to_owned()));
                    b[t].compat_view |= rng.chance(50);
                }
            }
            3 => {
                let column = new_column(rng, names, b.len(), true);
                log.push(format!("add {}.{}", b[t].name, column.name));
                b[t].columns.push(column);
            }
            4 => {
                let c = rng.below(b[t].columns.len());
                if b[t].columns[c].renamed_from.is_none()
                    && c < a.get(t).map_or(0, |x| x.columns.len())
                {
                    let fresh = names.column(rng);
                    log.push(format!(
                        "rename {}.{} to {fresh}",
                        b[t].name, b[t].columns[c].name
                    ));
                    let old = std::mem::replace(&mut b[t].columns[c].name, fresh);
                    b[t].columns[c].renamed_from = Some(old);
                }
            }
            5 => {
                let c = rng.below(b[t].columns.len());
                let column = &mut b[t].columns[c];
                if column.ty != "boolean" && column.default.is_none() && !column.unique {
                    log.push(format!("unique {}.{}", b[t].name, b[t].columns[c].name));
                    b[t].columns[c].unique = true;
                }
            }
            6 => {
                let c = rng.below(b[t].columns.len());
                log.push(format!(
                    "index and check {}.{}",
                    b[t].name, b[t].columns[c].name
                ));
                b[t].columns[c].index = true;
                b[t].columns[c].check |= b[t].columns[c].ty != "boolean";
            }
            _ => {
                let mut column = new_column(rng, names, b.len(), true);
                column.ty = "bigint";
                column.nullable = true;
                column.default = None;
                column.references = Some(rng.below(b.len()));
                log.push(format!("foreign key {}.{}", b[t].name, column.name));
                b[t].columns.push(column);
            }
        }
    }
    (b, log)
}

fn literal(ty: &str, row: usize) -> String {
    match ty {
        "integer" => (row * 7).to_string(),
        "bigint" => (row * 1_000_003).to_string(),
        "text" => format!("'v{row}'"),
        "character varying(40)" => format!("'w{row}'"),
        "boolean" => (row % 2 == 0).to_string(),
        "numeric(12,2)" => format!("{}.25", row),
        _ => format!("DATE '2020-01-01' + {row}"),
    }
}

/// Row count and a checksum over the given columns of a table.
async fn fingerprint(
    pool: &PgPool,
    schema: &str,
    table: &str,
    columns: &[String],
) -> (i64, String) {
    let row = columns
        .iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT count(*), coalesce(md5(string_agg(ROW({row})::text, ',' ORDER BY ROW({row})::text)), '') FROM {}",
        strata_manifest::qualified(schema, table)
    );
    sqlx::query_as(&sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn run_case(seed: u64) -> Result<(), String> {
    let mut rng = Rng(seed);
    let mut names = Names(0);
    let mut a: Vec<TableSpec> = Vec::new();
    for _ in 0..1 + rng.below(4) {
        let table = new_table(&mut rng, &mut names, a.len());
        a.push(table);
    }
    let (b, log) = mutate(&mut rng, &mut names, &a);
    let (state_a, state_b) = (state_of(&a), state_of(&b));

    let dir = tempfile::tempdir().unwrap();
    write_migrations(
        dir.path(),
        &[(&SchemaState::default(), &state_a), (&state_a, &state_b)],
    );
    let migrations = strata::Migrations::from_dir(dir.path()).map_err(|e| e.to_string())?;
    let db = strata::testing::database()
        .await
        .map_err(|e| e.to_string())?;
    let pool = db.pool().await.map_err(|e| e.to_string())?;
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        format!(
            "{what}: {e}\nchanges: {log:?}\nup:\n{}",
            std::fs::read_to_string(dir.path().join("0002_step_2.sql")).unwrap_or_default()
        )
    };

    Migrator::new(&migrations)
        .target(1)
        .run(&pool)
        .await
        .map_err(|e| fail("applying A", &e))?;
    let mut before = Vec::new();
    for table in &a {
        let rows = rng.below(12);
        for row in 0..rows {
            let (cols, values): (Vec<String>, Vec<String>) = table
                .columns
                .iter()
                .map(|c| {
                    let value = if c.references.is_some() {
                        "NULL".to_owned()
                    } else {
                        literal(c.ty, row)
                    };
                    (quote_ident(&c.name), value)
                })
                .unzip();
            psql(
                &pool,
                &format!(
                    "INSERT INTO {} ({}) VALUES ({})",
                    strata_manifest::qualified(&table.schema, &table.name),
                    cols.join(", "),
                    values.join(", ")
                ),
            )
            .await;
        }
        let mut columns = vec!["id".to_owned()];
        columns.extend(table.columns.iter().map(|c| c.name.clone()));
        before.push(fingerprint(&pool, &table.schema, &table.name, &columns).await);
    }

    let up = Migrator::new(&migrations)
        .run(&pool)
        .await
        .map_err(|e| fail("migrating to B", &e))?;
    if up.applied.len() != 1 {
        return Err(fail(
            "migrating to B",
            &"did not apply exactly one migration",
        ));
    }
    for (i, table) in a.iter().enumerate() {
        let moved = &b[i];
        let mut columns = vec!["id".to_owned()];
        columns.extend(
            moved.columns[..table.columns.len()]
                .iter()
                .map(|c| c.name.clone()),
        );
        let after = fingerprint(&pool, &moved.schema, &moved.name, &columns).await;
        if after != before[i] {
            return Err(fail(
                &format!("rows of {} changed in B", table.name),
                &format!("{before:?} vs {after:?}"),
            ));
        }
    }

    // The state replayed from the recorded changes agrees with the catalog too.
    let replayed = strata::check_drift_at(&pool, &migrations, 2)
        .await
        .map_err(|e| fail("checking the replayed state", &e))?;
    if !replayed.is_clean() {
        return Err(fail("the replayed state of B differs", &replayed));
    }

    // B's tables and columns go with the rollback: the rows checked are A's.
    Migrator::new(&migrations)
        .confirm_all()
        .rollback_to(&pool, 1)
        .await
        .map_err(|e| fail("rolling back to A", &e))?;
    for (i, table) in a.iter().enumerate() {
        let mut columns = vec!["id".to_owned()];
        columns.extend(table.columns.iter().map(|c| c.name.clone()));
        let back = fingerprint(&pool, &table.schema, &table.name, &columns).await;
        if back != before[i] {
            return Err(fail(
                &format!("rows of {} changed after rollback", table.name),
                &format!("{back:?}"),
            ));
        }
    }
    pool.close().await;
    db.destroy().await.map_err(|e| e.to_string())?;
    Ok(())
}

#[tokio::test]
async fn random_histories_keep_every_row_and_end_clean_both_ways() {
    let seed = strata_tests::seed();
    let cases: u64 = std::env::var("STRATA_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    println!("random histories: STRATA_SEED={seed} STRATA_CASES={cases}");

    // Four workers on this task, each taking the next case; every case has its own seed.
    let next = std::sync::atomic::AtomicU64::new(0);
    let worker = || async {
        loop {
            let case = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if case >= cases {
                return Ok(());
            }
            let case_seed = seed.wrapping_add(case.wrapping_mul(0x9E37_79B9));
            if let Err(e) = run_case(case_seed).await {
                return Err(format!(
                    "case {case} failed; reproduce with STRATA_SEED={case_seed} STRATA_CASES=1\n{e}"
                ));
            }
        }
    };
    let results = tokio::join!(worker(), worker(), worker(), worker());
    for result in [results.0, results.1, results.2, results.3] {
        if let Err(e) = result {
            panic!("{e}");
        }
    }
}
