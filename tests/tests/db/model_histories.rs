//! A property test through the real build: random histories of model
//! source, at least three steps each, are written as Rust files into a
//! scratch crate, planned by `strata_build::Builder` and applied by the
//! migrator, with rows in every table at every step. The histories drop
//! tables and columns (confirmed), widen and narrow types (`varchar`,
//! `numeric` scale, `timestamp` precision, integers), change nullability
//! and defaults, add and remove doc comments (comments on tables and
//! columns), grow, rename, shrink, reorder and drop an enum type, make,
//! alter and drop a sequence, a domain (its check tightened and loosened)
//! and exclusion constraints of the `sql_dir`, and reuse the names of what
//! they dropped. Then the database is rolled back to every earlier
//! version in turn.
//!
//! Checked: the build refuses exactly the steps that can lose data or
//! cannot apply to rows until they are confirmed; each version is
//! drift-clean; every value of every row survives every rollback in the
//! columns that were there all along.
//!
//! proptest shrinks a failing history to a small one and prints it;
//! `PROPTEST_CASES` sets how many run (200 by default), and a failure is
//! saved under `proptest-regressions/` to be replayed first next time.

use std::collections::BTreeMap;

use proptest::prelude::*;
use strata::sqlx::{self, PgPool};
use strata::{DriftPolicy, Migrator};

use crate::support::Scratch;

const TABLES: [&str; 3] = ["t_a", "t_b", "Tc"];
const COLUMNS: [&str; 4] = ["a", "b", "Odd Name", "d"];

/// Types from narrowest to widest; every row's value fits the narrowest.
/// The labels the enum type `hist.mood` may hold, in snake_case as its
/// variants spell them.
const MOODS: [&str; 5] = ["calm", "busy", "late", "idle", "new_one"];

const LADDERS: [&[&str]; 4] = [
    &["integer", "bigint"],
    &["varchar(10)", "varchar(40)", "text"],
    &["numeric(8,2)", "numeric(12,2)", "numeric(14,4)"],
    &["timestamp(0)", "timestamp(3)"],
];

fn default_of(ladder: usize) -> &'static str {
    ["7", "'dflt'", "1.50", "'2000-01-01 00:00:00'"][ladder]
}

fn value_of(ladder: usize, row: usize) -> String {
    match ladder {
        0 => (row * 7).to_string(),
        1 => format!("'v{row}'"),
        2 => format!("{row}.25"),
        _ => format!("TIMESTAMP '2020-01-01 00:00:00' + interval '{row} hours'"),
    }
}

