//! Several candidates against one baseline: one verdict each, and a ranking.
//!
//! JSON shape: `{"schema_version": 1, "verdicts": [Verdict, …], "ranking": [Ranked, …],
//! "tool": {…}}`, verdicts in the order the candidates were given. Candidates rank by decision
//! (pass, then inconclusive, then reject), then by their worst SLO margin — the candidate's
//! bound on the side that decides "met", relative to the threshold (for "p99 < 300ms" the
//! upper bound / 300 ms; an unbounded value ranks last) — then by the number of regressed
//! guards, then in the order given.

use super::model::{Decision, GuardStatus, SloResult, Unit, VERDICT_SCHEMA_VERSION, Verdict};
use crate::load::artifact::ToolInfo;
use serde::{Deserialize, Serialize};

/// One place of the ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Ranked {
    /// 1 for the best.
    pub rank: usize,
    /// Index of the candidate's verdict in `verdicts` (the order given).
    pub candidate: usize,
    /// The candidate's label.
    pub label: String,
    /// The candidate's file.
    pub path: String,
    /// Its decision.
    pub verdict: Decision,
    /// Its worst SLO margin: bound / threshold, oriented so that below 1 is inside the SLO.
    pub worst_slo_margin: Option<f64>,
}

/// Verdicts of several candidates and their ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Comparison {
    /// Always 1.
    pub schema_version: u32,
    /// One verdict per candidate, in the order given.
    pub verdicts: Vec<Verdict>,
    /// Best first.
    pub ranking: Vec<Ranked>,
    /// The tool.
    pub tool: ToolInfo,
}

impl Comparison {
    /// The best candidate's decision (`Inconclusive` when there is none).
    pub fn best(&self) -> Decision {
        self.ranking
            .first()
            .map_or(Decision::Inconclusive, |r| r.verdict)
    }
}

/// The candidate's decisive bound relative to the threshold; `None` when unbounded or absent.
fn margin(s: &SloResult) -> Option<f64> {
    let (c, t) = (s.candidate.as_ref()?, s.threshold?);
    match s.unit {
        Unit::PerS => c.lower.filter(|l| *l > 0.0).map(|l| t / l),
        _ if t > 0.0 => c.upper.map(|u| u / t),
        _ => None,
    }
}

fn worst_margin(v: &Verdict) -> Option<f64> {
    let margins: Vec<Option<f64>> = v.slo.iter().map(margin).collect();
    if margins.iter().any(Option::is_none) {
        return None;
    }
    margins.into_iter().flatten().reduce(f64::max)
}

/// Ranks candidates' verdicts (given in command-line order).
pub fn rank(verdicts: Vec<Verdict>) -> Comparison {
    let mut order: Vec<(usize, Option<f64>, usize)> = verdicts
        .iter()
        .enumerate()
        .map(|(i, v)| {
            (
                i,
                worst_margin(v),
                v.guards
                    .iter()
                    .filter(|g| g.status == GuardStatus::Regressed)
                    .count(),
            )
        })
        .collect();
    order.sort_by(|a, b| {
        let key = |m: Option<f64>| m.unwrap_or(f64::INFINITY);
        verdicts[a.0]
            .verdict
            .cmp(&verdicts[b.0].verdict)
            .then(key(a.1).total_cmp(&key(b.1)))
            .then(a.2.cmp(&b.2))
            .then(a.0.cmp(&b.0))
    });
    let ranking = order
        .iter()
        .enumerate()
        .map(|(place, &(i, margin, _))| Ranked {
            rank: place + 1,
            candidate: i,
            label: verdicts[i].arms.candidate.label.clone(),
            path: verdicts[i].arms.candidate.path.clone(),
            verdict: verdicts[i].verdict,
            worst_slo_margin: margin,
        })
        .collect();
    Comparison {
        schema_version: VERDICT_SCHEMA_VERSION,
        verdicts,
        ranking,
        tool: ToolInfo::current(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::testing::steady;
    use crate::verdict::{Settings, Spec, compare};

    #[test]
    fn pass_first_then_by_worst_slo_margin_then_order_given() {
        let baseline = steady("baseline", 30, 200, (40_000.0, 0.03, 800_000.0), 0.0, 1);
        let spec = Spec::parse(&["p99 < 300ms".into()], &[]).unwrap();
        let candidate = |label: &str, tail_us: f64, seed| {
            let c = steady(label, 30, 200, (40_000.0, 0.02, tail_us), 0.0, seed);
            compare(&baseline, &c, &spec, &Settings::default()).unwrap()
        };
        let verdicts = vec![
            candidate("far", 600_000.0, 2),
            candidate("fixed", 100_000.0, 3),
            candidate("near", 340_000.0, 4),
        ];
        let decisions: Vec<Decision> = verdicts.iter().map(|v| v.verdict).collect();
        assert_eq!(
            decisions,
            [Decision::Reject, Decision::Pass, Decision::Reject]
        );
        let c = rank(verdicts);
        let order: Vec<(usize, &str)> = c
            .ranking
            .iter()
            .map(|r| (r.candidate, r.label.as_str()))
            .collect();
        assert_eq!(order, [(1, "fixed"), (2, "near"), (0, "far")]);
        assert_eq!((c.best(), c.ranking[0].rank), (Decision::Pass, 1));
        assert!(
            c.ranking[0].worst_slo_margin.unwrap() < 1.0
                && c.ranking[1].worst_slo_margin.unwrap() > 1.0
        );
    }
}
