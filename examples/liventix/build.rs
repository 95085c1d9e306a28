fn main() {
    strata_build::Builder::new() // models in "src", files in "migrations"
        // The application's role: every grant and policy names it. Created
        // NOLOGIN, without BYPASSRLS, when missing.
        .role("liventix_app")
        // current_org_id(), current_user_id() and user_orgs(), which the
        // policies call.
        .sql_dir("db")
        // Every error as cargo's own, each once, and no panic.
        .report();
}
