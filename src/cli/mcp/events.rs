//! A run's events: kept as its progress (the latest line, each arm's latest line) and sent on
//! to whoever follows it (the progress notifications of `verify_patch`).

use super::runs::Run;
use crate::orchestrate::{Event, Events};
use std::sync::Arc;
use tokio::sync::mpsc;

/// A run's events: into its progress, and on to the stream.
pub struct RunEvents {
    pub run: Arc<Run>,
    pub tx: mpsc::UnboundedSender<Event>,
}

impl Events for RunEvents {
    fn emit(&self, event: Event) {
        let line = crate::cli::present::line(&event);
        let arm = event_arm(&event).map(str::to_string);
        self.run.update(|s| {
            s.progress.events += 1;
            if let Some(line) = &line {
                s.progress.latest = Some(line.trim().to_string());
                if let Some(arm) = arm {
                    s.progress.arms.insert(arm, line.trim().to_string());
                }
            }
        });
        let _ = self.tx.send(event);
    }
}

/// The arm an event is about.
pub fn event_arm(event: &Event) -> Option<&str> {
    match event {
        Event::Note { .. } => None,
        Event::ArmStarted { arm, .. }
        | Event::Retrying { arm, .. }
        | Event::Ready { arm, .. }
        | Event::Measured { arm, .. }
        | Event::Looked { arm, .. }
        | Event::Stopped { arm, .. }
        | Event::Warning { arm, .. }
        | Event::ArmEnded { arm }
        | Event::Decided { arm, .. } => Some(arm),
    }
}