/// One step of a history; indices pick among what exists when it runs.
#[derive(Debug, Clone)]
enum Step {
    AddTable(usize),
    DropTable(usize),
    AddColumn {
        table: usize,
        name: usize,
        ladder: usize,
        nullable: bool,
        default: bool,
    },
    DropColumn(usize, usize),
    Widen(usize, usize),
    Narrow(usize, usize),
    ToggleNull(usize, usize),
    ToggleDefault(usize, usize),
    /// The doc comment of a table (no column: `usize::MAX`) or column.
    ToggleComment(usize, usize),
    /// A view over a table and a trigger on it (from the `sql_dir`), and
    /// the trigger function's body, which counts the watched tables.
    ToggleWatch(usize),
    /// The enum type `hist.mood`: made with two values, or dropped.
    ToggleEnum,
    /// A value appended to the enum (`ALTER TYPE … ADD VALUE`).
    EnumAdd,
    /// A value renamed (`#[value(renamed_from)]`).
    EnumRename(usize),
    /// A value removed: a rebuild, confirmed.
    EnumRemove(usize),
    /// Two values swapped: a rebuild, confirmed.
    EnumSwap(usize),
    /// The sequence `hist.counter` of the `sql_dir`: made, or dropped (confirmed).
    ToggleSequence,
    /// The sequence's increment changed (`ALTER SEQUENCE`).
    SequenceIncrement(i64),
    /// The domain `hist.tally` of the `sql_dir`: made, or dropped.
    ToggleDomain,
    /// The domain's check: `VALUE >= -n`; a changed one is confirmed.
    DomainFloor(i64),
    /// An exclusion constraint of the `sql_dir` on a table (no two rows
    /// with one id): added to a table with rows (confirmed), or dropped.
    ToggleExclusion(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..TABLES.len()).prop_map(Step::AddTable),
        (0..4usize).prop_map(Step::DropTable),
        (
            0..4usize,
            0..COLUMNS.len(),
            0..LADDERS.len(),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(table, name, ladder, nullable, default)| Step::AddColumn {
                table,
                name,
                ladder,
                nullable,
                default,
            }),
        (0..4usize, 0..4usize).prop_map(|(t, c)| Step::DropColumn(t, c)),
        (0..4usize, 0..4usize).prop_map(|(t, c)| Step::Widen(t, c)),
        (0..4usize, 0..4usize).prop_map(|(t, c)| Step::Narrow(t, c)),
        (0..4usize, 0..4usize).prop_map(|(t, c)| Step::ToggleNull(t, c)),
        (0..4usize, 0..4usize).prop_map(|(t, c)| Step::ToggleDefault(t, c)),
        (0..4usize, prop_oneof![Just(usize::MAX), 0..4usize])
            .prop_map(|(t, c)| Step::ToggleComment(t, c)),
        (0..4usize).prop_map(Step::ToggleWatch),
        Just(Step::ToggleEnum),
        Just(Step::EnumAdd),
        (0..4usize).prop_map(Step::EnumRename),
        (0..4usize).prop_map(Step::EnumRemove),
        (0..4usize).prop_map(Step::EnumSwap),
        Just(Step::ToggleSequence),
        (1..4i64).prop_map(Step::SequenceIncrement),
        Just(Step::ToggleDomain),
        (1..4i64).prop_map(Step::DomainFloor),
        (0..4usize).prop_map(Step::ToggleExclusion),
    ]
}

#[derive(Debug, Clone, PartialEq)]
struct Col {
    /// Distinct for each column ever made, so a reused name is a new column.
    instance: usize,
    name: &'static str,
    ladder: usize,
    rung: usize,
    nullable: bool,
    default: bool,
    comment: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct Tab {
    instance: usize,
    name: &'static str,
    cols: Vec<Col>,
    comment: bool,
    watched: bool,
    excluded: bool,
}

#[derive(Debug, Clone, Default)]
struct World {
    tables: Vec<Tab>,
    made: usize,
    /// Columns whose NULLs a hand-written migration filled before they
    /// became NOT NULL: their old NULLs do not come back on a rollback.
    backfilled: Vec<usize>,
    /// The backfill the next build takes in: table, column, default.
    backfill: Option<(&'static str, &'static str, &'static str)>,
    /// The values of the enum type `hist.mood`, if it exists.
    mood: Option<Vec<&'static str>>,
    /// The renames the next build's source declares: old label, new label.
    renamed: Vec<(&'static str, &'static str)>,
    /// The increment of the sequence `hist.counter`, if it exists.
    counter: Option<i64>,
    /// The floor of the domain `hist.tally`'s check, if it exists.
    tally: Option<i64>,
}

impl World {
    fn make(&mut self) -> usize {
        self.made += 1;
        self.made
    }

    fn column(&mut self, name: &'static str, ladder: usize) -> Col {
        Col {
            instance: self.make(),
            name,
            ladder,
            rung: 0,
            nullable: true,
            default: false,
            comment: false,
        }
    }

