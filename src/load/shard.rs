//! One shard: a current-thread tokio runtime on its own OS thread (pinned to one CPU of the
//! process's affinity mask), a pacer, a fixed set of workers, and its own recorder.
//!
//! The pacer owns the shard's stripe of the plan (slots `seq ≡ index mod count`). It wakes at
//! most once per granule (1.35 × `max_send_lag`) and then releases every slot whose intended
//! time is before now + ¾ of `max_send_lag`, stamped with that intended time and with the
//! wake that released it ([`Job`]): to the most recently idle worker (LIFO keeps few
//! connections hot), else into a bounded queue, else it is `missed` (see [`queue_capacity`]).
//! A send is thus at most ¾ of `max_send_lag` early and 0.6 of it late (plus timer noise);
//! see `Recorder::finished` for how sends off their intended time are timed. The pacer also
//! enforces the workers' request timeouts (`deadline`) and, on paced plain HTTP/1.1, lets
//! the workers read their responses (`tick`).
//!
//! All of the shard's tasks are spawned on its current-thread runtime (not a `LocalSet`, not
//! `block_on`'s future): a task woken by the I/O driver or by another task then goes straight
//! onto the run queue, without the `eventfd` write and extra `epoll_wait` that waking a
//! `LocalSet` costs; the shared state is therefore `Sync` ([`Local`]).
//! A worker runs one request at a time on its own keep-alive connection (HTTP/1.1) or on the
//! shard's shared HTTP/2 connections. In a closed loop there is no plan timing: workers claim
//! the next slot as soon as they are free, and the pacer only ticks.

use super::closed::{Claims, claim};
use super::connect::Connector;
use super::deadline::Deadlines;
use super::exchange::{Conn, execute};
use super::http2::H2Pool;
use super::live::{ShardProgress, StopSignal};
use super::local::Local;
use super::pace::Window;
use super::plan::{Plan, Slot};
use super::recorder::{Recorded, Recorder};
use super::request::PreparedShape;
use super::tick::{ClockMap, Ticker};
use super::timer::{HrTimer, duration_ns};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// The pacing rule: how far apart the wakes are and how far ahead each releases.
    pub window: Window,
    pub highest_us: u64,
    pub origin: Instant,
    pub stop: Arc<StopSignal>,
    pub progress: Arc<Vec<ShardProgress>>,
}

/// A slot as the pacer hands it to a worker.
#[derive(Debug, Clone, Copy)]
pub(super) struct Job {
    pub slot: Slot,
    /// Its intended time, or the scheduled wake that released it when that is later (see
    /// `Recorder::finished`).
    pub due_ns: u64,
    /// When the pacer queued it because no worker was free (`None`: handed straight to one).
    /// A wait in the queue is the target's doing (every connection busy), not the driver's.
    pub queued_ns: Option<u64>,
}

struct Inbox {
    job: Local<Option<Job>>,
    notify: Notify,
}

/// State shared by the shard's tasks (one thread, so the [`Local`] locks never contend).
pub(super) struct Shard {
    pub cfg: ShardConfig,
    pub timer: HrTimer,
    pub recorder: Local<Recorder>,
    pub h2: Option<H2Pool>,
    /// The workers' request timeouts, enforced by the pacer.
    pub deadlines: Deadlines,
    /// Paced plain HTTP/1.1: connections polled on the pacer's ticks (see `tick`).
    pub ticker: Option<Arc<Ticker>>,
    /// Kernel receive timestamps to the shard's clock.
    pub clock: ClockMap,
    queue: Local<VecDeque<Job>>,
    idle: Local<Vec<usize>>,
    inboxes: Vec<Inbox>,
    done: AtomicBool,
    /// Closed loop: the slots free workers take.
    pub claims: Claims,
}

impl Shard {
    pub fn progress(&self) -> &ShardProgress {
        &self.cfg.progress[self.cfg.index]
    }

    /// True once the pacer has ended: no slot will be released any more.
    pub fn is_done(&self) -> bool {
        self.done.load(Ordering::Relaxed)
    }
}

