//! Circuit breakers on the `failsafe` crate's state machine (closed → open → half open → closed),
//! extended through its two traits:
//!
//! - [`RatePolicy`] (a `FailurePolicy`) opens on a failure rate *or* a slow-call rate over a rolling
//!   window, once the window holds `minimum_calls`; the open time doubles each time a probe fails, up to
//!   `max_open`. failsafe only tells a policy about failures, so a slow call that succeeded is reported
//!   to the state machine as a failure and the window (shared with [`Breaker`]) tells the two apart.
//! - [`Transitions`] (an `Instrument`) logs each transition once and keeps the state readable, so
//!   `/readyz` can show it and half-open probes can be bounded: failsafe lets every call through while
//!   half open; [`Breaker::admit`] lets `half_open_probes` at once.

use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use failsafe::failure_policy::FailurePolicy;
use failsafe::{Instrument, StateMachine};

const BUCKETS: usize = 10;

/// Calls, failures and slow calls over a window of `BUCKETS` buckets.
#[derive(Debug)]
struct Window {
    span: Duration,
    buckets: [(u32, u32, u32); BUCKETS],
    /// The bucket index of `started` and when it began.
    current: usize,
    started: Instant,
}

impl Window {
    fn new(span: Duration) -> Window {
        Window {
            span,
            buckets: [(0, 0, 0); BUCKETS],
            current: 0,
            started: Instant::now(),
        }
    }

    fn advance(&mut self) {
        let step = self.span / BUCKETS as u32;
        while self.started.elapsed() >= step && !step.is_zero() {
            self.current = (self.current + 1) % BUCKETS;
            self.buckets[self.current] = (0, 0, 0);
            self.started += step;
            if self.started.elapsed() > self.span {
                self.buckets = [(0, 0, 0); BUCKETS];
                self.started = Instant::now();
            }
        }
    }

    fn record(&mut self, failed: bool, slow: bool) {
        self.advance();
        let bucket = &mut self.buckets[self.current];
        bucket.0 += 1;
        bucket.1 += u32::from(failed);
        bucket.2 += u32::from(slow);
    }

    fn totals(&mut self) -> (u32, u32, u32) {
        self.advance();
        self.buckets
            .iter()
            .fold((0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2))
    }

    fn clear(&mut self) {
        self.buckets = [(0, 0, 0); BUCKETS];
        self.started = Instant::now();
    }
}

/// The thresholds of one breaker.
#[derive(Debug, Clone)]
pub struct Thresholds {
    pub failure_rate: f64,
    pub slow_call_rate: f64,
    pub slow_call: Duration,
    pub window: Duration,
    pub minimum_calls: u32,
    pub open: Duration,
    pub max_open: Duration,
    pub half_open_probes: u32,
}

pub struct RatePolicy {
    window: Arc<Mutex<Window>>,
    /// The breaker's state as [`Transitions`] keeps it: a failed probe reopens whatever the window says.
    state: Arc<AtomicU8>,
    thresholds: Thresholds,
    next_open: Duration,
}

impl FailurePolicy for RatePolicy {
    fn record_success(&mut self) {}

    fn mark_dead_on_failure(&mut self) -> Option<Duration> {
        let (calls, failures, slow) = self
            .window
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .totals();
        let t = &self.thresholds;
        let probing = self.state.load(Ordering::Acquire) == HALF_OPEN;
        let tripped = probing
            || calls >= t.minimum_calls
                && (f64::from(failures) / f64::from(calls) >= t.failure_rate
                    || f64::from(slow) / f64::from(calls) >= t.slow_call_rate);
        if !tripped {
            return None;
        }
        // Each opening in a row lasts twice the one before, up to `max_open`.
        let delay = self.next_open;
        self.next_open = (self.next_open * 2).min(t.max_open);
        Some(delay)
    }