    /// Applies a step; returns whether the build must refuse it unconfirmed,
    /// or `None` when it changes nothing.
    fn apply(&mut self, step: &Step) -> Option<bool> {
        let pick = |n: usize, i: usize| (n > 0).then(|| i % n);
        match *step {
            Step::AddTable(name) => {
                let name = TABLES[name];
                if self.tables.iter().any(|t| t.name == name) {
                    return None;
                }
                let col = self.column("a", name.len() % LADDERS.len());
                let instance = self.make();
                self.tables.push(Tab {
                    instance,
                    name,
                    cols: vec![col],
                    comment: false,
                    watched: false,
                    excluded: false,
                });
                Some(false)
            }
            Step::DropTable(t) => {
                let t = pick(self.tables.len(), t)?;
                self.tables.remove(t);
                Some(true)
            }
            Step::AddColumn {
                table,
                name,
                ladder,
                nullable,
                default,
            } => {
                let t = pick(self.tables.len(), table)?;
                let name = COLUMNS[name];
                if self.tables[t].cols.iter().any(|c| c.name == name) {
                    return None;
                }
                let mut col = self.column(name, ladder);
                col.nullable = nullable;
                // A NOT NULL column added to rows needs a default to apply.
                col.default = default || !nullable;
                self.tables[t].cols.push(col);
                Some(false)
            }
            Step::DropColumn(t, c) => {
                let t = pick(self.tables.len(), t)?;
                let c = pick(self.tables[t].cols.len(), c)?;
                self.tables[t].cols.remove(c);
                Some(true)
            }
            Step::Widen(t, c) | Step::Narrow(t, c) => {
                let t = pick(self.tables.len(), t)?;
                let c = pick(self.tables[t].cols.len(), c)?;
                let col = &mut self.tables[t].cols[c];
                let top = LADDERS[col.ladder].len() - 1;
                let widen = matches!(step, Step::Widen(..));
                let from = LADDERS[col.ladder][col.rung];
                match (widen, col.rung) {
                    (true, rung) if rung < top => col.rung += 1,
                    (false, rung) if rung > 0 => col.rung -= 1,
                    _ => return None,
                }
                // A narrowing loses values; a widening that rewrites the
                // table is a hazard: both are refused unconfirmed.
                let to = LADDERS[col.ladder][col.rung];
                let in_catalog = strata_manifest::is_metadata_only(
                    &strata_manifest::canonical_type(from),
                    &strata_manifest::canonical_type(to),
                );
                Some(!widen || !in_catalog)
            }
            Step::ToggleNull(t, c) => {
                let t = pick(self.tables.len(), t)?;
                let c = pick(self.tables[t].cols.len(), c)?;
                let table = self.tables[t].name;
                let col = &mut self.tables[t].cols[c];
                col.nullable = !col.nullable;
                if !col.nullable {
                    // As a user would: fill the NULLs first, by hand, then require.
                    self.backfill = Some((table, col.name, default_of(col.ladder)));
                    self.backfilled.push(col.instance);
                }
                Some(!col.nullable)
            }
            Step::ToggleDefault(t, c) => {
                let t = pick(self.tables.len(), t)?;
                let c = pick(self.tables[t].cols.len(), c)?;
                let col = &mut self.tables[t].cols[c];
                col.default = !col.default;
                Some(false)
            }
            Step::ToggleComment(t, usize::MAX) => {
                let t = pick(self.tables.len(), t)?;
                self.tables[t].comment = !self.tables[t].comment;
                Some(false)
            }
            Step::ToggleComment(t, c) => {
                let t = pick(self.tables.len(), t)?;
                let c = pick(self.tables[t].cols.len(), c)?;
                let col = &mut self.tables[t].cols[c];
                col.comment = !col.comment;
                Some(false)
            }
            Step::ToggleWatch(t) => {
                let t = pick(self.tables.len(), t)?;
                self.tables[t].watched = !self.tables[t].watched;
                Some(false)
            }
            Step::ToggleEnum => {
                self.mood = match self.mood.take() {
                    Some(_) => None,
                    None => Some(vec![MOODS[0], MOODS[1]]),
                };
                Some(false)
            }
            // On a history without the enum, each of these makes it first.
            Step::EnumAdd | Step::EnumRename(_) | Step::EnumRemove(_) | Step::EnumSwap(_)
                if self.mood.is_none() =>
            {
                self.mood = Some(vec![MOODS[0], MOODS[1]]);
                Some(false)
            }
            Step::EnumAdd => {
                let values = self.mood.as_mut()?;
                let label = MOODS.iter().find(|m| !values.contains(m))?;
                values.push(label);
                Some(false)
            }
            Step::EnumRename(i) => {
                let values = self.mood.as_mut()?;
                let i = pick(values.len(), i)?;
                let label = MOODS.iter().find(|m| !values.contains(m))?;
                self.renamed.push((values[i], label));
                values[i] = label;
                Some(false)
            }
            Step::EnumRemove(i) => {
                let values = self.mood.as_mut().filter(|v| v.len() > 1)?;
                let i = pick(values.len(), i)?;
                values.remove(i);
                Some(true)
            }
            Step::EnumSwap(i) => {
                let values = self.mood.as_mut().filter(|v| v.len() > 1)?;
                let i = pick(values.len() - 1, i)?;
                values.swap(i, i + 1);
                Some(true)
            }
            Step::ToggleSequence => match self.counter.take() {
                Some(_) => Some(true),
                None => {
                    self.counter = Some(1);
                    Some(false)
                }
            },
            // On a history without the sequence, this makes it.
            Step::SequenceIncrement(by) => match &mut self.counter {
                Some(counter) if *counter == by => None,
                counter => {
                    *counter = Some(by);
                    Some(false)
                }
            },
            Step::ToggleDomain => {
                self.tally = match self.tally {
                    Some(_) => None,
                    None => Some(1),
                };
                Some(false)
            }
            // A changed check reads the columns of the type again
            // (strata cannot tell a looser one from a tighter): confirmed.
            // On a history without the domain, this makes it.
            Step::DomainFloor(n) => match self.tally.replace(n) {
                Some(was) if was == n => None,
                Some(_) => Some(true),
                None => Some(false),
            },
            Step::ToggleExclusion(t) => {
                let t = pick(self.tables.len(), t)?;
                let table = &mut self.tables[t];
                table.excluded = !table.excluded;
                Some(table.excluded)
            }
        }
    }

