//! Group commit for the default (unbuffered) mode: every record is written by a `write` call
//! before its `append` returns, but when several threads log at once, one `write` carries the
//! records of several threads instead of each thread queueing for the lock to make its own.
//!
//! A thread that finds nobody writing and nothing queued writes its record at once (the
//! single-threaded case: no copy, no waiting). Otherwise it queues its encoded record with a
//! ticket and waits until its ticket is done. A waiting thread whose record was not in the
//! batch being written gives the other threads `GRACE` to come back with their next record and
//! take it along (the leader of a batch writes everything queued, its own record last); after
//! that it writes the queued records itself. A leader writes one batch and returns.
//!
//! Waiting threads spin on atomics kept in cache lines of their own, and one whose record was
//! written without a failure returns without taking the queue's lock again (less traffic
//! between cores for the leader to wait on).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Bytes kept allocated between batches; a larger batch buffer is freed after use.
const KEEP: usize = 64 * 1024;

/// How long a waiting thread spins before it sleeps: writing one batch takes a few
/// microseconds, and sleeping on the condition variable costs two system calls.
const SPIN: Duration = Duration::from_micros(20);

/// How long a queued record whose batch has not started waits for another thread to lead it
/// (encoding a record takes well under this) before its own thread writes it.
const GRACE: Duration = Duration::from_micros(3);

/// What `write` reports: the index in the batch of each record whose failure is returned to
/// its `append` (only the first of a failure streak is).
pub(crate) type Errors = Vec<(usize, anyhow::Error)>;

#[derive(Default)]
struct Queue {
    /// The encoded records waiting for the next leader, one after the other, in ticket order.
    bytes: Vec<u8>,
    /// Each waiting record's length in `bytes`.
    lens: Vec<usize>,
    /// The leader's buffers, kept for reuse.
    spare: (Vec<u8>, Vec<usize>),
    leading: bool,
    /// Ticket of the last queued record.
    last: u64,
    /// Every ticket up to this one is done (written, or counted as lost).
    done: u64,
    /// Threads gone to sleep on `wake` since the last wake-up call (a thread woken without
    /// one counts twice, which costs one needless call at most).
    sleepers: usize,
    /// Errors for tickets whose threads have not picked them up yet.
    errors: Vec<(u64, anyhow::Error)>,
}

/// The queue of records waiting to be written; see the module documentation.
#[derive(Default)]
pub(crate) struct Group {
    queue: Mutex<Queue>,
    wake: Condvar,
    /// Copies of `queue.done` / `queue.leading` for spinning without the lock.
    flags: Flags,
}

/// What a waiting thread spins on, alone in its cache lines (two, for adjacent-line
/// prefetching): the leader's other writes then do not take the line away from the spinner,
/// nor the spinner's reads from the leader.
#[derive(Default)]
#[repr(align(128))]
struct Flags {
    done: AtomicU64,
    leading: AtomicBool,
    /// `queue.errors.len()`, stored before `done`.
    unclaimed: AtomicUsize,
}

