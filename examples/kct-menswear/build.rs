fn main() {
    strata_build::Builder::new() // models in "src", files in "migrations"
        // Other services fill this schema; the shop only makes sure it exists.
        .schema("cache")
        // Old unqualified queries keep finding the tables after they moved.
        .search_path([
            "public",
            "tenant_shared",
            "tenant_kct",
            "analytics",
            "cache",
            "audit",
        ])
        // The trigram index on product names.
        .extension("pg_trgm")
        // The audit trigger and its function.
        .sql_dir("db")
        // NOT NULL fails on a row holding NULL: migration 0005 filled them.
        .confirm("tenant_kct.appointments.stylist")
        // Every error as cargo's own, each once, and no panic.
        .report();
}