    /// The `sql_dir` files: the trigger function (its body says how many
    /// tables are watched, so toggling replaces it) and each watched
    /// table's trigger.
    fn sql_files(&self) -> Vec<(String, String)> {
        let watched: Vec<&Tab> = self.tables.iter().filter(|t| t.watched).collect();
        let mut files = vec![(
            "db/touched.sql".to_owned(),
            format!(
                "CREATE FUNCTION hist.touched() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  -- {} watched\n  RETURN NEW;\nEND\n$$;\n",
                watched.len()
            ),
        )];
        if let Some(by) = self.counter {
            files.push((
                "db/counter.sql".to_owned(),
                format!("CREATE SEQUENCE hist.counter INCREMENT BY {by};\n"),
            ));
        }
        if let Some(n) = self.tally {
            files.push((
                "db/tally.sql".to_owned(),
                format!(
                    "CREATE DOMAIN hist.tally AS integer DEFAULT 0 CONSTRAINT tally_floor CHECK (VALUE >= -{n});\n"
                ),
            ));
        }
        for table in self.tables.iter().filter(|t| t.excluded) {
            files.push((
                format!("db/one_id_{}.sql", table.instance),
                format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} EXCLUDE USING btree (id WITH =);\n",
                    qualified(table.name),
                    strata_manifest::quote_ident(&format!("{}_one_id", table.name))
                ),
            ));
        }
        for table in watched {
            files.push((
                format!("db/watch_{}.sql", table.name),
                format!(
                    "CREATE TRIGGER watch BEFORE UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION hist.touched();\n",
                    qualified(table.name)
                ),
            ));
        }
        files
    }

