//! A retry budget: retries may add at most `ratio` extra calls on top of the calls made, plus
//! `min_per_second` a second whatever the traffic, so retries can never multiply a backend's load
//! when it is failing for everyone. A token bucket: each call deposits `ratio`, each retry withdraws
//! one; the bucket holds at most ten seconds' worth.

use std::sync::Mutex;
use std::time::Instant;

pub struct RetryBudget {
    ratio: f64,
    min_per_second: f64,
    state: Mutex<(f64, Instant)>,
}

impl RetryBudget {
    pub fn new(ratio: f64, min_per_second: u32) -> RetryBudget {
        RetryBudget {
            ratio,
            min_per_second: f64::from(min_per_second),
            state: Mutex::new((f64::from(min_per_second), Instant::now())),
        }
    }

    fn refill(&self, state: &mut (f64, Instant)) {
        let elapsed = state.1.elapsed().as_secs_f64();
        state.1 = Instant::now();
        let cap = (self.min_per_second * 10.0).max(1.0) + self.ratio * 1000.0;
        state.0 = (state.0 + elapsed * self.min_per_second).min(cap);
    }

    /// A call was made.
    pub fn deposit(&self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.refill(&mut state);
        state.0 += self.ratio;
    }

    /// Whether a retry may be made (and spends it).
    pub fn withdraw(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.refill(&mut state);
        if state.0 >= 1.0 {
            state.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_stay_within_the_ratio() {
        let budget = RetryBudget::new(0.1, 0);
        let mut retries = 0;
        for _ in 0..1000 {
            budget.deposit();
            if budget.withdraw() {
                retries += 1;
            }
        }
        assert!(
            (95..=100).contains(&retries),
            "{retries} retries for 1000 calls"
        );
    }
}
