//! One shard: a current-thread tokio runtime on its own OS thread (pinned to one CPU of the
//! process's affinity mask), a pacer, a fixed set of workers, and its own recorder.
//!
//! The pacer owns the shard's stripe of the plan (slots `seq ≡ index mod count`). On each wake
//! it releases every due slot, stamped with its own intended time: to the most recently idle
//! worker (LIFO keeps few connections hot), else into a bounded queue, else it is `missed` (see [`queue_capacity`]).
//! A worker runs one request at a time on its own keep-alive connection (HTTP/1.1) or on the
//! shard's shared HTTP/2 connections. In a closed loop there is no plan timing: workers claim
//! the next slot as soon as they are free, and the pacer only ticks.

use super::connect::Connector;
use super::exchange::{Conn, execute};
use super::http2::H2Pool;
use super::live::{ShardProgress, StopSignal};
use super::plan::{Plan, Slot};
use super::recorder::{Recorded, Recorder};
use super::request::PreparedShape;
use super::timer::HrTimer;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// The longest the pacer sleeps: how soon it notices a stop and closes intervals.
const TICK_NS: u64 = 50_000_000;

/// How the shard's requests are timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Open loop: the plan's intended times.
    Paced,
    /// Closed loop: every worker sends as soon as its previous response is in, until the plan's
    /// end or `max_requests` (over all shards).
    Closed { max_requests: Option<u64> },
}

/// Which client the workers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http1,
    Http2,
}

/// Everything a shard needs; built by the driver.
pub struct ShardConfig {
    pub index: usize,
    pub count: usize,
    pub cpu: Option<usize>,
    pub plan: Arc<Plan>,
    pub shapes: Arc<Vec<PreparedShape>>,
    pub mode: Mode,
    pub workers: usize,
    pub protocol: Protocol,
    pub connector: Connector,
    pub scheme: &'static str,
    pub timeout: Duration,
    pub grace: Duration,
    pub interval_ns: u64,
    /// The pacer sleeps at least this long between wakes (half of `LoadConfig::max_send_lag`).
    pub granularity_ns: u64,
    pub highest_us: u64,
    pub origin: Instant,
    pub stop: Arc<StopSignal>,
    pub progress: Arc<Vec<ShardProgress>>,
}

struct Inbox {
    job: Cell<Option<Slot>>,
    notify: Notify,
}

/// State shared by the shard's tasks (one thread: `Rc` and `RefCell`, no locks).
pub(super) struct Shard {
    pub cfg: ShardConfig,
    pub timer: HrTimer,
    pub recorder: RefCell<Recorder>,
    pub h2: Option<H2Pool>,
    queue: RefCell<VecDeque<Slot>>,
    idle: RefCell<Vec<usize>>,
    inboxes: Vec<Inbox>,
    done: Cell<bool>,
    /// Closed loop: the next sequence number this shard claims.
    cursor: Cell<u64>,
}

impl Shard {
    pub fn progress(&self) -> &ShardProgress {
        &self.cfg.progress[self.cfg.index]
    }
}

/// Runs one shard to the end of its plan and returns what it measured. Blocks the calling
/// thread; call it on a thread of its own.
///
/// # Errors
/// When the runtime or the timer cannot be created.
pub fn run(cfg: ShardConfig) -> std::io::Result<Recorded> {
    if let Some(cpu) = cfg.cpu {
        super::affinity::pin_current_thread(cpu);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let timer = HrTimer::new(cfg.origin)?;
        let recorder = Recorder::new(
            cfg.shapes.len(),
            cfg.plan.warmup_ns(),
            cfg.interval_ns,
            cfg.highest_us,
        );
        let h2 = (cfg.protocol == Protocol::Http2)
            .then(|| H2Pool::new(cfg.connector.clone(), cfg.workers));
        let shard = Rc::new(Shard {
            inboxes: (0..cfg.workers)
                .map(|_| Inbox {
                    job: Cell::new(None),
                    notify: Notify::new(),
                })
                .collect(),
            cursor: Cell::new(cfg.index as u64),
            cfg,
            timer,
            recorder: RefCell::new(recorder),
            h2,
            queue: RefCell::new(VecDeque::new()),
            idle: RefCell::new(Vec::new()),
            done: Cell::new(false),
        });
        let mut workers = tokio::task::JoinSet::new();
        for id in 0..shard.cfg.workers {
            workers.spawn_local(worker(shard.clone(), id));
        }
        pace(&shard).await?;
        finish(&shard, workers).await;
        let shard = Rc::into_inner(shard).expect("every worker has ended or been aborted");
        let mut recorded = shard.recorder.into_inner().finish();
        recorded.cpu = super::affinity::thread_cpu_time();
        Ok(recorded)
    })
}