    /// The world as model source, as a user would write it.
    fn source(&self) -> String {
        let mut out = String::new();
        if let Some(values) = &self.mood {
            out.push_str("#[strata::schema(\"hist\")]\npub enum Mood {\n");
            for value in values {
                if let Some((from, _)) = self.renamed.iter().find(|(_, to)| to == value) {
                    out.push_str(&format!("    #[value(renamed_from = {from:?})]\n"));
                }
                let variant: String = value
                    .split('_')
                    .flat_map(|word| {
                        let mut chars = word.chars();
                        chars
                            .next()
                            .map(|c| c.to_ascii_uppercase())
                            .into_iter()
                            .chain(chars)
                    })
                    .collect();
                out.push_str(&format!("    {variant},\n"));
            }
            out.push_str("}\n\n");
        }
        for table in &self.tables {
            let ident: String = table.name.chars().filter(|c| c.is_alphanumeric()).collect();
            if table.comment {
                // A quote and a non-ASCII letter, as real comments have.
                out.push_str(&format!("/// Table {} — it's kept.\n", table.instance));
            }
            out.push_str(&format!(
                "#[strata::schema(\"hist\", table = {:?})]\npub struct Model{} {{\n    #[column(primary_key, identity)]\n    pub id: i64,\n",
                table.name,
                ident.to_uppercase()
            ));
            for (i, col) in table.cols.iter().enumerate() {
                let default = if col.default {
                    format!(", default = {:?}", default_of(col.ladder))
                } else {
                    String::new()
                };
                let ty = if col.nullable {
                    "Option<String>"
                } else {
                    "String"
                };
                if col.comment {
                    out.push_str(&format!("    /// Column {}.\n", col.instance));
                }
                out.push_str(&format!(
                    "    #[column(name = {:?}, type = {:?}{default})]\n    pub f{i}: {ty},\n",
                    col.name, LADDERS[col.ladder][col.rung]
                ));
            }
            out.push_str("}\n\n");
            if table.watched {
                // A view over the table: dropped and made again around a
                // type change of the table's columns.
                out.push_str(&format!(
                    "#[strata::view(\"hist\", sql = \"SELECT * FROM {}\")]\npub struct Watch{} {{\n    pub id: i64,\n",
                    qualified(table.name).replace('"', "\\\""),
                    ident.to_uppercase()
                ));
                for (i, col) in table.cols.iter().enumerate() {
                    out.push_str(&format!(
                        "    #[column(name = {:?})]\n    pub f{i}: Option<String>,\n",
                        col.name
                    ));
                }
                out.push_str("}\n\n");
            }
        }
        out
    }
}

/// Every table's rows: id to each column's value as text.
type Snapshot = BTreeMap<usize, BTreeMap<i64, BTreeMap<usize, Option<String>>>>;

fn qualified(table: &str) -> String {
    strata::qualified("hist", table)
}

async fn insert_rows(pool: &PgPool, world: &World, step: usize) -> Result<(), String> {
    for table in &world.tables {
        for row in 0..2 {
            let n = step * 2 + row;
            let (names, values): (Vec<String>, Vec<String>) = table
                .cols
                .iter()
                .map(|c| (strata::quote_ident(c.name), value_of(c.ladder, n)))
                .unzip();
            let sql = if names.is_empty() {
                format!("INSERT INTO {} DEFAULT VALUES", qualified(table.name))
            } else {
                format!(
                    "INSERT INTO {} ({}) VALUES ({})",
                    qualified(table.name),
                    names.join(", "),
                    values.join(", ")
                )
            };
            sqlx::raw_sql(&sql)
                .execute(pool)
                .await
                .map_err(|e| format!("{sql}: {e}"))?;
        }
    }
    Ok(())
}

