//! Several servers in one process that stop together: Ctrl-C, or any one of them ending (an error
//! included), stops them all, so a demo process never lingers half up.

use std::future::Future;

use tokio::sync::watch;

/// The shared stop signal.
#[derive(Default)]
pub struct Stop(watch::Sender<bool>);

impl Stop {
    /// Completes once the stop is signalled: the shutdown future to give each server.
    pub fn signalled(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut receiver = self.0.subscribe();
        async move {
            let _ = receiver.wait_for(|stopped| *stopped).await;
        }
    }

    /// Runs `part`, then signals the stop however it ended.
    pub async fn until_done<T>(&self, part: impl Future<Output = T>) -> T {
        let result = part.await;
        self.0.send_replace(true);
        result
    }

    /// Waits for Ctrl-C (or another part's end), then signals the stop.
    pub async fn on_ctrl_c(&self) {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = self.signalled() => {}
        }
        self.0.send_replace(true);
    }
}
