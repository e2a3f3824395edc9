//! Pooling an arm's blocks (`verify --arms alternating`).

use crate::fixtures::{Shape, artifact};

#[test]
fn pooled_blocks_add_up() {
    let a = artifact(&Shape::new("baseline", 1));
    let b = artifact(&Shape::new("baseline", 2));
    let pooled = fixproof::load::pool(&[a.clone(), b.clone()]).unwrap();
    assert_eq!(pooled.counts.sent, a.counts.sent + b.counts.sent);
    assert_eq!(pooled.counts.planned, a.counts.planned + b.counts.planned);
    assert_eq!(
        pooled.latency.summary.count,
        a.latency.summary.count + b.latency.summary.count
    );
    assert_eq!(
        pooled.timeline.points.len(),
        a.timeline.points.len() + b.timeline.points.len()
    );
    let starts: Vec<u64> = pooled.timeline.points.iter().map(|p| p.start_ms).collect();
    assert!(
        starts.windows(2).all(|w| w[0] < w[1]),
        "block timelines follow each other"
    );
    assert_eq!(
        pooled.plan.duration_s,
        a.plan.duration_s + b.plan.duration_s
    );
    assert_eq!(
        pooled.latency.summary.max_us,
        a.latency.summary.max_us.max(b.latency.summary.max_us)
    );
    let mut broken = b;
    broken.validity.problems = vec!["driver fell behind".into()];
    let pooled = fixproof::load::pool(&[a, broken]).unwrap();
    assert!(!pooled.validity.valid);
    assert_eq!(
        pooled.validity.problems,
        vec!["block 2: driver fell behind"]
    );
}
