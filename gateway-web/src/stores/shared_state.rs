//! Per-node state that must outlive snapshots (a reload must not reset a bulkhead's count of calls in
//! flight, a breaker's window, or a retry budget): kept here by name, and handed to each snapshot's
//! interceptors. A name includes what the state was made from, so a changed policy gets fresh state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub struct Registry<T> {
    items: Mutex<HashMap<String, Arc<T>>>,
}

impl<T> Default for Registry<T> {
    fn default() -> Self {
        Registry {
            items: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> Registry<T> {
    pub fn get_or(&self, name: &str, make: impl FnOnce() -> T) -> Arc<T> {
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        items
            .entry(name.to_string())
            .or_insert_with(|| Arc::new(make()))
            .clone()
    }

    /// Every item with its name, for `/readyz`.
    pub fn all(&self) -> Vec<(String, Arc<T>)> {
        let items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<_> = items.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }
}
