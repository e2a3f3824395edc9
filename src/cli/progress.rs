//! Running a prepared load with a progress line (on a terminal only). Signals are the
//! command's [`Shutdown`]: the first stops issuing and drains (a partial artifact marked
//! interrupted is written), a second one exits at once.

use super::Failure;
use crate::exit_code;
use crate::load::live::snapshot;
use crate::load::{PreparedRun, RunArtifact};
use crate::orchestrate::Shutdown;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

pub async fn run_with_progress(
    prepared: PreparedRun,
    shutdown: &Shutdown,
) -> Result<RunArtifact, Failure> {
    shutdown.watch_load(prepared.stop_signal());
    let shards = prepared.progress();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
                .expect("the template is valid"),
        );
        bar
    });
    let run = prepared.run();
    tokio::pin!(run);
    let started = Instant::now();
    let mut last = (started, 0u64);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            result = &mut run => {
                if let Some(bar) = &bar {
                    bar.finish_and_clear();
                }
                return result.map_err(|e| Failure::new(exit_code::INTERNAL, e));
            }
            _ = tick.tick(), if bar.is_some() => {
                let now = Instant::now();
                let s = snapshot(&shards);
                let rate = (s.sent - last.1) as f64 / now.duration_since(last.0).as_secs_f64().max(1e-3);
                last = (now, s.sent);
                if let Some(bar) = &bar {
                    bar.set_message(format!(
                        "sent {}  {:.0}/s  errors {}  p99 {:.1}ms",
                        s.sent, rate, s.errors, s.p99_us as f64 / 1000.0
                    ));
                    bar.tick();
                }
            }
        }
    }
}