async fn pace(shard: &Shard) -> std::io::Result<()> {
    let cfg = &shard.cfg;
    let stride = cfg.count as u64;
    let index = cfg.index as u64;
    let mut slots = cfg
        .plan
        .slots()
        .filter(|s| s.seq % stride == index)
        .peekable();
    shard.timer.sleep_until(0).await?;
    loop {
        let now = shard.timer.now_ns();
        if cfg.stop.is_stopped() || (cfg.mode != Mode::Paced && now >= cfg.plan.end_ns()) {
            break;
        }
        if cfg.mode == Mode::Paced {
            while let Some(slot) = slots.next_if(|s| s.at_ns <= now) {
                release(shard, slot);
            }
        }
        if let Some(p99) = shard.recorder.borrow_mut().timeline.close_ready(now) {
            shard
                .progress()
                .p99_us
                .store(p99, std::sync::atomic::Ordering::Relaxed);
        }
        let wake = match (cfg.mode, slots.peek()) {
            (Mode::Paced, None) => break,
            (Mode::Paced, Some(next)) => {
                next.at_ns.max(now + cfg.granularity_ns).min(now + TICK_NS)
            }
            (Mode::Closed { .. }, _) => cfg.plan.end_ns().min(now + TICK_NS),
        };
        shard.timer.sleep_until(wake).await?;
    }
    shard.done.set(true);
    for id in shard.idle.borrow_mut().drain(..) {
        shard.inboxes[id].notify.notify_one();
    }
    Ok(())
}

fn release(shard: &Shard, slot: Slot) {
    let mut recorder = shard.recorder.borrow_mut();
    if let Some(id) = shard.idle.borrow_mut().pop() {
        recorder.released(&slot);
        shard.inboxes[id].job.set(Some(slot));
        shard.inboxes[id].notify.notify_one();
    } else if shard.queue.borrow().len() < queue_capacity(shard.cfg.workers) {
        recorder.released(&slot);
        shard.queue.borrow_mut().push_back(slot);
    } else {
        recorder.missed(&slot);
    }
}

/// Slots that may wait for a worker: enough to ride out a stall of a few hundred
/// milliseconds at the configured concurrency, small enough that a dead target shows up as
/// `missed` rather than as an ever-growing backlog.
pub fn queue_capacity(workers: usize) -> usize {
    (workers * 4).max(256)
}

/// Waits for in-flight requests for the grace period; an interrupted run drops its queue.
async fn finish(shard: &Shard, mut workers: tokio::task::JoinSet<()>) {
    if shard.cfg.stop.is_stopped() {
        let dropped: Vec<Slot> = shard.queue.borrow_mut().drain(..).collect();
        let mut recorder = shard.recorder.borrow_mut();
        dropped.iter().for_each(|slot| recorder.abandoned(slot));
    }
    let drained = async { while workers.join_next().await.is_some() {} };
    if tokio::time::timeout(shard.cfg.grace, drained)
        .await
        .is_err()
    {
        workers.abort_all();
        while workers.join_next().await.is_some() {}
    }
}

async fn next_job(shard: &Shard, id: usize) -> Option<Slot> {
    if let Mode::Closed { max_requests } = shard.cfg.mode {
        return claim(shard, max_requests);
    }
    loop {
        if let Some(slot) = shard.queue.borrow_mut().pop_front() {
            return Some(slot);
        }
        if shard.done.get() {
            return None;
        }
        shard.idle.borrow_mut().push(id);
        shard.inboxes[id].notify.notified().await;
        if let Some(slot) = shard.inboxes[id].job.take() {
            return Some(slot);
        }
    }
}

/// Closed loop: the next slot of this shard's stripe, timed from now.
fn claim(shard: &Shard, max_requests: Option<u64>) -> Option<Slot> {
    let cfg = &shard.cfg;
    let seq = shard.cursor.get();
    let now = shard.timer.now_ns();
    if shard.done.get()
        || cfg.stop.is_stopped()
        || now >= cfg.plan.end_ns()
        || max_requests.is_some_and(|m| seq >= m)
    {
        return None;
    }
    shard.cursor.set(seq + cfg.count as u64);
    let slot = Slot {
        seq,
        at_ns: now,
        shape: cfg.plan.shape_of(seq),
    };
    shard.recorder.borrow_mut().released(&slot);
    Some(slot)
}

async fn worker(shard: Rc<Shard>, id: usize) {
    let mut conn = Conn::default();
    while let Some(slot) = next_job(&shard, id).await {
        execute(&shard, id, &mut conn, slot).await;
    }
}
