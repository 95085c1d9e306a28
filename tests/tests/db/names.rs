//! Hostile names: every name that reaches SQL is either refused with a clear
//! error on the user's token, or lands in the catalog byte for byte.
//!
//! Each case goes the way a user's model does: parsed by the macro's parser,
//! planned, rendered, applied, then looked up in the catalog and
//! drift-checked. `STRATA_SEED` replays a run.

use quote::quote;
use strata::sqlx;
use strata::Migrator;
use strata_manifest::{
    checksum, diff_with, render_down, render_migration, Manifest, MigrationEntry, SchemaState,
    MAX_IDENT_BYTES,
};

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

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn pick(&mut self, names: &[String]) -> String {
        names[(self.next() % names.len() as u64) as usize].clone()
    }
    /// A random name of awkward characters.
    fn random_name(&mut self) -> String {
        const PIECES: &[&str] = &[
            "\"", "'", ";", ".", ",", " ", "é", "😀", "A", "z", "_", "$", "-", "\\", "(", "0",
        ];
        let len = 1 + self.next() % 20;
        (0..len)
            .map(|_| PIECES[(self.next() % PIECES.len() as u64) as usize])
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
    state.add_table(model.table_state(|_| Err("no references".into())).unwrap());
    let changes = diff_with(&SchemaState::default(), &state, false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let up = render_migration(1, "initial", &changes);
    std::fs::write(dir.path().join("0001_initial.sql"), &up).unwrap();
    std::fs::write(
        dir.path().join("0001_initial.down.sql"),
        render_down(1, "initial", &changes),
    )
    .unwrap();
    let manifest = Manifest {
        migrations: vec![MigrationEntry {
            version: 1,
            name: "initial".into(),
            file: "0001_initial.sql".into(),
            checksum: checksum(&up),
            down_file: Some("0001_initial.down.sql".into()),
            changes,
        }],
        state,
        ..Manifest::default()
    };
    std::fs::write(dir.path().join("manifest.json"), manifest.to_json()).unwrap();
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
    let seed: u64 = std::env::var("STRATA_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(7)
        });
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