fn max_requests(mode: Mode) -> Option<u64> {
    match mode {
        Mode::Paced => None,
        Mode::Closed { max_requests } => max_requests,
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
    runtime.block_on(async move {
        let timer = HrTimer::new(cfg.origin)?;
        let recorder = Recorder::new(
            cfg.shapes.len(),
            cfg.plan.warmup_ns(),
            cfg.interval_ns,
            cfg.highest_us,
        );
        let h2 = (cfg.protocol == Protocol::Http2)
            .then(|| H2Pool::new(cfg.connector.clone(), cfg.workers));
        // TLS needs the reactor (rustls reads ahead); a closed loop has no ticks to poll on.
        let ticker =
            (cfg.mode == Mode::Paced && cfg.protocol == Protocol::Http1 && !cfg.connector.is_tls())
                .then(|| Arc::new(Ticker::default()));
        let clock = ClockMap::measure(cfg.origin);
        let shard = Arc::new(Shard {
            inboxes: (0..cfg.workers)
                .map(|_| Inbox {
                    job: Local::new(None),
                    notify: Notify::new(),
                })
                .collect(),
            claims: Claims::new(cfg.index, cfg.count, max_requests(cfg.mode)),
            deadlines: Deadlines::new(cfg.workers),
            ticker,
            clock,
            cfg,
            timer,
            recorder: Local::new(recorder),
            h2,
            queue: Local::new(VecDeque::new()),
            idle: Local::new(Vec::new()),
            done: AtomicBool::new(false),
        });
        // Spawned tasks, not a `LocalSet` and not `block_on`'s own future: a task the I/O
        // driver wakes then goes straight onto the runtime's run queue, with no `eventfd`
        // write and no extra `epoll_wait` to drain it.
        let mut workers = tokio::task::JoinSet::new();
        for id in 0..shard.cfg.workers {
            workers.spawn(worker(shard.clone(), id));
        }
        let pacer = tokio::spawn({
            let shard = shard.clone();
            async move { pace(&shard).await }
        });
        // On an error the dropped `JoinSet` aborts the workers.
        pacer.await.map_err(std::io::Error::other)??;
        finish(&shard, workers).await;
        let shard = Arc::into_inner(shard).expect("every worker has ended or been aborted");
        let Shard { cfg, recorder, .. } = shard;
        let mut recorded = recorder.into_inner().finish();
        recorded
            .samples
            .render(|seq, shape| super::exchange::detail(&cfg, seq, shape, None));
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

    // The wake time the pacer scheduled last (not when it actually woke).
    let mut scheduled = 0;
    shard.timer.sleep_until(scheduled).await?;
    loop {
        let now = shard.timer.now_ns();
        let closed_end =
            cfg.mode != Mode::Paced && (now >= cfg.plan.end_ns() || shard.claims.is_exhausted());
        if cfg.stop.is_stopped() || closed_end {
            break;
        }
        if cfg.mode == Mode::Paced {
            for (slot, due_ns) in cfg.window.release(&mut slots, scheduled, now) {
                release(shard, slot, due_ns, now);
            }
        }
        {
            let mut recorder = shard.recorder.borrow_mut();
            if let Some(p99) = recorder.timeline.close_ready(now) {
                shard.progress().p99_us.store(p99, Ordering::Relaxed);
                shard.progress().publish(&recorder.timeline);
            }
        }
        settle(shard, now).await;
        let timeout = shard.deadlines.expire(now);
        let wake = match cfg.mode {
            Mode::Paced => match cfg.window.next_wake(slots.peek(), now) {
                Some(wake) => wake,
                None => break,
            },
            Mode::Closed { .. } => cfg.plan.end_ns(),
        };
        let wake = wake.min(timeout).min(tick(shard, now));
        scheduled = wake;
        let sleep = shard.timer.sleep_until(wake);
        if cfg.mode == Mode::Paced {
            sleep.await?;
        } else {
            // A closed loop ends as soon as its last request is claimed, not at a tick.
            tokio::select! {
                slept = sleep => slept?,
                () = shard.claims.exhausted() => {}
            }
        }
    }
    shard.done.store(true, Ordering::Relaxed);
    for id in shard.idle.borrow_mut().drain(..) {
        shard.inboxes[id].notify.notify_one();
    }
    Ok(())
}

/// Lets the ticked connections retry their reads and writes; returns when the next tick is
/// due: a granule from now while some worker is busy, else [`TICK_NS`].
fn tick(shard: &Shard, now: u64) -> u64 {
    let Some(ticker) = &shard.ticker else {
        return now + TICK_NS;
    };
    ticker.tick();
    let busy =
        shard.idle.borrow_mut().len() < shard.cfg.workers || !shard.queue.borrow_mut().is_empty();
    if busy {
        now + shard.cfg.window.granularity_ns
    } else {
        now + TICK_NS
    }
}

/// Before timeouts are enforced on ticked connections: lets them read what has arrived, so a
/// response already in the socket is not cut off as a timeout.
async fn settle(shard: &Shard, now: u64) {
    let Some(ticker) = &shard.ticker else {
        return;
    };
    if shard.deadlines.any_due(now) {
        ticker.tick();
        // The woken workers run before this task resumes.
        tokio::task::yield_now().await;
    }
}

/// Hands `slot`, due at `due_ns`, to a worker or queues it; `now` is when the pacer woke.
fn release(shard: &Shard, slot: Slot, due_ns: u64, now: u64) {
    let job = Job {
        slot,
        due_ns,
        queued_ns: None,
    };
    let mut recorder = shard.recorder.borrow_mut();
    if let Some(id) = shard.idle.borrow_mut().pop() {
        recorder.released(&slot);
        *shard.inboxes[id].job.borrow_mut() = Some(job);
        shard.inboxes[id].notify.notify_one();
    } else if shard.queue.borrow_mut().len() < queue_capacity(shard.cfg.workers) {
        recorder.released(&slot);
        shard.queue.borrow_mut().push_back(Job {
            queued_ns: Some(now),
            ..job
        });
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
        let dropped: Vec<Job> = shard.queue.borrow_mut().drain(..).collect();
        let mut recorder = shard.recorder.borrow_mut();
        dropped.iter().for_each(|job| recorder.abandoned(&job.slot));
    }
    let grace_end = shard
        .timer
        .now_ns()
        .saturating_add(duration_ns(shard.cfg.grace));
    let drained = async { while workers.join_next().await.is_some() {} };
    // The pacer has ended: timeouts are enforced here until the grace period is over.
    let expiring = async {
        loop {
            let now = shard.timer.now_ns();
            settle(shard, now).await;
            let timeout = shard.deadlines.expire(now);
            if now >= grace_end {
                return;
            }
            let next_tick = tick(shard, now);
            if shard
                .timer
                .sleep_until(timeout.min(grace_end).min(next_tick))
                .await
                .is_err()
            {
                // No timer: wait out the grace period on tokio's.
                tokio::time::sleep(shard.cfg.grace).await;
                return;
            }
        }
    };
    let overdue = tokio::select! {
        () = drained => false,
        () = expiring => true,
    };
    if overdue {
        workers.abort_all();
        while workers.join_next().await.is_some() {}
    }
}

async fn next_job(shard: &Shard, id: usize) -> Option<Job> {
    if shard.cfg.mode != Mode::Paced {
        return claim(shard);
    }
    loop {
        if let Some(job) = shard.queue.borrow_mut().pop_front() {
            return Some(job);
        }
        if shard.is_done() {
            return None;
        }
        shard.idle.borrow_mut().push(id);
        shard.inboxes[id].notify.notified().await;
        if let Some(job) = shard.inboxes[id].job.borrow_mut().take() {
            return Some(job);
        }
    }
}

async fn worker(shard: Arc<Shard>, id: usize) {
    let mut conn = Conn::default();
    while let Some(job) = next_job(&shard, id).await {
        execute(&shard, id, &mut conn, job).await;
    }
}