    fn revived(&mut self) {
        self.next_open = self.thresholds.open;
        self.window
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

pub const CLOSED: u8 = 0;
pub const OPEN: u8 = 1;
pub const HALF_OPEN: u8 = 2;

#[derive(Clone)]
pub struct Transitions {
    name: Arc<str>,
    state: Arc<AtomicU8>,
    opened: Arc<AtomicU64>,
}

impl Instrument for Transitions {
    fn on_call_rejected(&self) {}

    fn on_open(&self) {
        self.opened.fetch_add(1, Ordering::Relaxed);
        if self.state.swap(OPEN, Ordering::AcqRel) != OPEN {
            tracing::warn!(breaker = %self.name, "circuit breaker open: calls are refused until a probe succeeds");
        }
    }

    fn on_half_open(&self) {
        if self.state.swap(HALF_OPEN, Ordering::AcqRel) != HALF_OPEN {
            tracing::info!(breaker = %self.name, "circuit breaker half open: probing");
        }
    }

    fn on_closed(&self) {
        if self.state.swap(CLOSED, Ordering::AcqRel) != CLOSED {
            tracing::info!(breaker = %self.name, "circuit breaker closed again");
        }
    }
}

pub struct Breaker {
    machine: StateMachine<RatePolicy, Transitions>,
    window: Arc<Mutex<Window>>,
    state: Arc<AtomicU8>,
    opened: Arc<AtomicU64>,
    probes: AtomicUsize,
    thresholds: Thresholds,
}

/// A call the breaker let through; report its outcome with [`Breaker::finish`].
pub struct Ticket {
    probe: bool,
    started: Instant,
}

impl Breaker {
    pub fn new(name: &str, thresholds: Thresholds) -> Breaker {
        let window = Arc::new(Mutex::new(Window::new(thresholds.window)));
        let state = Arc::new(AtomicU8::new(CLOSED));
        let opened = Arc::new(AtomicU64::new(0));
        let policy = RatePolicy {
            window: window.clone(),
            state: state.clone(),
            next_open: thresholds.open,
            thresholds: thresholds.clone(),
        };
        let instrument = Transitions {
            name: Arc::from(name),
            state: state.clone(),
            opened: opened.clone(),
        };
        Breaker {
            machine: StateMachine::new(policy, instrument),
            window,
            state,
            opened,
            probes: AtomicUsize::new(0),
            thresholds,
        }
    }

    /// Whether a call may go ahead now.
    pub fn admit(&self) -> Option<Ticket> {
        if !self.machine.is_call_permitted() {
            return None;
        }
        let probe = self.state.load(Ordering::Acquire) == HALF_OPEN;
        if probe {
            let running = self.probes.fetch_add(1, Ordering::AcqRel);
            if running >= self.thresholds.half_open_probes as usize {
                self.probes.fetch_sub(1, Ordering::AcqRel);
                return None;
            }
        }
        Some(Ticket {
            probe,
            started: Instant::now(),
        })
    }

    /// Reports a call's outcome: `failed` by the breaker's own classes; slowness it measures itself.
    pub fn finish(&self, ticket: Ticket, failed: bool) {
        let slow = ticket.started.elapsed() >= self.thresholds.slow_call;
        self.window
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .record(failed, slow);
        if failed || slow {
            self.machine.on_error();
        } else {
            self.machine.on_success();
        }
        if ticket.probe {
            self.probes.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// A call that ended without an outcome (the client went away): frees its probe, records nothing.
    pub fn abandon(&self, ticket: Ticket) {
        if ticket.probe {
            self.probes.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Calls, failures and slow calls in the window now.
    pub fn window(&self) -> (u32, u32, u32) {
        self.window
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .totals()
    }

    pub fn state(&self) -> &'static str {
        match self.state.load(Ordering::Acquire) {
            OPEN => "open",
            HALF_OPEN => "half_open",
            _ => "closed",
        }
    }

    pub fn times_opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thresholds() -> Thresholds {
        Thresholds {
            failure_rate: 0.5,
            slow_call_rate: 0.5,
            slow_call: Duration::from_millis(30),
            window: Duration::from_secs(10),
            minimum_calls: 4,
            open: Duration::from_millis(60),
            max_open: Duration::from_millis(200),
            half_open_probes: 1,
        }
    }

    fn call(breaker: &Breaker, failed: bool) -> bool {
        match breaker.admit() {
            Some(ticket) => {
                breaker.finish(ticket, failed);
                true
            }
            None => false,
        }
    }

    #[test]
    fn every_transition() {
        let breaker = Breaker::new("test", thresholds());
        // Closed: failures below the minimum number of calls decide nothing.
        assert!(call(&breaker, true) && call(&breaker, true) && call(&breaker, false));
        assert_eq!(breaker.state(), "closed");
        // The fourth call reaches the minimum with half of them failed: open.
        assert!(call(&breaker, true));
        assert_eq!(breaker.state(), "open");
        assert!(breaker.admit().is_none(), "open refuses at once");
        // After the open time: half open, one probe at a time.
        std::thread::sleep(Duration::from_millis(70));
        let probe = breaker.admit().expect("a probe");
        assert_eq!(breaker.state(), "half_open");
        assert!(breaker.admit().is_none(), "a second probe waits");
        // The probe fails: open again, for longer.
        breaker.finish(probe, true);
        assert_eq!(breaker.state(), "open");
        std::thread::sleep(Duration::from_millis(70));
        assert!(breaker.admit().is_none(), "the second open time doubled");
        std::thread::sleep(Duration::from_millis(60));
        // A probe succeeds: closed, and the window starts afresh.
        assert!(call(&breaker, false));
        assert_eq!(breaker.state(), "closed");
        assert!(call(&breaker, true) && call(&breaker, true));
        assert_eq!(breaker.state(), "closed", "old failures were forgotten");
        assert_eq!(breaker.times_opened(), 2);
    }

    #[test]
    fn slow_calls_open_it_too() {
        let breaker = Breaker::new("slow", thresholds());
        for _ in 0..4 {
            let ticket = breaker.admit().expect("admitted");
            std::thread::sleep(Duration::from_millis(35));
            breaker.finish(ticket, false);
        }
        assert_eq!(breaker.state(), "open");
    }
}
