//! Helpers shared by strata's integration tests and its benchmark binary.

use std::path::Path;

use strata_manifest::{
    checksum, diff_with, render_down, render_migration, Manifest, MigrationEntry, SchemaState,
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
        let changes = diff_with(from, to, false).expect("no destructive change in a step");
        let name = format!("step_{version}");
        let up = render_migration(version, &name, &changes);
        let file = format!("{version:04}_{name}.sql");
        let down_file = format!("{version:04}_{name}.down.sql");
        std::fs::write(dir.join(&file), &up).unwrap();
        std::fs::write(dir.join(&down_file), render_down(version, &name, &changes)).unwrap();
        manifest.migrations.push(MigrationEntry {
            version,
            name,
            checksum: checksum(&up),
            file,
            down_file: Some(down_file),
            changes,
        });
        manifest.state = (*to).clone();
        ups.push(up);
    }
    std::fs::write(dir.join("manifest.json"), manifest.to_json()).unwrap();
    ups
}