async fn snapshot(pool: &PgPool, world: &World) -> Result<Snapshot, String> {
    let mut all = Snapshot::new();
    for table in &world.tables {
        let mut columns = vec!["id::text".to_owned()];
        columns.extend(
            table
                .cols
                .iter()
                .map(|c| format!("{}::text", strata::quote_ident(c.name))),
        );
        let sql = format!(
            "SELECT ARRAY[{}] FROM {}",
            columns.join(", "),
            qualified(table.name)
        );
        let rows: Vec<(Vec<Option<String>>,)> = sqlx::query_as(&sql)
            .fetch_all(pool)
            .await
            .map_err(|e| format!("{sql}: {e}"))?;
        let mut by_id = BTreeMap::new();
        for (values,) in rows {
            let id: i64 = values[0].as_deref().unwrap_or("0").parse().unwrap_or(0);
            let row = table
                .cols
                .iter()
                .zip(values.into_iter().skip(1))
                .map(|(c, v)| (c.instance, v))
                .collect();
            by_id.insert(id, row);
        }
        all.insert(table.instance, by_id);
    }
    Ok(all)
}

/// `column "a" of relation "t_a" contains null values` → `("t_a", "a")`.
fn null_column(message: &str) -> Option<(String, String)> {
    let rest = message.split_once("column \"")?.1;
    let (column, rest) = rest.split_once("\" of relation \"")?;
    let (table, rest) = rest.split_once('"')?;
    rest.starts_with(" contains null values")
        .then(|| (table.to_owned(), column.to_owned()))
}

/// True when some version from here on has no column `column` in `table`,
/// or another one of that name: its values were dropped, as confirmed.
fn dropped_since(versions: &[(u32, World, Snapshot)], table: &str, column: &str) -> bool {
    let instances: Vec<Option<usize>> = versions
        .iter()
        .map(|(_, w, _)| {
            w.tables
                .iter()
                .find(|t| t.name == table)
                .and_then(|t| t.cols.iter().find(|c| c.name == column))
                .map(|c| c.instance)
        })
        .collect();
    instances.iter().any(|i| i.is_none()) || instances.windows(2).any(|w| w[0] != w[1])
}

