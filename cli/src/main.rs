//! `strata`, the command line: a thin shell over the libraries that a
//! service uses at start-up, for a terminal or CI.
//!
//! ```text
//! strata --database-url postgres://localhost/shop status
//! strata plan                 # the SQL migrate would run, nothing changed
//! strata migrate --json       # apply, check drift, report as JSON
//! strata rollback --to 3 --confirm shop.items.note
//! strata drift                # exit 2 on drift
//! strata new backfill_labels
//! strata tenants --registry public.tenants.id migrate
//! ```

mod args;
mod commands;
mod diff;
mod lint;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    // clap exits with 2 on a usage mistake, which here means differences.
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return match error.use_stderr() {
                true => ExitCode::from(output::ERROR),
                false => ExitCode::SUCCESS,
            };
        }
    };
    match commands::run(&cli).await {
        Ok(outcome) => {
            output::print(&outcome, cli.json);
            ExitCode::from(outcome.status())
        }
        Err(error) => {
            output::print_error(&error, cli.json);
            ExitCode::from(output::ERROR)
        }
    }
}
