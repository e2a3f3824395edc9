//! What normalizing noticed (redacted secrets, dropped headers, skipped and filtered
//! requests), counted per name and turned into one warning each at the end.

use super::headers::placeholder;
use super::normalize::Skip;
use std::collections::BTreeMap;

/// What normalizing noticed, turned into warnings at the end.
#[derive(Debug, Default)]
pub struct Notes {
    pub redacted_headers: BTreeMap<String, usize>,
    pub redacted_params: BTreeMap<String, usize>,
    pub unusable_headers: BTreeMap<String, usize>,
    pub url_credentials: usize,
    pub skipped: BTreeMap<Skip, usize>,
    pub filtered: usize,
}

impl Notes {
    /// Why nothing is left of `read` requests, naming the filters that removed them.
    pub fn nothing_left(&self, read: usize, hosts: &[String], prefixes: &[String]) -> String {
        if read == 0 {
            return "the recording has no requests".into();
        }
        let mut parts = Vec::new();
        let skipped: usize = self.skipped.values().sum();
        if skipped > 0 {
            parts.push(format!(
                "{skipped} not HTTP requests ({})",
                self.skip_list()
            ));
        }
        if self.filtered > 0 {
            let mut filters = Vec::new();
            filters.extend(hosts.iter().map(|h| format!("--host {h}")));
            filters.extend(prefixes.iter().map(|p| format!("--path-prefix {p}")));
            parts.push(format!(
                "{} filtered out by {}",
                self.filtered,
                filters.join(", ")
            ));
        }
        format!("{read} requests read, {}", parts.join(", "))
    }

    fn skip_list(&self) -> String {
        let names: Vec<String> = self
            .skipped
            .iter()
            .map(|(skip, n)| match skip {
                Skip::Scheme(scheme) => format!("{n} {scheme}:"),
                Skip::Connect => format!("{n} CONNECT"),
            })
            .collect();
        names.join(", ")
    }

    /// One warning per redacted or dropped name, and one for skipped requests.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, n) in &self.redacted_headers {
            out.push(format!(
                "redacted the {name} header of {n} request{}: the scenario says \"{}\"; put a test \
             credential there before a run, or import again with --keep-secrets",
                plural(*n),
                placeholder(name)
            ));
        }
        for (name, n) in &self.redacted_params {
            out.push(format!(
                "redacted the query parameter {name} of {n} request{}: the scenario says \
             {name}=REDACTED; put a test value there, or import again with --keep-secrets",
                plural(*n)
            ));
        }
        if self.url_credentials > 0 {
            out.push(format!(
                "dropped user:password from the URL of {} request{}",
                self.url_credentials,
                plural(self.url_credentials)
            ));
        }
        for (name, n) in &self.unusable_headers {
            out.push(format!(
                "dropped the {name} header of {n} request{}: its name or value cannot be written \
             in a scenario (control characters or '{{{{')",
                plural(*n)
            ));
        }
        if !self.skipped.is_empty() {
            out.push(format!(
                "skipped requests that are not HTTP: {}",
                self.skip_list()
            ));
        }
        out
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
