//! Command-line overrides of a validated scenario (`--rate`, `--duration`, `--url`, …).

use super::{Arrival, Overrides, Scenario, ScenarioError};

pub fn apply_overrides(s: &mut Scenario, o: &Overrides) -> Result<(), ScenarioError> {
    if let Some(target) = &o.target {
        s.target = Some(target.clone());
    }
    if let Some(rate) = o.rate {
        s.load.arrival = match &s.load.arrival {
            Arrival::Poisson(_) => Arrival::Poisson(rate),
            Arrival::Constant(_) => Arrival::Constant(rate),
            other => {
                let message = format!(
                    "the scenario's arrival is '{}', which has no single rate to replace",
                    other.kind()
                );
                return Err(ScenarioError::Flag {
                    flag: "--rate".into(),
                    message,
                });
            }
        };
    }
    if o.poisson {
        s.load.arrival = match &s.load.arrival {
            Arrival::Constant(rate) | Arrival::Poisson(rate) => Arrival::Poisson(*rate),
            other => {
                let message = format!(
                    "--poisson needs a constant arrival, the scenario's is '{}'",
                    other.kind()
                );
                return Err(ScenarioError::Flag {
                    flag: "--poisson".into(),
                    message,
                });
            }
        };
    }
    s.load.duration = o.duration.unwrap_or(s.load.duration);
    s.load.warmup = o.warmup.unwrap_or(s.load.warmup);
    s.load.seed = o.seed.unwrap_or(s.load.seed);
    s.http.timeout = o.timeout.unwrap_or(s.http.timeout);
    s.http.max_in_flight = o.max_in_flight.unwrap_or(s.http.max_in_flight);
    s.http.version = o.http_version.unwrap_or(s.http.version);
    s.http.insecure_tls |= o.insecure_tls;
    Ok(())
}
