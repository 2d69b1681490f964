//! What the scripted peer and the fault proxy share: where a server loop runs, and how
//! sockets are closed. It lives here because the proxy is a single file.
//!
//! A loop runs as a task on the caller's tokio runtime (async tests), or on a
//! current-thread runtime of its own on a background thread (sync tests that run the
//! `mailbag` binary). Dropping the [`Runner`] stops the loop either way.

use std::future::Future;
use std::io;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// How long a FIN-closed socket is drained so that unread input does not turn the FIN into
/// an RST (Linux resets a socket closed with unread data).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A running server loop; dropping it stops the loop.
#[derive(Debug)]
pub(crate) enum Runner {
    /// A task on the caller's runtime, aborted on drop.
    Task(tokio::task::JoinHandle<()>),
    /// A runtime on its own thread, stopped and joined on drop.
    Thread {
        stop: Option<oneshot::Sender<()>>,
        thread: Option<std::thread::JoinHandle<()>>,
    },
}

impl Runner {
    /// Spawns `f` on the current tokio runtime.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub(crate) fn task<F>(f: F) -> Runner
    where
        F: Future<Output = ()> + Send + 'static,
    {
        Runner::Task(tokio::spawn(f))
    }

    /// Runs the future that `make` returns on a new thread with its own runtime, until the
    /// future ends or the runner is dropped.
    pub(crate) fn thread<F, Fut>(name: &str, make: F) -> io::Result<Runner>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    tokio::select! {
                        _ = make() => {}
                        _ = stopped => {}
                    }
                });
            })?;
        Ok(Runner::Thread {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        match self {
            Runner::Task(task) => task.abort(),
            Runner::Thread { stop, thread } => {
                // Dropping the sender wakes the `select!`, which drops the loop's future.
                drop(stop.take());
                if let Some(thread) = thread.take() {
                    let _ = thread.join();
                }
            }
        }
    }
}

/// Whether an I/O error means the other side reset the connection.
pub(crate) fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
    )
}

/// Makes closing `stream` send an RST (`SO_LINGER` 0) instead of a FIN.
pub(crate) fn reset_on_close(stream: &TcpStream) {
    let _ = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO));
}

/// Reads and discards until end-of-file, an error, or [`DRAIN_TIMEOUT`].
pub(crate) async fn drain(stream: &mut TcpStream) {
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, discard(stream)).await;
}

/// Reads and discards until end-of-file or an error.
pub(crate) async fn discard(stream: &mut TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n) = stream.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}
