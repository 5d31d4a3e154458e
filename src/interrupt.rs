//! Ctrl-C for long-running commands: the first press asks the command to stop at the next safe
//! point (nothing half-created), the second exits at once with 130.

use tokio::sync::watch;

/// A handle long operations watch to stop early.
#[derive(Debug, Clone)]
pub struct Interrupt {
    rx: watch::Receiver<bool>,
}

impl Interrupt {
    /// Listens for SIGINT on the current tokio runtime; `notice` runs on the first press (the
    /// command edge tells the user what happens now).
    pub fn install(notice: impl FnOnce() + Send + 'static) -> Interrupt {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            notice();
            let _ = tx.send(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        });
        Interrupt { rx }
    }

    /// One that never fires, for callers without a terminal to interrupt them.
    pub fn never() -> Interrupt {
        let (tx, rx) = watch::channel(false);
        std::mem::forget(tx);
        Interrupt { rx }
    }

    /// One that has already fired: the user pressed Ctrl-C before the work began (tests).
    pub fn fired() -> Interrupt {
        let (tx, rx) = watch::channel(true);
        std::mem::forget(tx);
        Interrupt { rx }
    }

    pub fn is_set(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves once Ctrl-C was pressed.
    pub async fn wait(&self) {
        let mut rx = self.rx.clone();
        let _ = rx.wait_for(|set| *set).await;
    }
}
