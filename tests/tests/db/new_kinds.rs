//! Issue 23: domains and exclusion constraints, each added through the
//! registries (one module per layer), from a `sql_dir` file through the
//! build, the migrator, drift, rollback, `strata pull` and `strata diff`,
//! on a real PostgreSQL, judged by migra and `pg_dump`.

use strata::sqlx;
use strata::{check_drift, DifferenceKind, Migrator, ObjectKind};

use crate::support::{fresh_db, psql, Scratch};

const FILMS: &str = r#"
#[strata::schema("shop", table = "films")]
pub struct Film {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(type = "shop.year")]
    pub release_year: Option<i32>,
    #[column(type = "shop.code")]
    pub code: String,
}
"#;

const YEAR: &str = "-- a year between 1901 and 2155, with its check named
CREATE DOMAIN shop.year AS integer
  CONSTRAINT year_check CHECK (VALUE >= 1901 AND VALUE <= 2155);
";

const CODE: &str = r#"CREATE DOMAIN shop.code AS varchar(10) COLLATE "C" DEFAULT 'x' NOT NULL
  CONSTRAINT code_letters CHECK (VALUE ~ '^[a-z]+$');
"#;

fn differences(drift: &strata::DriftReport) -> Vec<(DifferenceKind, ObjectKind, String, String)> {
    drift
        .differences
        .iter()
        .map(|d| {
            (
                d.kind,
                d.object,
                d.name.clone(),
                d.property.clone().unwrap_or_default(),
            )
        })
        .collect()
}

async fn refused(pool: &sqlx::PgPool, sql: &str) -> String {
    sqlx::raw_sql(sql)
        .execute(pool)
        .await
        .expect_err(sql)
        .to_string()
}

