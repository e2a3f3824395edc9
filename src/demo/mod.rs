//! The embedded default, `fixproof demo`: the whole loop on bundled services with planted bugs,
//! the patches an AI-SRE might propose, the local backend, real `git apply`, real load and real
//! statistics. Every file it needs is embedded in the binary ([`bundle`]); the services are
//! this binary itself ([`service`], `fixproof demo-service`); [`run`] verifies every case and
//! [`table`] renders the closing table.

pub mod bundle;
pub mod project;
pub mod run;
pub mod service;
pub mod table;

use crate::orchestrate::VerifyError;

/// Why the demo could not finish.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A file, folder or port the demo needs.
    #[error("cannot use {what}: {source}")]
    Io {
        /// What it was using.
        what: String,
        /// Why.
        source: std::io::Error,
    },
    /// `git` is missing or refused a step of making the demo repository.
    #[error("git: {0}")]
    Git(String),
    /// The pricing downstream did not start; its last output.
    #[error("the demo's pricing service did not start:\n{0}")]
    Pricing(String),
    /// The embedded broker of the Kafka case did not start.
    #[error("the demo's Kafka broker: {0}")]
    Broker(String),
    /// A bundled file does not parse: a bug of this build.
    #[error("the bundled {case} case: {message}")]
    Bundled {
        /// The case.
        case: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A service's `checkout.json` is missing or malformed.
    #[error("checkout.json: {0}")]
    Config(String),
    /// A verification failed or was stopped.
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

impl DemoError {
    pub(crate) fn io(what: impl std::fmt::Display, source: std::io::Error) -> DemoError {
        DemoError::Io {
            what: what.to_string(),
            source,
        }
    }

    /// The process exit code: a signal's code, 69 when git, a service or the broker is
    /// unavailable or a verification failed, 65 for a bad config, 70 otherwise.
    pub fn exit_code(&self) -> i32 {
        use crate::exit_code::{DATA, INTERNAL, UNAVAILABLE};
        match self {
            DemoError::Verify(VerifyError::Stopped(signal)) => signal.exit_code(),
            DemoError::Git(_)
            | DemoError::Pricing(_)
            | DemoError::Broker(_)
            | DemoError::Verify(_) => UNAVAILABLE,
            DemoError::Config(_) => DATA,
            DemoError::Io { .. } | DemoError::Bundled { .. } => INTERNAL,
        }
    }
}
