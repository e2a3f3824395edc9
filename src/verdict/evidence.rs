//! Evidence beside the decision (DESIGN.md "Decision rule" item 4): Mann–Whitney U exactly
//! from the two latency histograms with its common-language effect size, the exact bootstrap
//! distributions of each arm's p99 and of the p99 difference, the error rates with Wilson and
//! Newcombe intervals, and each arm's design effects. These are per-request (i.i.d.) figures:
//! the design effects say how much wider the truth is. None of them decides the verdict.

use super::arm::Arm;
use super::deff::{self, Deff};
use super::model::Difference;
use super::{Context, VerdictError};
use crate::stats::bootstrap::{QuantileDistribution, exact_bootstrap_quantile};
use crate::stats::difference::{difference_cdf, difference_percentile_ci};
use crate::stats::mann_whitney::{MannWhitneyMethod, MannWhitneyOptions, mann_whitney};
use crate::stats::proportion::{Proportion, newcombe, two_proportion_z, wilson};
use crate::stats::quantile::QuantileLevel;
use crate::stats::{Sides, StatsError};
use serde::{Deserialize, Serialize};

/// Cumulative probabilities at which the bootstrap distributions are reported.
const REPORTED_CDF: [f64; 9] = [0.005, 0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975, 0.995];

/// Mann–Whitney U of candidate against baseline latencies (timed requests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MannWhitneyEvidence {
    /// Baseline requests.
    pub n_baseline: u64,
    /// Candidate requests.
    pub n_candidate: u64,
    /// U of the candidate: #(candidate > baseline) + ½ #(equal).
    pub u_candidate: f64,
    /// Tie- and continuity-corrected z (positive: candidate slower).
    pub z: f64,
    /// Two-sided p-value.
    pub p_two_sided: f64,
    /// One-sided p-value for "the candidate is stochastically slower".
    pub p_candidate_slower: f64,
    /// One-sided p-value for "the candidate is stochastically faster".
    pub p_candidate_faster: f64,
    /// Effect size: P(candidate > baseline) + ½ P(equal); 0.5 = no effect.
    pub cles: f64,
    /// `exact` (conditional on ties) or `asymptotic`.
    pub method: String,
}

/// One point of a bootstrap distribution: the smallest value whose cumulative bootstrap
/// probability reaches `cdf`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Point {
    /// Cumulative probability.
    pub cdf: f64,
    /// Value (µs).
    pub value_us: f64,
}

/// The exact bootstrap distribution of one arm's p99.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct QuantileEvidence {
    /// The sample p99 (type 1).
    pub estimate_us: u64,
    /// Lower end of the two-sided percentile interval.
    pub lower_us: f64,
    /// Upper end.
    pub upper_us: f64,
    /// Exact bootstrap (Maritz–Jarrett) standard error.
    pub standard_error_us: f64,
    /// The distribution at cumulative probabilities 0.005, 0.025, 0.05, 0.25, 0.5, 0.75,
    /// 0.95, 0.975 and 0.995.
    pub distribution: Vec<Point>,
}

/// The exact bootstrap distribution of p99(candidate) − p99(baseline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DifferenceEvidence {
    /// The sample difference.
    pub estimate_us: i64,
    /// Lower end of the two-sided percentile interval.
    pub lower_us: f64,
    /// Upper end.
    pub upper_us: f64,
    /// Bootstrap P(difference ≥ 0): the candidate's p99 is not lower.
    pub p_not_faster: f64,
    /// The distribution at the same cumulative probabilities as the arms'.
    pub distribution: Vec<Point>,
}

/// Exact bootstrap of p99 on both arms and of their difference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BootstrapEvidence {
    /// Level of the two-sided percentile intervals.
    pub confidence: f64,
    /// The baseline's p99.
    pub baseline: QuantileEvidence,
    /// The candidate's p99.
    pub candidate: QuantileEvidence,
    /// candidate − baseline.
    pub difference: DifferenceEvidence,
}

/// One arm's error rate with its two-sided Wilson interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RateEvidence {
    /// Errors.
    pub errors: u64,
    /// Requests.
    pub requests: u64,
    /// errors / requests.
    pub rate: f64,
    /// Wilson lower end.
    pub lower: f64,
    /// Wilson upper end.
    pub upper: f64,
}

/// Error rates of both arms and their difference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ErrorRateEvidence {
    /// Baseline.
    pub baseline: RateEvidence,
    /// Candidate.
    pub candidate: RateEvidence,
    /// candidate − baseline with the two-sided Newcombe interval.
    pub difference: Difference,
    /// Pooled two-proportion z.
    pub z: f64,
    /// Its two-sided p-value.
    pub p_two_sided: f64,
}

/// One arm's design effects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ArmDesign {
    /// Measured intervals with data.
    pub blocks: usize,
    /// Interval length.
    pub interval_ms: Option<u64>,
    /// Applied design effect of the tail above the arm's own p99.
    pub p99_tail: f64,
    /// Its raw estimate (`null` below two intervals).
    pub p99_tail_raw: Option<f64>,
    /// Applied design effect of the error rate (`null` without error counts).
    pub error_rate: Option<f64>,
    /// Its raw estimate.
    pub error_rate_raw: Option<f64>,
}

