//! Helpers shared by strata's integration tests and its benchmark binary.

pub mod corpus;
pub mod judges;
pub mod pulled;
pub mod shared;
pub mod tls;

use std::path::Path;

use strata_manifest::{
    checksum, constraint_name, diff_with, render_down, render_migration, Column, Confirm,
    ForeignKey, Index, Manifest, MigrationEntry, QualifiedName, SchemaState, Table,
    TENANT_PLACEHOLDER,
};

/// SplitMix64: small, fast, and the same everywhere for the same seed, so a
/// printed seed replays a randomized test.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

/// The seed in `STRATA_SEED`, or one from the clock.
pub fn seed() -> u64 {
    std::env::var("STRATA_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        })
}

/// Writes a migrations directory, as `strata_build` would, with one
/// migration per step from one state to the next; returns the up SQL of each.
pub fn write_migrations(dir: &Path, steps: &[(&SchemaState, &SchemaState)]) -> Vec<String> {
    let mut manifest = Manifest::default();
    let mut ups = Vec::new();
    for (i, (from, to)) in steps.iter().enumerate() {
        let version = i as u32 + 1;
        let changes =
            diff_with(from, to, &Confirm::none()).expect("no destructive change in a step");
        let name = format!("step_{version}");
        let up = render_migration(version, &name, &changes);
        let file = format!("{version:04}_{name}.sql");
        let down_file = format!("{version:04}_{name}.down.sql");
        std::fs::write(dir.join(&file), &up).unwrap();
        let down = render_down(version, &name, &changes);
        std::fs::write(dir.join(&down_file), &down).unwrap();
        manifest.migrations.push(MigrationEntry {
            version,
            name,
            checksum: checksum(&up),
            file,
            down_file: Some(down_file),
            down_checksum: Some(checksum(&down)),
            lossy_down: changes.iter().flat_map(|c| c.lossy_inverse()).collect(),
            hazards: changes.iter().filter_map(|c| c.hazard()).collect(),
            changes,
            hand_written: false,
        });
        manifest.state = (*to).clone();
        ups.push(up);
    }
    std::fs::write(dir.join("manifest.json"), manifest.to_json()).unwrap();
    ups
}

/// The tenant stream: 11 tables in the placeholder schema, each with an
/// identity key, four columns, an index and a foreign key to the previous
/// table; the first two also reference a shared table (`bench_shared.kinds`,
/// `bench_shared.types`), as SalesFlow's contacts and activities do. The
/// follow-up migration adds a column and an index to three of them.
pub fn tenant_stream() -> (SchemaState, SchemaState) {
    let mut v1 = SchemaState::default();
    for t in 0..11 {
        let name = format!("table_{t:02}");
        let mut table = Table::new(TENANT_PLACEHOLDER, &name);
        let mut id = Column::new("id", "bigint").not_null();
        id.identity = true;
        table.columns.push(id);
        for (c, ty) in ["text", "integer", "timestamp with time zone", "bigint"]
            .iter()
            .enumerate()
        {
            table.columns.push(Column::new(format!("col_{c}"), *ty));
        }
        table.set_primary_key(vec!["id".into()]);
        table.add_index(Index {
            name: constraint_name(&name, &["col_1".into()], "idx"),
            columns: vec!["col_1".into()],
            unique: false,
            predicate: None,
            ..Default::default()
        });
        let mut key = |column: &str, references: QualifiedName| {
            table.add_foreign_key(ForeignKey {
                name: constraint_name(&name, &[column.into()], "fkey"),
                columns: vec![column.into()],
                references,
                referenced_columns: vec!["id".into()],
                on_delete: Default::default(),
                on_update: Default::default(),
                deferral: Default::default(),
                not_valid: false,
            })
        };
        // Every foreign key into a shared table puts two triggers on that
        // table, per tenant: see the guide's limits.
        match t {
            0 => key("col_3", QualifiedName::new("bench_shared", "kinds")),
            1 => key("col_3", QualifiedName::new("bench_shared", "types")),
            _ => {}
        }
        if t > 0 {
            key(
                "parent_id",
                QualifiedName::new(TENANT_PLACEHOLDER, format!("table_{:02}", t - 1)),
            );
            table.columns.push(Column::new("parent_id", "bigint"));
        }
        v1.add_table(table);
    }
    let mut v2 = v1.clone();
    for t in [0, 5, 10] {
        let name = format!("table_{t:02}");
        let table = v2.table_mut(TENANT_PLACEHOLDER, &name).unwrap();
        table.columns.push(Column::new("note", "text"));
        table.add_index(Index {
            name: constraint_name(&name, &["note".into()], "idx"),
            columns: vec!["note".into()],
            unique: false,
            predicate: None,
            ..Default::default()
        });
    }
    (v1, v2)
}
