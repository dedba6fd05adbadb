//! bcrypt's own threads, with admission control. A password check takes a
//! quarter of a second of a core by design, so a storm of sign-ins (a
//! credential-stuffing attack from many addresses, which the per-IP limit
//! doesn't stop) must not take the CPU the async workers need for everyone
//! else:
//!
//! - at most `workers` checks run at once (one per core by default), on
//!   threads of their own, so a storm takes at most its share of the CPU
//!   beside the async workers, however many sign-ins arrive; a niceness
//!   above 0 (`password.hash_nice`, Linux) puts signed-in pages further
//!   ahead, at the cost of sign-ins per second;
//! - at most `queue` more wait; past that a check is refused at once
//!   ([`Error::Busy`], answered 503 with `Retry-After`), and the refusals
//!   are logged at most once a minute, with their count.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rocket::tokio::sync::oneshot;

use crate::error::{Error, Result};

type Job = Box<dyn FnOnce() + Send>;

/// The thread pool and its queue. Cloning shares them; the threads end
/// when the last clone is dropped.
#[derive(Clone)]
pub struct Hasher {
    jobs: SyncSender<Job>,
    refusals: Arc<Refusals>,
    workers: usize,
    /// Checks admitted and not yet started (the metrics' queue length).
    queued: Arc<AtomicUsize>,
}

/// Refusals since the last log line.
struct Refusals {
    count: AtomicU64,
    last_log: Mutex<Option<Instant>>,
}

impl Hasher {
    /// Starts `workers` threads (0: one per core) at niceness `nice` behind
    /// a queue of `queue`.
    pub fn new(workers: usize, queue: usize, nice: i32) -> Result<Self> {
        let workers = if workers == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            workers
        };
        let (jobs, rx) = sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("gatehouse-bcrypt-{i}"))
                .spawn(move || work(&rx, nice))
                .map_err(|e| Error::Config(format!("could not start the password threads: {e}")))?;
        }
        Ok(Hasher {
            jobs,
            refusals: Arc::new(Refusals {
                count: AtomicU64::new(0),
                last_log: Mutex::new(None),
            }),
            workers,
            queued: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Checks waiting for a thread now.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// How many checks run at once.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Runs `f` on a bcrypt thread, or refuses at once when the queue is
    /// full.
    pub async fn run<R: Send + 'static>(&self, f: impl FnOnce() -> R + Send + 'static) -> Result<R> {
        let (tx, rx) = oneshot::channel();
        let queued = self.queued.clone();
        queued.fetch_add(1, Ordering::Relaxed);
        let job: Job = Box::new(move || {
            queued.fetch_sub(1, Ordering::Relaxed);
            // The caller may have gone (a closed connection): no work for
            // nobody.
            if !tx.is_closed() {
                let _ = tx.send(f());
            }
        });
        match self.jobs.try_send(job) {
            Ok(()) => self.report(false),
            Err(TrySendError::Full(_)) => {
                self.queued.fetch_sub(1, Ordering::Relaxed);
                self.refused();
                return Err(Error::Busy);
            }
            Err(TrySendError::Disconnected(_)) => {
                self.queued.fetch_sub(1, Ordering::Relaxed);
                return Err(Error::PasswordWorker);
            }
        }
        rx.await.map_err(|_| Error::PasswordWorker)
    }

    /// Counts a refusal.
    fn refused(&self) {
        self.refusals.count.fetch_add(1, Ordering::Relaxed);
        self.report(true);
    }

    /// Logs the refusals counted since the last report, at most once a
    /// minute: at a refusal, or at the next check admitted after a storm.
    fn report(&self, refusing: bool) {
        if !refusing && self.refusals.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut last = self.refusals.last_log.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
            *last = Some(Instant::now());
            let count = self.refusals.count.swap(0, Ordering::Relaxed);
            log::warn!(
                "password checks at capacity: {count} refused with 503 since the last report (password.hash_workers = {}, the queue is full)",
                self.workers
            );
        }
    }
}

/// A bcrypt thread: lower its priority, then take jobs until the pool is
/// dropped.
fn work(rx: &Mutex<Receiver<Job>>, nice: i32) {
    lower_priority(nice);
    loop {
        let job = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        match job {
            // A panicking job drops its answer; the caller gets an error.
            Ok(job) => {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            }
            Err(_) => return,
        }
    }
}

/// This thread's niceness: above the async workers' 0, they win the CPU
/// when both want it, and bcrypt takes what they leave.
fn lower_priority(nice: i32) {
    if nice == 0 {
        return;
    }
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on this thread's own id; no memory is touched.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        if libc::setpriority(libc::PRIO_PROCESS, tid, nice) != 0 {
            log::warn!("could not set the password threads' niceness to {nice} (password.hash_nice)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rocket::async_test]
    async fn refuses_past_the_queue() {
        let hasher = Hasher::new(1, 1, 10).unwrap();
        let (started, has_started) = std::sync::mpsc::channel::<()>();
        let (release, hold) = std::sync::mpsc::channel::<()>();
        // One check takes the only thread and holds it...
        let running = {
            let hasher = hasher.clone();
            rocket::tokio::spawn(async move {
                hasher
                    .run(move || {
                        started.send(()).unwrap();
                        hold.recv().unwrap();
                        "done"
                    })
                    .await
            })
        };
        has_started.recv_timeout(Duration::from_secs(10)).unwrap();
        // ...one more waits in the queue (of one)...
        let (queued_ran, has_queued_run) = std::sync::mpsc::channel::<()>();
        let queued: Job = Box::new(move || queued_ran.send(()).unwrap());
        hasher.jobs.try_send(queued).unwrap();
        // ...and the next is refused at once.
        assert!(matches!(hasher.run(|| 1).await, Err(Error::Busy)));
        release.send(()).unwrap();
        assert_eq!(running.await.unwrap().unwrap(), "done");
        // Once the queued one has run, there is room again.
        has_queued_run.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(
            hasher.run(|| 2).await.unwrap(),
            2,
            "served again once there is room"
        );
    }

    #[rocket::async_test]
    async fn a_panicking_check_is_an_error_not_a_lost_thread() {
        let hasher = Hasher::new(1, 4, 10).unwrap();
        let panicked = hasher.run(|| -> u8 { panic!("bcrypt blew up") }).await;
        assert!(matches!(panicked, Err(Error::PasswordWorker)));
        assert_eq!(hasher.run(|| 3).await.unwrap(), 3, "the thread lives on");
    }
}