/// Both arms' design effects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DesignEffects {
    /// Baseline.
    pub baseline: ArmDesign,
    /// Candidate.
    pub candidate: ArmDesign,
}

/// All evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Tests {
    /// Mann–Whitney U (`null` without timed requests on an arm).
    pub mann_whitney: Option<MannWhitneyEvidence>,
    /// Exact bootstrap of p99.
    pub bootstrap_p99: Option<BootstrapEvidence>,
    /// Error rates (`null` for sample files).
    pub error_rate: Option<ErrorRateEvidence>,
    /// Design effects.
    pub design_effect: DesignEffects,
}

/// Computes every piece of evidence.
///
/// # Errors
/// [`VerdictError::Stats`] only for inconsistent numbers (a bug).
pub(crate) fn gather(ctx: &Context<'_>) -> Result<Tests, VerdictError> {
    let stats = |what: &'static str| move |e: StatsError| VerdictError::stats(what, e);
    // A Kafka run's latencies are the producer's acknowledgements, not the service's: no
    // latency evidence for them.
    let kafka = ctx.baseline.lag.is_some() || ctx.candidate.lag.is_some();
    let latencies = ctx
        .baseline
        .all
        .latency
        .as_ref()
        .zip(ctx.candidate.all.latency.as_ref())
        .filter(|_| !kafka);
    let mann_whitney = latencies
        .map(|(a, b)| mann_whitney_evidence(a, b))
        .transpose()
        .map_err(stats("Mann-Whitney U"))?;
    let bootstrap_p99 = latencies
        .map(|(a, b)| bootstrap(a, b, ctx.settings.confidence))
        .transpose()
        .map_err(stats("bootstrap of p99"))?;
    Ok(Tests {
        mann_whitney,
        bootstrap_p99,
        error_rate: error_rate(ctx).map_err(stats("error rate"))?,
        design_effect: DesignEffects {
            baseline: design(ctx, ctx.baseline),
            candidate: design(ctx, ctx.candidate),
        },
    })
}

fn mann_whitney_evidence(
    a: &crate::stats::WeightedSample,
    b: &crate::stats::WeightedSample,
) -> Result<MannWhitneyEvidence, StatsError> {
    let mw = mann_whitney(a, b, MannWhitneyOptions::default())?;
    Ok(MannWhitneyEvidence {
        n_baseline: mw.n_baseline,
        n_candidate: mw.n_candidate,
        u_candidate: mw.u_candidate,
        z: mw.z,
        p_two_sided: mw.p_two_sided,
        p_candidate_slower: mw.p_greater,
        p_candidate_faster: mw.p_less,
        cles: mw.cles,
        method: if mw.method == MannWhitneyMethod::Exact {
            "exact".into()
        } else {
            "asymptotic".into()
        },
    })
}

fn p99() -> QuantileLevel {
    QuantileLevel::new(99, 100).expect("99/100 is a valid level")
}

/// The distribution at [`REPORTED_CDF`], given "smallest value with CDF ≥ p" for any p.
fn points(at: impl Fn(f64) -> Result<f64, StatsError>) -> Result<Vec<Point>, StatsError> {
    REPORTED_CDF
        .iter()
        .map(|&p| {
            Ok(Point {
                cdf: p,
                value_us: at(p)?,
            })
        })
        .collect()
}

fn quantile_evidence(d: &QuantileDistribution, level: f64) -> Result<QuantileEvidence, StatsError> {
    let ci = d.percentile_ci(level, Sides::TwoSided)?;
    Ok(QuantileEvidence {
        estimate_us: d.estimate,
        lower_us: ci.lower,
        upper_us: ci.upper,
        standard_error_us: d.standard_error(),
        // A one-sided lower bound at level 1 − p is the smallest value with G ≥ p.
        distribution: points(|p| Ok(d.percentile_ci(1.0 - p, Sides::Lower)?.lower))?,
    })
}

fn bootstrap(
    a: &crate::stats::WeightedSample,
    b: &crate::stats::WeightedSample,
    level: f64,
) -> Result<BootstrapEvidence, StatsError> {
    let (da, db) = (
        exact_bootstrap_quantile(a, p99())?,
        exact_bootstrap_quantile(b, p99())?,
    );
    let ci = difference_percentile_ci(&da, &db, level, Sides::TwoSided)?;
    let at = |p: f64| Ok(difference_percentile_ci(&da, &db, 1.0 - p, Sides::Lower)?.lower);
    Ok(BootstrapEvidence {
        confidence: level,
        baseline: quantile_evidence(&da, level)?,
        candidate: quantile_evidence(&db, level)?,
        difference: DifferenceEvidence {
            estimate_us: i64::try_from(db.estimate).unwrap_or(i64::MAX)
                - i64::try_from(da.estimate).unwrap_or(i64::MAX),
            lower_us: ci.lower,
            upper_us: ci.upper,
            p_not_faster: 1.0 - difference_cdf(&da, &db, -1),
            distribution: points(at)?,
        },
    })
}

