//! The embedded default, `fixproof demo`: the whole loop on bundled services with planted bugs,
//! the patches an AI-SRE might propose, the local backend, real `git apply`, real load and real
//! statistics. Every file it needs is embedded in the binary ([`bundle`]); the services are
//! this binary itself ([`service`], `fixproof demo-service`).

pub mod bundle;
pub mod service;
