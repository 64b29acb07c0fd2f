//! A bulkhead: at most `max_in_flight` calls at once, up to `max_queue` more waiting at most
//! `queue_timeout`, the rest refused at once, so one slow API cannot take every connection and task of
//! the node.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct Bulkhead {
    slots: std::sync::Arc<Semaphore>,
    max_in_flight: usize,
    max_queue: usize,
    queue_timeout: Duration,
    queued: AtomicUsize,
    pub refused: AtomicUsize,
}

/// The call may go ahead while this is held.
pub struct Slot(#[allow(dead_code)] OwnedSemaphorePermit);

impl Bulkhead {
    pub fn new(max_in_flight: usize, max_queue: usize, queue_timeout: Duration) -> Bulkhead {
        Bulkhead {
            slots: std::sync::Arc::new(Semaphore::new(max_in_flight)),
            max_in_flight,
            max_queue,
            queue_timeout,
            queued: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
        }
    }

    /// A slot, or `None` when the bulkhead and its queue are full (or the wait ran out).
    pub async fn enter(&self) -> Option<Slot> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Some(Slot(permit));
        }
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.max_queue {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            self.refused.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let waited =
            tokio::time::timeout(self.queue_timeout, self.slots.clone().acquire_owned()).await;
        self.queued.fetch_sub(1, Ordering::AcqRel);
        match waited {
            Ok(Ok(permit)) => Some(Slot(permit)),
            _ => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    pub fn in_flight(&self) -> usize {
        self.max_in_flight - self.slots.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn full_bulkheads_queue_briefly_then_refuse() {
        let bulkhead = Bulkhead::new(2, 1, Duration::from_millis(50));
        let a = bulkhead.enter().await.expect("a slot");
        let _b = bulkhead.enter().await.expect("a slot");
        // The third waits in the queue and gets the slot `a` frees.
        let waiting = async { bulkhead.enter().await };
        let freeing = async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            drop(a);
        };
        let (third, ()) = tokio::join!(waiting, freeing);
        assert!(third.is_some());
        // Full, queue full: the fourth waits out the timeout; with a queued one, a fifth is refused at once.
        let started = std::time::Instant::now();
        assert!(bulkhead.enter().await.is_none());
        assert!(started.elapsed() >= Duration::from_millis(45));
        assert_eq!(bulkhead.refused.load(Ordering::Relaxed), 1);
    }
}