fn error_rate(ctx: &Context<'_>) -> Result<Option<ErrorRateEvidence>, StatsError> {
    let classes = ctx.settings.errors;
    let (Some(a), Some(b)) = (ctx.baseline.all.outcomes, ctx.candidate.all.outcomes) else {
        return Ok(None);
    };
    if a.requests() == 0 || b.requests() == 0 {
        return Ok(None);
    }
    let (pa, pb) = (
        Proportion::new(a.errors(classes), a.requests())?,
        Proportion::new(b.errors(classes), b.requests())?,
    );
    let level = ctx.settings.confidence;
    let rate = |p: Proportion| -> Result<RateEvidence, StatsError> {
        let ci = wilson(p, level, Sides::TwoSided)?;
        Ok(RateEvidence {
            errors: p.events,
            requests: p.trials,
            rate: p.fraction(),
            lower: ci.lower,
            upper: ci.upper,
        })
    };
    let diff = newcombe(pa, pb, level, Sides::TwoSided)?;
    let z = two_proportion_z(pa, pb)?;
    Ok(Some(ErrorRateEvidence {
        baseline: rate(pa)?,
        candidate: rate(pb)?,
        difference: Difference {
            estimate: pb.fraction() - pa.fraction(),
            lower: diff.lower,
            upper: diff.upper,
        },
        z: z.statistic,
        p_two_sided: z.p_two_sided,
    }))
}

fn design(ctx: &Context<'_>, arm: &Arm) -> ArmDesign {
    let p99_value = arm.all.latency.as_ref().map(|s| s.value_at_quantile(p99()));
    let tail = p99_value.map_or(Deff::NONE, |v| deff::tail(arm, v, false));
    let errors = arm
        .all
        .outcomes
        .map(|_| deff::errors(arm, ctx.settings.errors));
    ArmDesign {
        blocks: arm
            .blocks
            .iter()
            .filter(|b| b.outcomes.requests() > 0)
            .count(),
        interval_ms: arm.plan.map(|p| p.interval_ms),
        p99_tail: tail.factor(),
        p99_tail_raw: tail.raw(),
        error_rate: errors.map(|d| d.factor()),
        error_rate_raw: errors.and_then(|d| d.raw()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::settings::Settings;
    use crate::verdict::testing::{DS4, context, ds4, samples, with_errors};

    #[test]
    fn ds4_evidence_matches_statistics_md() {
        // §4.2 DS4: U_x = 1884232.5, asymptotic two-sided p (continuity) 0.0012302781296159632,
        // CLES 0.471058125; §4.4–4.5: p99 CIs [200, 300] and [400, 500], difference [−300, −100].
        let (x, y) = (
            samples("candidate", &ds4(DS4.0)),
            samples("baseline", &ds4(DS4.1)),
        );
        let settings = Settings::default();
        let t = gather(&context(&y, &x, &settings)).unwrap();
        let mw = t.mann_whitney.unwrap();
        assert_eq!(
            (mw.u_candidate, mw.method.as_str()),
            (1_884_232.5, "asymptotic")
        );
        assert!((mw.p_two_sided / 0.0012302781296159632 - 1.0).abs() < 1e-9);
        assert!((mw.cles - 0.471058125).abs() < 1e-12);
        let b = t.bootstrap_p99.unwrap();
        assert_eq!((b.candidate.lower_us, b.candidate.upper_us), (200.0, 300.0));
        assert_eq!((b.baseline.lower_us, b.baseline.upper_us), (400.0, 500.0));
        let d = &b.difference;
        assert_eq!(
            (d.estimate_us, d.lower_us, d.upper_us),
            (-250, -300.0, -100.0)
        );
        // §4.5 PMF: P(Δ ≥ 0) = P(Δ = 0) = 0.000301.
        assert!((d.p_not_faster - 0.000301).abs() < 1e-6);
        let median = d.distribution.iter().find(|p| p.cdf == 0.5).unwrap();
        assert_eq!(median.value_us, -250.0);
        assert!(t.error_rate.is_none(), "sample files have no error counts");
        assert_eq!(t.design_effect.baseline.blocks, 0);
    }

    #[test]
    fn error_rate_evidence_e1() {
        // §4.7 E1: Newcombe 95 % [−0.027146, −0.014890], pooled z −6.718649955743713.
        let (a, b, s) = (
            with_errors("a", 620, 10_000),
            with_errors("b", 410, 10_000),
            Settings::default(),
        );
        let e = gather(&context(&a, &b, &s)).unwrap().error_rate.unwrap();
        assert!((e.difference.lower + 0.027145602976327246).abs() < 1e-12);
        assert!((e.difference.upper + 0.014890215772090362).abs() < 1e-12);
        assert!((e.z + 6.718649955743713).abs() < 1e-9);
        assert!((e.baseline.lower - 0.05743954480412971).abs() < 1e-12);
    }
}