impl Group {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Returns once a `write` call holding `record` has returned, either here (this thread
    /// leads: `write(bytes, lens, errors)` gets the batch's records back to back, their
    /// lengths, and collects failures) or in another thread. The result is the failure `write`
    /// reported for this record, if any.
    pub(crate) fn commit(
        &self,
        record: &[u8],
        write: impl FnOnce(&[u8], &[usize], &mut Errors),
    ) -> anyhow::Result<()> {
        let mut queue = self.lock();
        if !queue.leading && queue.lens.is_empty() {
            queue.last += 1;
            let ticket = queue.last;
            let mut lead = self.start(queue, ticket, ticket);
            write(record, &[record.len()], &mut lead.errors);
            return lead.end(None);
        }
        queue.bytes.extend_from_slice(record);
        queue.lens.push(record.len());
        queue.last += 1;
        let ticket = queue.last;
        let mut write = Some(write);
        loop {
            if queue.done >= ticket {
                let Some(i) = queue.errors.iter().position(|(t, _)| *t == ticket) else {
                    return Ok(());
                };
                let e = queue.errors.swap_remove(i).1;
                self.flags
                    .unclaimed
                    .store(queue.errors.len(), Ordering::Relaxed);
                return Err(e);
            }
            if !queue.leading {
                // Not done and not being written: our record is among the queued ones.
                if let Some(write) = write.take() {
                    let (mut bytes, mut lens) = std::mem::take(&mut queue.spare);
                    std::mem::swap(&mut bytes, &mut queue.bytes);
                    std::mem::swap(&mut lens, &mut queue.lens);
                    let (first, last) = (queue.done + 1, queue.last);
                    let mut lead = self.start(queue, first, last);
                    write(&bytes, &lens, &mut lead.errors);
                    return lead.end_own(ticket, (bytes, lens));
                }
            }
            drop(queue);
            // Done and no failure waiting to be picked up (so none for this record, whose
            // failure would stay in `errors` until picked up here): nothing to take the lock for.
            if self.spin(ticket) && self.flags.unclaimed.load(Ordering::Acquire) == 0 {
                return Ok(());
            }
            queue = self.lock();
            if queue.done >= ticket || !queue.leading {
                continue;
            }
            queue.sleepers += 1;
            queue = self.wake.wait(queue).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Spins until `ticket` is done (true), or nobody has led for `GRACE`, or `SPIN` has
    /// passed (false). The clock is read once every `CHECK` rounds only: between two reads the
    /// loop is two loads and a spin-loop hint.
    fn spin(&self, ticket: u64) -> bool {
        const CHECK: u32 = 8;
        let start = Instant::now();
        let mut idle_since = None;
        let mut round = 0u32;
        loop {
            if self.flags.done.load(Ordering::Acquire) >= ticket {
                return true;
            }
            let leading = self.flags.leading.load(Ordering::Acquire);
            if leading {
                idle_since = None;
            }
            round = round.wrapping_add(1);
            if round.is_multiple_of(CHECK) || (!leading && idle_since.is_none()) {
                let now = Instant::now();
                if !leading && now - *idle_since.get_or_insert(now) >= GRACE {
                    return false;
                }
                if now - start >= SPIN {
                    return false;
                }
            }
            std::hint::spin_loop();
        }
    }

    fn start<'a>(&'a self, mut queue: MutexGuard<'a, Queue>, first: u64, last: u64) -> Lead<'a> {
        queue.leading = true;
        self.flags.leading.store(true, Ordering::Release);
        drop(queue);
        Lead {
            group: self,
            first,
            last,
            errors: Vec::new(),
            ended: false,
        }
    }
}

/// A leader's turn. Ending it (also by drop, should `write` panic) marks the batch's tickets
/// done and lets the next thread lead, so no thread waits forever.
struct Lead<'a> {
    group: &'a Group,
    first: u64,
    last: u64,
    errors: Errors,
    ended: bool,
}

impl Lead<'_> {
    /// Ends the turn of a leader whose record is `ticket`, returning its result; the other
    /// records' results are left for their threads. `buffers` go back for reuse.
    fn end_own(mut self, ticket: u64, buffers: (Vec<u8>, Vec<usize>)) -> anyhow::Result<()> {
        let own = (ticket - self.first) as usize;
        let mine = self.errors.iter().position(|(i, _)| *i == own);
        let result = match mine {
            Some(i) => Err(self.errors.swap_remove(i).1),
            None => Ok(()),
        };
        self.end(Some(buffers))?;
        result
    }

    fn end(&mut self, buffers: Option<(Vec<u8>, Vec<usize>)>) -> anyhow::Result<()> {
        self.ended = true;
        let mut errors = std::mem::take(&mut self.errors);
        let mut queue = self.group.lock();
        // A lone leader's own failure (index 0) goes straight back to it.
        let own = if self.first == self.last {
            errors.pop().map(|(_, e)| e)
        } else {
            None
        };
        for (i, e) in errors {
            queue.errors.push((self.first + i as u64, e));
        }
        queue.done = self.last;
        queue.leading = false;
        self.group
            .flags
            .unclaimed
            .store(queue.errors.len(), Ordering::Relaxed);
        self.group.flags.done.store(self.last, Ordering::Release);
        self.group.flags.leading.store(false, Ordering::Release);
        if let Some((mut bytes, mut lens)) = buffers
            && bytes.capacity() <= KEEP
        {
            bytes.clear();
            lens.clear();
            queue.spare = (bytes, lens);
        }
        if queue.sleepers > 0 {
            // Woken, they are sleepers no more: a woken thread can take tens of microseconds
            // to run again, and meanwhile each batch would make one more wake-up call.
            queue.sleepers = 0;
            self.group.wake.notify_all();
        }
        match own {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        if !self.ended {
            // `write` panicked (it is written not to): whether the batch reached the file is
            // unknown, so its records' `append`s say so rather than return Ok.
            self.errors.clear();
            for i in 0..=(self.last - self.first) as usize {
                self.errors.push((
                    i,
                    anyhow::anyhow!("writing this record's batch panicked; it may be lost"),
                ));
            }
            let _ = self.end(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    type Calls = Arc<Mutex<Vec<(Vec<u8>, Vec<usize>)>>>;

    fn queued(group: &Group) -> usize {
        group.lock().lens.len()
    }

    #[test]
    fn records_queued_during_a_write_go_out_in_one_write_and_each_thread_gets_its_own_result() {
        let group = Arc::new(Group::default());
        let calls: Calls = Arc::default();
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let leader = {
            let (group, calls) = (group.clone(), calls.clone());
            std::thread::spawn(move || {
                group.commit(b"a\n", |bytes, lens, _| {
                    started_tx.send(()).unwrap();
                    // Hold the write until both other threads have queued their records.
                    let deadline = Instant::now() + Duration::from_secs(20);
                    while queued(&group) < 2 && Instant::now() < deadline {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    calls.lock().unwrap().push((bytes.to_vec(), lens.to_vec()));
                })
            })
        };
        started_rx.recv().unwrap();
        let followers: Vec<_> = [b"bb\n".as_slice(), b"ccc\n".as_slice()]
            .into_iter()
            .map(|record| {
                let (group, calls) = (group.clone(), calls.clone());
                std::thread::spawn(move || {
                    let result = group.commit(record, |bytes, lens, errors| {
                        calls.lock().unwrap().push((bytes.to_vec(), lens.to_vec()));
                        errors.push((1, anyhow::anyhow!("second record failed")));
                    });
                    (record, result)
                })
            })
            .collect();
        assert!(leader.join().unwrap().is_ok());
        let results: Vec<_> = followers.into_iter().map(|t| t.join().unwrap()).collect();
        let calls = calls.lock().unwrap();
        assert_eq!(
            calls.len(),
            2,
            "one write for the leader, one for both followers"
        );
        assert_eq!(calls[0], (b"a\n".to_vec(), vec![2]));
        let (bytes, lens) = &calls[1];
        assert_eq!(lens.len(), 2);
        assert_eq!(bytes.len(), 7);
        // The error for index 1 reached the thread whose record was second, and only it.
        let second = &bytes[lens[0]..];
        for (record, result) in results {
            match result {
                Err(e) => {
                    assert_eq!(record, second);
                    assert_eq!(e.to_string(), "second record failed");
                }
                Ok(()) => assert_ne!(record, second),
            }
        }
    }

    #[test]
    fn a_waiting_thread_whose_record_failed_in_another_threads_batch_gets_the_failure() {
        // Several rounds: the waiting thread should mostly still be spinning (the path that
        // returns without the lock) when the batch ends, sometimes asleep.
        for _ in 0..50 {
            let group = Arc::new(Group::default());
            // This thread plays a leader in the middle of a write.
            let mut queue = group.lock();
            queue.last += 1;
            let mut lead = group.start(queue, 1, 1);
            let follower = {
                let group = group.clone();
                std::thread::spawn(move || {
                    group.commit(b"b\n", |_, _, _| panic!("the follower must not lead"))
                })
            };
            let deadline = Instant::now() + Duration::from_secs(20);
            while queued(&group) < 1 && Instant::now() < deadline {
                std::hint::spin_loop();
            }
            // The follower's record joins this batch, and fails.
            let mut queue = group.lock();
            let (bytes, lens) = (
                std::mem::take(&mut queue.bytes),
                std::mem::take(&mut queue.lens),
            );
            assert_eq!(
                (bytes.as_slice(), lens.as_slice()),
                (b"b\n".as_slice(), [2].as_slice())
            );
            drop(queue);
            lead.last = 2;
            lead.errors.push((1, anyhow::anyhow!("disk full")));
            assert!(lead.end_own(1, Default::default()).is_ok());
            let result = follower.join().unwrap();
            assert_eq!(result.unwrap_err().to_string(), "disk full");
            assert!(group.lock().errors.is_empty());
        }
    }

    #[test]
    fn a_panic_while_writing_releases_the_queue_and_is_not_reported_as_written() {
        let group = Arc::new(Group::default());
        let panicked = {
            let group = group.clone();
            std::thread::spawn(move || {
                let _ = group.commit(b"x\n", |_, _, _| panic!("test panic in write"));
            })
            .join()
        };
        assert!(panicked.is_err());
        let mut written = Vec::new();
        let result = group.commit(b"y\n", |bytes, _, _| written.extend_from_slice(bytes));
        assert!(result.is_ok());
        assert_eq!(written, b"y\n", "the next thread leads at once");
        assert!(group.lock().errors.is_empty());
    }

    #[test]
    fn a_lone_thread_leads_its_own_record_and_gets_its_failure_back() {
        let group = Group::default();
        let result = group.commit(b"x\n", |bytes, lens, errors| {
            assert_eq!((bytes, lens), (b"x\n".as_slice(), [2].as_slice()));
            errors.push((0, anyhow::anyhow!("disk full")));
        });
        assert_eq!(result.unwrap_err().to_string(), "disk full");
        assert!(group.commit(b"y\n", |_, _, _| {}).is_ok());
        assert!(group.lock().errors.is_empty());
    }
}