async fn run_history(steps: &[Step]) -> Result<(), String> {
    let scratch = Scratch::with_models("");
    let db = strata::testing::database()
        .await
        .map_err(|e| e.to_string())?;
    let pool = db.pool().await.map_err(|e| e.to_string())?;
    let mut world = World::default();
    // The world after each version, and the rows it held then.
    let mut versions: Vec<(u32, World, Snapshot)> = vec![(0, World::default(), Snapshot::new())];
    for (n, step) in steps.iter().enumerate() {
        let Some(lossy) = world.apply(step) else {
            continue;
        };
        scratch.write_models(&world.source());
        let _ = std::fs::remove_dir_all(scratch.path().join("db"));
        for (file, text) in world.sql_files() {
            scratch.write_file(&file, &text);
        }
        if let Some((table, column, default)) = world.backfill.take() {
            let dir = scratch.migrations_dir();
            let up = strata_build::new_migration(&dir, "backfill").map_err(|e| e.to_string())?;
            let column = strata::quote_ident(column);
            let sql = format!(
                "UPDATE {} SET {column} = {default} WHERE {column} IS NULL;\n",
                qualified(table)
            );
            std::fs::write(&up, sql).map_err(|e| e.to_string())?;
            let down = up.with_extension("down.sql");
            std::fs::write(
                down,
                "-- The backfill stays: the values it wrote are kept.\n",
            )
            .map_err(|e| e.to_string())?;
        }
        // A rename is declared for the one build that makes it.
        world.renamed.clear();
        let unconfirmed = scratch.builder().sql_dir("db").run();
        match (&unconfirmed, lossy) {
            (Ok(outcome), false) if outcome.written.is_some() => {}
            (Err(e), true) if e.to_string().contains("STRATA_CONFIRM=") => {
                scratch
                    .builder()
                    .sql_dir("db")
                    .confirm_all()
                    .run()
                    .map_err(|e| format!("step {n} {step:?}, confirmed: {e}"))?;
            }
            _ => {
                return Err(format!(
                    "step {n} {step:?}: expected the build to {} it, got {unconfirmed:?}",
                    if lossy { "refuse" } else { "write" }
                ))
            }
        }
        let migrations = scratch.migrations();
        Migrator::new(&migrations)
            .run(&pool)
            .await
            .map_err(|e| format!("step {n} {step:?}: applying: {e}\n{}", world.source()))?;
        insert_rows(&pool, &world, n).await?;
        let version = migrations
            .manifest()
            .map_err(|e| e.to_string())?
            .next_version()
            - 1;
        versions.push((version, world.clone(), snapshot(&pool, &world).await?));
    }

    let migrations = scratch.migrations();
    let last = versions.len() - 1;
    for at in (0..last).rev() {
        let (version, world_then, rows_then) = &versions[at];
        let mut attempts = 0;
        while let Err(e) = Migrator::new(&migrations)
            .confirm_all()
            .drift_policy(DriftPolicy::Fail)
            .rollback_to(&pool, *version)
            .await
        {
            // A column dropped (confirmed) and restored by a later down comes
            // back NULL; a down that makes it NOT NULL again then fails
            // loudly, in its transaction, and the user fills it by hand.
            attempts += 1;
            let message = e.to_string();
            let null_column = null_column(&message).filter(|(table, column)| {
                attempts < 4 && dropped_since(&versions[at..], table, column)
            });
            let Some((table, column)) = null_column else {
                return Err(format!("rolling back to {version}: {message}"));
            };
            let ladder = versions[at..]
                .iter()
                .flat_map(|(_, w, _)| &w.tables)
                .filter(|t| t.name == table)
                .flat_map(|t| &t.cols)
                .find(|c| c.name == column)
                .map_or(0, |c| c.ladder);
            let column = strata::quote_ident(&column);
            let fill = format!(
                "UPDATE {} SET {column} = {} WHERE {column} IS NULL",
                qualified(&table),
                default_of(ladder)
            );
            sqlx::raw_sql(&fill)
                .execute(&pool)
                .await
                .map_err(|e| format!("{fill}: {e}"))?;
        }
        let now = snapshot(&pool, world_then).await?;
        let later = &versions[at..];
        for table in &world_then.tables {
            // Only what existed at every version since keeps its values.
            let table_lasted = later
                .iter()
                .all(|(_, w, _)| w.tables.iter().any(|t| t.instance == table.instance));
            if !table_lasted {
                continue;
            }
            let lasted = |instance: usize| {
                let backfilled_since = later
                    .iter()
                    .any(|(_, w, _)| w.backfilled.contains(&instance))
                    && !world_then.backfilled.contains(&instance);
                !backfilled_since
                    && later.iter().all(|(_, w, _)| {
                        w.tables.iter().any(|t| {
                            t.instance == table.instance
                                && t.cols.iter().any(|c| c.instance == instance)
                        })
                    })
            };
            for (id, row) in &rows_then[&table.instance] {
                let Some(now_row) = now[&table.instance].get(id) else {
                    return Err(format!(
                        "rolling back to {version}: row {id} of {} is gone",
                        table.name
                    ));
                };
                for (instance, value) in row {
                    if lasted(*instance) && now_row.get(instance) != Some(value) {
                        return Err(format!(
                            "rolling back to {version}: {}.{id} changed: {value:?} became {:?}",
                            table.name,
                            now_row.get(instance)
                        ));
                    }
                }
            }
        }
    }
    pool.close().await;
    db.destroy().await.map_err(|e| e.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(200),
        max_shrink_iters: 200,
        ..ProptestConfig::default()
    })]

    #[test]
    fn model_histories_through_the_real_build_keep_every_row_both_ways(
        steps in prop::collection::vec(step(), 3..7)
            .prop_map(|mut steps| {
                // Start from a table, so every history has something to change.
                steps.insert(0, Step::AddTable(0));
                steps
            })
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let outcome = runtime.block_on(run_history(&steps));
        prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    }
}