#[tokio::test]
async fn a_domain_comes_before_its_columns_is_altered_in_place_and_drift_checked() {
    let scratch = Scratch::with_models(FILMS);
    scratch.write_file("db/domains/year.sql", YEAR);
    scratch.write_file("db/domains/code.sql", CODE);
    let outcome = scratch.builder().sql_dir("db").run().unwrap();
    let up = std::fs::read_to_string(outcome.written.unwrap()).unwrap();
    let at = |text: &str| up.find(text).unwrap_or_else(|| panic!("{text} in:\n{up}"));
    assert!(at("CREATE DOMAIN shop.year") < at(r#"CREATE TABLE "shop"."films""#));

    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    // Clean although the server spells the checks its own way
    // (`((VALUE)::text ~ '^[a-z]+$'::text)`).
    assert!(report.drift.is_clean(), "{}", report.drift);
    // The domain does its work: the default, NOT NULL and both checks.
    psql(&pool, "INSERT INTO shop.films (release_year) VALUES (1999)").await;
    let code: (String,) = sqlx::query_as("SELECT code FROM shop.films")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(code.0, "x");
    assert!(
        refused(&pool, "INSERT INTO shop.films (release_year) VALUES (1800)")
            .await
            .contains("year_check")
    );
    assert!(
        refused(&pool, "INSERT INTO shop.films (code) VALUES ('A1')")
            .await
            .contains("code_letters")
    );

    // Changed by hand: each part is named.
    psql(
        &pool,
        "ALTER DOMAIN shop.year DROP CONSTRAINT year_check;
         ALTER DOMAIN shop.code SET DEFAULT 'y';
         CREATE DOMAIN shop.stray AS integer;",
    )
    .await;
    let drift = check_drift(&pool, &migrations).await.unwrap();
    let found = differences(&drift);
    let domain = |kind, name: &str, property: &str| {
        (
            kind,
            ObjectKind::Domain,
            name.to_owned(),
            property.to_owned(),
        )
    };
    assert_eq!(
        found,
        [
            domain(DifferenceKind::Changed, "shop.code", "default"),
            domain(DifferenceKind::Missing, "shop.year", "check year_check"),
            domain(DifferenceKind::Unexpected, "shop.stray", ""),
        ],
        "{drift}"
    );
    assert!(
        drift
            .to_string()
            .contains("changed domain shop.code default: expected 'x'"),
        "{drift}"
    );
    psql(
        &pool,
        "ALTER DOMAIN shop.year ADD CONSTRAINT year_check CHECK (VALUE >= 1901 AND VALUE <= 2155);
         ALTER DOMAIN shop.code SET DEFAULT 'x';
         DROP DOMAIN shop.stray;",
    )
    .await;
    assert!(check_drift(&pool, &migrations).await.unwrap().is_clean());

    // A wider check and no default: altered in place. The new check reads
    // every column of the type, so it waits for a confirmation.
    scratch.write_file(
        "db/domains/year.sql",
        "CREATE DOMAIN shop.year AS integer CONSTRAINT year_check CHECK (VALUE >= 1888);",
    );
    scratch.write_file(
        "db/domains/code.sql",
        r#"CREATE DOMAIN shop.code AS varchar(10) COLLATE "C" NOT NULL
  CONSTRAINT code_letters CHECK (VALUE ~ '^[a-z]+$');"#,
    );
    let error = scratch
        .builder()
        .sql_dir("db")
        .run()
        .unwrap_err()
        .to_string();
    assert!(error.contains("shop.year"), "{error}");
    assert!(error.contains("alter domain"), "{error}");
    let outcome = scratch
        .builder()
        .sql_dir("db")
        .confirm("shop.year")
        .run()
        .unwrap();
    let up = std::fs::read_to_string(outcome.written.unwrap()).unwrap();
    for statement in [
        r#"ALTER DOMAIN "shop"."year" DROP CONSTRAINT "year_check";"#,
        r#"ALTER DOMAIN "shop"."year" ADD CONSTRAINT "year_check" CHECK (VALUE >= 1888) NOT VALID;"#,
        r#"ALTER DOMAIN "shop"."year" VALIDATE CONSTRAINT "year_check";"#,
        r#"ALTER DOMAIN "shop"."code" DROP DEFAULT;"#,
    ] {
        assert!(up.contains(statement), "{statement} in:\n{up}");
    }
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    psql(
        &pool,
        "INSERT INTO shop.films (release_year, code) VALUES (1890, 'ab')",
    )
    .await;

    // Its base type cannot change in place: refused, with what to do.
    scratch.write_file("db/domains/year.sql", "CREATE DOMAIN shop.year AS bigint;");
    let error = scratch
        .builder()
        .sql_dir("db")
        .run()
        .unwrap_err()
        .to_string();
    assert!(error.contains("cannot alter in place"), "{error}");
    scratch.write_file(
        "db/domains/year.sql",
        "CREATE DOMAIN shop.year AS integer CONSTRAINT year_check CHECK (VALUE >= 1888);",
    );

    // Back to the first version, whose check the 1890 row would break.
    psql(&pool, "DELETE FROM shop.films WHERE release_year = 1890").await;
    let back = Migrator::new(&migrations)
        .confirm_all()
        .rollback_to(&pool, 1)
        .await
        .unwrap();
    assert!(back.drift.is_clean(), "{}", back.drift);
    let back = Migrator::new(&migrations)
        .confirm_all()
        .rollback_to(&pool, 0)
        .await
        .unwrap();
    assert!(back.drift.is_clean(), "{}", back.drift);
    let (domains,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'shop' AND t.typtype = 'd'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(domains, 0);
}

const STAYS: &str = r#"
#[strata::schema("booking", table = "stays")]
pub struct Stay {
    #[column(primary_key, identity)]
    pub id: i64,
    pub room: i32,
    #[column(type = "tstzrange")]
    pub during: String,
    pub cancelled: bool,
}
"#;

const NO_OVERLAP: &str = "ALTER TABLE booking.stays ADD CONSTRAINT no_overlap
  EXCLUDE USING gist (room WITH =, during WITH &&) WHERE (NOT cancelled);
";

#[tokio::test]
async fn an_exclusion_constraint_refuses_overlaps_moves_with_its_table_and_is_drift_checked() {
    let scratch = Scratch::with_models(STAYS);
    scratch.write_file("db/exclusions/no_overlap.sql", NO_OVERLAP);
    let outcome = scratch
        .builder()
        .extension("btree_gist")
        .sql_dir("db")
        .run()
        .unwrap();
    let up = std::fs::read_to_string(outcome.written.unwrap()).unwrap();
    let at = |text: &str| up.find(text).unwrap_or_else(|| panic!("{text} in:\n{up}"));
    assert!(
        at(r#"CREATE TABLE "booking"."stays""#)
            < at(r#"ALTER TABLE "booking"."stays" ADD CONSTRAINT "no_overlap" EXCLUDE USING gist"#)
    );

    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    psql(
        &pool,
        "INSERT INTO booking.stays (room, during, cancelled) VALUES
           (1, '[2026-01-01,2026-01-05)', false), (1, '[2026-01-03,2026-01-04)', true)",
    )
    .await;
    assert!(refused(
        &pool,
        "INSERT INTO booking.stays (room, during, cancelled) VALUES (1, '[2026-01-04,2026-01-08)', false)"
    )
    .await
    .contains("no_overlap"));

    // Dropped by hand, then made with another rule: drift names it.
    psql(
        &pool,
        "ALTER TABLE booking.stays DROP CONSTRAINT no_overlap",
    )
    .await;
    let drift = check_drift(&pool, &migrations).await.unwrap();
    assert_eq!(
        differences(&drift),
        [(
            DifferenceKind::Missing,
            ObjectKind::Exclusion,
            "booking.no_overlap".to_owned(),
            String::new()
        )],
        "{drift}"
    );
    psql(
        &pool,
        "ALTER TABLE booking.stays ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&) WHERE (NOT cancelled AND room > 0)",
    )
    .await;
    let drift = check_drift(&pool, &migrations).await.unwrap();
    assert_eq!(drift.differences.len(), 1, "{drift}");
    assert_eq!(
        drift.differences[0].kind,
        DifferenceKind::Changed,
        "{drift}"
    );
    psql(
        &pool,
        &format!("ALTER TABLE booking.stays DROP CONSTRAINT no_overlap; {NO_OVERLAP}"),
    )
    .await;
    assert!(check_drift(&pool, &migrations).await.unwrap().is_clean());

    // The table moves to another schema: the constraint goes with it, not
    // dropped and built again.
    scratch.write_models(&STAYS.replace(
        r#"#[strata::schema("booking", table = "stays")]"#,
        r#"#[strata::schema("hotel", table = "stays", moved_from = "booking")]"#,
    ));
    scratch.write_file(
        "db/exclusions/no_overlap.sql",
        &NO_OVERLAP.replace("booking.stays", "hotel.stays"),
    );
    let outcome = scratch
        .builder()
        .extension("btree_gist")
        .sql_dir("db")
        .run()
        .unwrap();
    let up = std::fs::read_to_string(outcome.written.unwrap()).unwrap();
    assert!(up.contains("SET SCHEMA"), "{up}");
    assert!(!up.contains("no_overlap"), "{up}");
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);

    // A new one on a table with rows waits for a confirmation.
    scratch.write_file(
        "db/exclusions/one_per_room.sql",
        "ALTER TABLE hotel.stays ADD CONSTRAINT one_stay_per_room EXCLUDE USING gist (room WITH =) WHERE (NOT cancelled AND room > 100);",
    );
    let error = scratch
        .builder()
        .extension("btree_gist")
        .sql_dir("db")
        .run()
        .unwrap_err()
        .to_string();
    assert!(error.contains("hotel.stays.one_stay_per_room"), "{error}");
    scratch
        .builder()
        .extension("btree_gist")
        .sql_dir("db")
        .confirm("hotel.stays.one_stay_per_room")
        .run()
        .unwrap();
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);

    // Rolled back to the first version: the table back where it was, its rows kept.
    let back = Migrator::new(&migrations)
        .confirm_all()
        .rollback_to(&pool, 1)
        .await
        .unwrap();
    assert!(back.drift.is_clean(), "{}", back.drift);
    let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM booking.stays")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 2);
}

/// A database made by hand, with domains, an exclusion constraint, a
/// constraint trigger and an `INSTEAD OF` trigger on a view.
const HAND_MADE: &str = r#"
CREATE EXTENSION btree_gist;
CREATE SCHEMA booking;
CREATE DOMAIN booking.guests AS smallint DEFAULT 1 NOT NULL
  CONSTRAINT guests_positive CHECK (VALUE > 0) CONSTRAINT guests_few CHECK (VALUE < 12);
CREATE DOMAIN booking.note AS text COLLATE "C" CONSTRAINT note_short CHECK (length(VALUE) < 200);
CREATE TABLE booking.stays (
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  room integer NOT NULL,
  during tstzrange NOT NULL,
  guests booking.guests NOT NULL,
  note booking.note,
  CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&)
);
CREATE VIEW booking.open_stays AS SELECT id, room, during FROM booking.stays;
CREATE FUNCTION booking.insert_open_stay() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO booking.stays (room, during, guests) VALUES (NEW.room, NEW.during, 1);
  RETURN NEW;
END $$;
CREATE TRIGGER open_stays_insert INSTEAD OF INSERT ON booking.open_stays
  FOR EACH ROW EXECUTE FUNCTION booking.insert_open_stay();
CREATE FUNCTION booking.check_room() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.room < 0 THEN RAISE EXCEPTION 'no such room'; END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER stays_room AFTER INSERT OR UPDATE ON booking.stays
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION booking.check_room();
"#;

#[tokio::test]
async fn a_hand_made_database_with_the_new_kinds_pulls_builds_and_diffs_to_the_same_database() {
    let ((db_a, a), (db_b, b), (db_c, c)) = (fresh_db().await, fresh_db().await, fresh_db().await);
    psql(&a, HAND_MADE).await;
    let state = strata::read_database(&a, None).await.unwrap();
    assert_eq!(state.domains.len(), 2, "{:?}", state.domains);
    let stays = state.table("booking", "stays").unwrap();
    assert_eq!(stays.exclusions.len(), 1, "{stays:?}");

    // Pulled into models and files, built, migrated: the same database.
    let krate = tempfile::tempdir().unwrap();
    let pulled = strata_tools::pull::write(&state, krate.path()).unwrap();
    assert_eq!(pulled.not_expressed, Vec::<String>::new());
    for file in [
        "db/domains/booking.guests.sql",
        "db/domains/booking.note.sql",
        "db/exclusions/booking.stays.no_overlap.sql",
        "db/triggers/booking.stays.stays_room.sql",
        "db/triggers/booking.open_stays.open_stays_insert.sql",
    ] {
        assert!(krate.path().join(file).is_file(), "{file}");
    }
    let outcome = pulled
        .build
        .builder(krate.path())
        .frozen(false)
        .run()
        .unwrap_or_else(|e| panic!("the pulled models build: {e}"));
    assert!(outcome.written.is_some());
    let pulled_migrations = strata::Migrations::from_dir(krate.path().join("migrations")).unwrap();
    let report = Migrator::new(&pulled_migrations).run(&b).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    strata_tests::judges::assert_same(db_a.url(), db_b.url());
    strata_tests::pulled::compiles(krate.path());

    // `strata diff` from an empty database gets there too.
    let schemas = ["booking".to_owned()];
    psql(&c, "CREATE EXTENSION btree_gist").await;
    let diff = strata_tools::DatabaseDiff::plan(&c, &a, Some(&schemas), false)
        .await
        .unwrap();
    assert!(diff.sql.contains("CREATE DOMAIN"), "{}", diff.sql);
    diff.apply(&c).await.unwrap();
    assert_eq!(diff.remaining(&c, &a).await.unwrap(), Vec::<String>::new());
    strata_tests::judges::assert_same(db_a.url(), db_c.url());
}
