//! Hostile names: every name that reaches SQL is either refused with a clear
//! error on the user's token, or lands in the catalog byte for byte.
//!
//! Each case goes the way a user's model does: parsed by the macro's parser,
//! planned, rendered, applied, then looked up in the catalog and
//! drift-checked. `STRATA_SEED` replays a run.

use quote::quote;
use strata::sqlx;
use strata::Migrator;
use strata_manifest::{SchemaState, MAX_IDENT_BYTES};
use strata_tests::{write_migrations, Rng};

const HOSTILE: &[&str] = &[
    "a\"b",
    "a;b",
    "a.b",
    "t1, public",
    "select",
    "user",
    "Order",
    "UPPER",
    "a b",
    "--x",
    "a'b",
    "$1",
    "tab\there",
    "new\nline",
    "émoji😀",
    "ünïcödé",
    "DROP TABLE x; --",
    "\"\"",
    "pg_x",
    "information_schema",
    "strata",
    "",
    "a\0b",
];

/// 63 bytes of two-byte characters and one ASCII byte: the longest name kept.
fn longest() -> String {
    format!("{}x", "é".repeat(31))
}

/// Picks names for the random cases.
trait Pick {
    fn pick(&mut self, names: &[String]) -> String;
    fn random_name(&mut self) -> String;
}

impl Pick for Rng {
    fn pick(&mut self, names: &[String]) -> String {
        names[self.below(names.len())].clone()
    }
    /// A random name of awkward characters.
    fn random_name(&mut self) -> String {
        const PIECES: &[&str] = &[
            "\"", "'", ";", ".", ",", " ", "é", "😀", "A", "z", "_", "$", "-", "\\", "(", "0",
        ];
        let len = 1 + self.next_u64() % 20;
        (0..len)
            .map(|_| PIECES[(self.next_u64() % PIECES.len() as u64) as usize])
            .collect()
    }
}

/// Parses a one-table model the way the macro does.
fn parse(schema: &str, table: &str, column: &str) -> syn::Result<strata_build::Model> {
    let item: syn::ItemStruct = syn::parse2(quote! {
        pub struct Hostile {
            #[column(primary_key, identity, name = #column)]
            pub id: i64,
            pub note: Option<String>,
        }
    })
    .unwrap();
    strata_build::parse_model(quote!(#schema, table = #table), &item)
}

fn expected_refusal(name: &str, schema: bool) -> bool {
    name.is_empty()
        || name.contains('\0')
        || name.len() > MAX_IDENT_BYTES
        || (schema && (name.starts_with("pg_") || name == "information_schema" || name == "strata"))
}

async fn run_case(schema: &str, table: &str, column: &str) -> Result<(), String> {
    let describe = format!("schema {schema:?}, table {table:?}, column {column:?}");
    let refused = expected_refusal(schema, true)
        || expected_refusal(table, false)
        || expected_refusal(column, false);
    let model = match parse(schema, table, column) {
        Err(errors) => {
            if !refused {
                return Err(format!("{describe}: refused without cause: {errors}"));
            }
            // Every refusal says what is wrong with which name.
            for error in errors {
                let message = error.to_string();
                let clear = message.contains("is empty")
                    || message.contains("NUL")
                    || message.contains("bytes long")
                    || message.contains("PostgreSQL's own")
                    || message.contains("reserved for strata");
                if !clear {
                    return Err(format!("{describe}: unclear error: {message}"));
                }
            }
            return Ok(());
        }
        Ok(model) if refused => {
            return Err(format!(
                "{describe}: accepted, but must be refused ({model:?})"
            ))
        }
        Ok(model) => model,
    };

    let mut state = SchemaState::default();
    state.add_table(
        model
            .table_state(|_| Err("no references".into()), |_| Err("no enums".into()))
            .unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let up = write_migrations(dir.path(), &[(&SchemaState::default(), &state)]).remove(0);
    let migrations = strata::Migrations::from_dir(dir.path()).unwrap();
    let db = strata::testing::database().await.unwrap();
    let pool = db.pool().await.unwrap();
    let report = Migrator::new(&migrations)
        .run(&pool)
        .await
        .map_err(|e| format!("{describe}: {e}\n{up}"))?;
    if !report.drift.is_clean() {
        return Err(format!("{describe}: drift {}", report.drift));
    }
    // Byte for byte in the catalog.
    let found: Option<(String, String, String)> = sqlx::query_as(
        "SELECT n.nspname::text, c.relname::text, a.attname::text
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relname = $2 AND a.attname = $3",
    )
    .bind(schema)
    .bind(table)
    .bind(column)
    .fetch_optional(&pool)
    .await
    .unwrap();
    if found
        .as_ref()
        .map(|(s, t, c)| (s.as_str(), t.as_str(), c.as_str()))
        != Some((schema, table, column))
    {
        return Err(format!(
            "{describe}: not in the catalog as written: {found:?}"
        ));
    }
    // And the generated SQL reads and writes it.
    let sql_insert = format!(
        "INSERT INTO {} (\"note\") VALUES ('x') RETURNING {}",
        strata::qualified(schema, table),
        strata::quote_ident(column)
    );
    let (id,): (i64,) = sqlx::query_as(&sql_insert)
        .fetch_one(&pool)
        .await
        .map_err(|e| format!("{describe}: {e}"))?;
    if id != 1 {
        return Err(format!("{describe}: unexpected id {id}"));
    }
    pool.close().await;
    db.destroy().await.unwrap();
    Ok(())
}

#[tokio::test]
async fn hostile_names_are_refused_clearly_or_round_trip_exactly() {
    let seed = strata_tests::seed();
    println!("hostile names: STRATA_SEED={seed}");
    let mut rng = Rng(seed);
    let mut names: Vec<String> = HOSTILE.iter().map(|s| s.to_string()).collect();
    names.push(longest());
    names.push(format!("{}é", "é".repeat(31))); // 64 bytes
                                                // Every listed name in every place, then random mixes.
    let mut cases: Vec<(String, String, String)> = Vec::new();
    for name in &names {
        cases.push((name.clone(), "t".into(), "id".into()));
        cases.push(("s".into(), name.clone(), "id".into()));
        cases.push(("s".into(), "t".into(), name.clone()));
    }
    for _ in 0..40 {
        let mut pool = names.clone();
        pool.push(rng.random_name());
        pool.push(rng.random_name());
        cases.push((rng.pick(&pool), rng.pick(&pool), rng.pick(&pool)));
    }
    let mut failures = Vec::new();
    for (schema, table, column) in &cases {
        // A column named like the model's other column would be a duplicate: not a name problem.
        if column == "note" {
            continue;
        }
        if let Err(e) = run_case(schema, table, column).await {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "seed {seed}:\n{}", failures.join("\n"));
}

#[test]
fn names_equal_in_their_first_63_bytes_never_both_reach_the_catalog() {
    let a = format!("{}_first", "x".repeat(63));
    let b = format!("{}_second", "x".repeat(63));
    // PostgreSQL would truncate both to the same 63 bytes: both are refused.
    for name in [&a, &b] {
        let error = parse("s", name, "id").expect_err("a name longer than 63 bytes is refused");
        assert!(error.to_string().contains("63 bytes"), "{error}");
    }
    // Names strata makes up itself stay distinct within 63 bytes.
    let long = "t".repeat(60);
    let one = strata_manifest::constraint_name(&long, &["alpha".into()], "key");
    let two = strata_manifest::constraint_name(&long, &["alphb".into()], "key");
    assert!(one.len() <= 63 && two.len() <= 63 && one != two);
}
