//! Progress of long work: a bar on a terminal, plain lines otherwise (a CI
//! log, a pipe), always on standard error so standard output stays the report.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use strata::TenantProgress;

/// How tenants' progress is shown.
#[derive(Debug, Clone)]
pub struct Progress {
    /// The bar, when standard error is a terminal.
    bar: Option<ProgressBar>,
    /// Without a bar: a line for every tenant, or (in a rollout, which has
    /// a line per wave) for those that fail only.
    every_tenant: bool,
}

impl Progress {
    /// A bar when standard error is a terminal, else plain lines.
    pub fn new() -> Self {
        Progress::with_terminal(std::io::stderr().is_terminal())
    }

    fn with_terminal(terminal: bool) -> Self {
        let bar = terminal.then(|| {
            let bar = ProgressBar::no_length();
            if let Ok(style) =
                ProgressStyle::with_template("{bar:40} {pos}/{len} tenants {elapsed} {msg}")
            {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            every_tenant: true,
        }
    }

    /// A line per tenant without a bar (`true`, the default), or only for
    /// those that fail.
    pub fn every_tenant(mut self, every: bool) -> Self {
        self.every_tenant = every;
        self
    }

    /// What the runtime calls after each wave of a rollout: a line, above
    /// the bar on a terminal.
    pub fn wave_callback(&self) -> impl Fn(strata::WaveProgress<'_>) + Send + Sync + 'static {
        let bar = self.bar.clone();
        move |wave: strata::WaveProgress<'_>| match &bar {
            Some(bar) => bar.println(wave.to_string()),
            None => eprintln!("{wave}"),
        }
    }

    /// What the runtime calls after each tenant.
    pub fn callback(&self) -> impl Fn(TenantProgress<'_>) + Send + Sync + 'static {
        let bar = self.bar.clone();
        let every = self.every_tenant;
        move |progress: TenantProgress<'_>| match &bar {
            Some(bar) => {
                bar.set_length(progress.total as u64);
                bar.set_position(progress.done as u64);
                bar.set_message(progress.outcome.tenant.clone());
                if matches!(progress.outcome.status, strata::TenantStatus::Failed { .. }) {
                    bar.println(progress.outcome.to_string());
                }
            }
            None if every
                || matches!(progress.outcome.status, strata::TenantStatus::Failed { .. }) =>
            {
                eprintln!(
                    "[{}/{}] {}",
                    progress.done, progress.total, progress.outcome
                )
            }
            None => {}
        }
    }

    /// Shows `message` while long work with no count runs (reading a large
    /// database): a spinner on a terminal, one plain line otherwise.
    pub fn spinner(message: &str) -> Self {
        let progress = Progress::new();
        match &progress.bar {
            Some(bar) => {
                bar.set_style(ProgressStyle::default_spinner());
                bar.set_message(message.to_owned());
                bar.enable_steady_tick(std::time::Duration::from_millis(120));
            }
            None => eprintln!("{message}"),
        }
        progress
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
