//! A fault-injecting TCP proxy, to put between a client and the test Dovecot.
//!
//! [`FaultProxy`] listens on 127.0.0.1 and forwards every accepted connection to one
//! upstream address, both ways, applying the [`Faults`] that its [`FaultPlan`] chooses for
//! that connection: cut after N bytes (FIN or RST), stall, delay each segment, 1-byte
//! segments, blackhole, refuse. The plan can change while the proxy runs, so a test can cut
//! connection 1 and let connection 2 through; so can the upstream, for a Dovecot restarted
//! on new ports. Counters record the bytes forwarded each way.
//!
//! Bounds: each direction of each connection owns one 16 KiB buffer and reads no more than
//! its fault allows, so unread bytes stay in the kernel, never in the proxy. Every loop
//! belongs to a task set owned by the accept loop, so dropping the proxy ends them all.
//!
//! Async tests use [`FaultProxy::start`] (tasks on the test's runtime); sync tests that run
//! the real binary use [`FaultProxy::spawn`] (its own runtime on a background thread).

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::peer::support::{discard, drain, is_reset, reset_on_close, Runner};

/// The most one direction of one connection reads at once.
const CHUNK: usize = 16 * 1024;

/// How the proxy closes a connection it cuts or refuses ([`Faults::rst`] chooses): `Fin`
/// is orderly (the peer reads end-of-file), `Rst` abortive (`SO_LINGER` 0, a reset).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum CloseMode {
    #[default]
    Fin,
    Rst,
}

/// The faults applied to one connection; [`Faults::none`] forwards it untouched.
///
/// ```
/// use std::time::Duration;
/// use mailbag_testserver::proxy::Faults;
///
/// let cut = Faults::none().cut_after_server(100).rst();
/// let slow = Faults::none().one_byte_segments().delay(Duration::from_millis(1));
/// # let _ = (cut, slow);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    cut_after_server: Option<u64>,
    cut_after_client: Option<u64>,
    stall_after_server: Option<u64>,
    close_mode: CloseMode,
    delay: Option<Duration>,
    one_byte: bool,
    blackhole: bool,
    refuse: bool,
}

impl Faults {
    /// No fault: bytes pass both ways as they come.
    pub fn none() -> Faults {
        Faults::default()
    }

    /// Accept, never connect upstream, never answer; what the client sends is discarded.
    pub fn blackhole() -> Faults {
        Faults {
            blackhole: true,
            ..Faults::default()
        }
    }

    /// Close the connection as soon as it is accepted (see [`Faults::rst`]).
    pub fn refuse() -> Faults {
        Faults {
            refuse: true,
            ..Faults::default()
        }
    }

    /// Close both sides once `n` bytes from the server reached the client.
    pub fn cut_after_server(mut self, n: u64) -> Faults {
        self.cut_after_server = Some(n);
        self
    }

    /// Close both sides once `n` bytes from the client reached the server.
    pub fn cut_after_client(mut self, n: u64) -> Faults {
        self.cut_after_client = Some(n);
        self
    }

    /// Stop forwarding server to client once `n` bytes went that way, keeping both sockets
    /// open; the client's bytes still reach the server.
    pub fn stall_after_server(mut self, n: u64) -> Faults {
        self.stall_after_server = Some(n);
        self
    }

    /// Cut and refuse with an RST instead of a FIN.
    pub fn rst(mut self) -> Faults {
        self.close_mode = CloseMode::Rst;
        self
    }

    /// Wait `d` before forwarding each segment (each byte, with 1-byte segments), both ways.
    pub fn delay(mut self, d: Duration) -> Faults {
        self.delay = Some(d);
        self
    }

    /// Forward one byte per write, with `TCP_NODELAY` and a flush per byte, both ways.
    pub fn one_byte_segments(mut self) -> Faults {
        self.one_byte = true;
        self
    }
}

/// Which [`Faults`] each connection gets, by its number (1 for the first accepted).
///
/// ```
/// use mailbag_testserver::proxy::{FaultPlan, Faults};
///
/// // Cut the first connection after 50 server bytes, let every later one through.
/// let plan = FaultPlan::pass().connection(1, Faults::none().cut_after_server(50));
/// assert_eq!(plan.faults_for(2), Faults::none());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultPlan {
    every: Faults,
    by_number: BTreeMap<u64, Faults>,
}

impl FaultPlan {
    /// Every connection passes untouched.
    pub fn pass() -> FaultPlan {
        FaultPlan::default()
    }

    /// Every connection not named by [`FaultPlan::connection`] gets `faults`.
    pub fn every(faults: Faults) -> FaultPlan {
        FaultPlan {
            every: faults,
            by_number: BTreeMap::new(),
        }
    }

    /// Connection `number` (1-based, in order of acceptance) gets `faults`.
    pub fn connection(mut self, number: u64, faults: Faults) -> FaultPlan {
        self.by_number.insert(number, faults);
        self
    }

    /// The faults for connection `number`.
    pub fn faults_for(&self, number: u64) -> Faults {
        self.by_number.get(&number).unwrap_or(&self.every).clone()
    }
}

/// A handle that changes a running proxy's plan; cheap to clone and send to other threads.
///
/// A new plan applies to connections accepted after the change.
#[derive(Clone, Debug)]
pub struct PlanHandle(Arc<Shared>);

impl PlanHandle {
    /// Replaces the plan.
    pub fn set(&self, plan: FaultPlan) {
        *lock(&self.0.plan) = plan;
    }

    /// Forwards connections accepted from now on to `upstream` (a restarted server).
    pub fn set_upstream(&self, upstream: SocketAddr) {
        *lock(&self.0.upstream) = upstream;
    }
}

/// What went through one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionStats {
    /// 1 for the first accepted connection.
    pub number: u64,
    /// Bytes written to the server.
    pub client_to_server: u64,
    /// Bytes written to the client.
    pub server_to_client: u64,
    /// Whether the proxy is done with the connection.
    pub closed: bool,
}

#[derive(Debug, Default)]
struct Counters {
    client_to_server: AtomicU64,
    server_to_client: AtomicU64,
    closed: AtomicBool,
}

#[derive(Debug)]
struct Shared {
    upstream: Mutex<SocketAddr>,
    plan: Mutex<FaultPlan>,
    accepted: AtomicU64,
    connections: Mutex<Vec<Arc<Counters>>>,
    /// Faults applied to the connections open at the time ([`FaultProxy::reset_all`],
    /// [`FaultProxy::freeze_all`]).
    live: tokio::sync::watch::Sender<LiveFault>,
}

/// A fault for every open connection: each counter's change is one event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct LiveFault {
    resets: u64,
    freezes: u64,
}

impl Shared {
    fn new(upstream: SocketAddr, plan: FaultPlan) -> Arc<Shared> {
        Arc::new(Shared {
            upstream: Mutex::new(upstream),
            plan: Mutex::new(plan),
            accepted: AtomicU64::new(0),
            connections: Mutex::new(Vec::new()),
            live: tokio::sync::watch::Sender::new(LiveFault::default()),
        })
    }
}

/// A running proxy; dropping it closes the listener and every connection.
///
/// ```no_run
/// use mailbag_testserver::proxy::{FaultPlan, FaultProxy, Faults};
/// use mailbag_testserver::Dovecot;
///
/// let d = Dovecot::shared();
/// let plan = FaultPlan::every(Faults::none().one_byte_segments());
/// let proxy = FaultProxy::spawn(d.addr(d.imap_port()), plan).unwrap();
/// // Run the client against 127.0.0.1:{proxy.port()}, then look at proxy.connections().
/// ```
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _runner: Runner,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` on the current tokio runtime.
    ///
    /// # Errors
    /// When no port on 127.0.0.1 can be bound.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub async fn start(upstream: SocketAddr, plan: FaultPlan) -> io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Shared::new(upstream, plan);
        let _runner = Runner::task(accept_loop(listener, Arc::clone(&shared)));
        Ok(FaultProxy {
            addr,
            shared,
            _runner,
        })
    }

    /// Starts a proxy to `upstream` on its own runtime on a background thread, for sync
    /// tests (for instance ones that run the `mailbag` binary).
    ///
    /// # Errors
    /// When no port can be bound or the thread cannot start.
    pub fn spawn(upstream: SocketAddr, plan: FaultPlan) -> io::Result<FaultProxy> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Shared::new(upstream, plan);
        let for_thread = Arc::clone(&shared);
        let _runner = Runner::thread("fault-proxy", move || async move {
            match TcpListener::from_std(listener) {
                Ok(listener) => accept_loop(listener, for_thread).await,
                Err(e) => eprintln!("fault proxy cannot listen: {e}"),
            }
        })?;
        Ok(FaultProxy {
            addr,
            shared,
            _runner,
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port clients connect to, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Replaces the plan, for connections accepted from now on.
    pub fn set_plan(&self, plan: FaultPlan) {
        self.plan_handle().set(plan);
    }

    /// Forwards connections accepted from now on to `upstream`, for a server restarted on
    /// other ports while the client keeps the proxy's address.
    pub fn set_upstream(&self, upstream: SocketAddr) {
        self.plan_handle().set_upstream(upstream);
    }

    /// A handle to change the plan from elsewhere (another task or thread).
    pub fn plan_handle(&self) -> PlanHandle {
        PlanHandle(Arc::clone(&self.shared))
    }

    /// Resets (RST) every connection open now, both sides; later ones are not affected.
    pub fn reset_all(&self) {
        self.shared.live.send_modify(|l| l.resets += 1);
    }

    /// Stops forwarding on every connection open now, both ways, keeping the sockets open
    /// (a dead link: the client's bytes go nowhere, nothing comes back, no error). Later
    /// connections are not affected.
    pub fn freeze_all(&self) {
        self.shared.live.send_modify(|l| l.freezes += 1);
    }

    /// How many connections were accepted so far.
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// The counters of connection `number` (1-based), if it was accepted.
    pub fn connection(&self, number: u64) -> Option<ConnectionStats> {
        self.connections().into_iter().find(|c| c.number == number)
    }

    /// The counters of every connection accepted so far, in order.
    pub fn connections(&self) -> Vec<ConnectionStats> {
        let all = lock(&self.shared.connections).clone();
        let stats = |(number, c): (u64, &Arc<Counters>)| ConnectionStats {
            number,
            client_to_server: c.client_to_server.load(Ordering::SeqCst),
            server_to_client: c.server_to_client.load(Ordering::SeqCst),
            closed: c.closed.load(Ordering::SeqCst),
        };
        (1..).zip(all.iter()).map(stats).collect()
    }
}

/// Poisoning only means a test thread panicked while holding the lock; the data is plain.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The connection tasks live in a `JoinSet` owned here, so aborting this loop (dropping
/// the proxy) aborts every connection too.
async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => {
                    let number = shared.accepted.fetch_add(1, Ordering::SeqCst) + 1;
                    let faults = lock(&shared.plan).faults_for(number);
                    let upstream = *lock(&shared.upstream);
                    let counters = Arc::new(Counters::default());
                    lock(&shared.connections).push(Arc::clone(&counters));
                    let live = shared.live.subscribe();
                    tasks.spawn(serve(client, upstream, faults, counters, live));
                }
                // Out of file descriptors and the like: wait instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
}

/// How one direction of a connection ended: `Eof` (the reader at end-of-file, the writer
/// half-closed), `Cut` (a cut fault fired), `Failed` (`true` when the failure was a reset).
enum Pumped {
    Eof,
    Reset,
    Cut,
    Failed(bool),
}

async fn serve(
    client: TcpStream,
    upstream: SocketAddr,
    faults: Faults,
    counters: Arc<Counters>,
    live: tokio::sync::watch::Receiver<LiveFault>,
) {
    serve_inner(client, upstream, &faults, &counters, live).await;
    counters.closed.store(true, Ordering::SeqCst);
}

async fn serve_inner(
    mut client: TcpStream,
    upstream: SocketAddr,
    faults: &Faults,
    counters: &Counters,
    mut live: tokio::sync::watch::Receiver<LiveFault>,
) {
    let at_start = *live.borrow_and_update();
    if faults.refuse {
        return close(client, faults.close_mode).await;
    }
    if faults.blackhole {
        // Held until the client closes or the proxy is dropped, however long that takes.
        return discard(&mut client).await;
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return close(client, CloseMode::Rst).await;
    };
    if faults.one_byte {
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
    }
    let ended = {
        let (client_read, client_write) = client.split();
        let (server_read, server_write) = server.split();
        let up = pump(client_read, server_write, Way::Up, faults, counters);
        let down = pump(server_read, client_write, Way::Down, faults, counters);
        tokio::pin!(up, down);
        let (mut up_done, mut down_done) = (false, false);
        loop {
            tokio::select! {
                r = &mut up, if !up_done => match r {
                    Pumped::Eof => up_done = true,
                    other => break other,
                },
                r = &mut down, if !down_done => match r {
                    Pumped::Eof => down_done = true,
                    other => break other,
                },
                Ok(()) = live.changed() => {
                    let now = *live.borrow_and_update();
                    if now.resets != at_start.resets {
                        break Pumped::Reset;
                    }
                    if now.freezes != at_start.freezes {
                        // Held, forwarding nothing, until the proxy is dropped.
                        return std::future::pending().await;
                    }
                }
            }
            let stalled = faults
                .stall_after_server
                .is_some_and(|n| counters.server_to_client.load(Ordering::SeqCst) >= n);
            if up_done && (down_done || stalled) {
                break Pumped::Eof;
            }
        }
    };
    let mode = match ended {
        Pumped::Cut => faults.close_mode,
        Pumped::Failed(true) | Pumped::Reset => CloseMode::Rst,
        Pumped::Eof | Pumped::Failed(false) => CloseMode::Fin,
    };
    tokio::join!(close(client, mode), close(server, mode));
}

/// A direction of a connection: `Up` is client to server, `Down` server to client.
#[derive(Clone, Copy)]
enum Way {
    Up,
    Down,
}

/// Forwards one direction until end-of-file, a failure, or a fault. A stall never returns;
/// the caller decides when a stalled connection is over.
async fn pump<R, W>(mut reader: R, mut writer: W, way: Way, faults: &Faults, c: &Counters) -> Pumped
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (cut_after, stall_after, count) = match way {
        Way::Up => (faults.cut_after_client, None, &c.client_to_server),
        Way::Down => (
            faults.cut_after_server,
            faults.stall_after_server,
            &c.server_to_client,
        ),
    };
    let mut buf = vec![0u8; CHUNK];
    loop {
        let sent = count.load(Ordering::SeqCst);
        let mut room = CHUNK as u64;
        if let Some(cut) = cut_after {
            if sent >= cut {
                return Pumped::Cut;
            }
            room = room.min(cut - sent);
        }
        if let Some(stall) = stall_after {
            if sent >= stall {
                return std::future::pending().await;
            }
            room = room.min(stall - sent);
        }
        // `room` is at most CHUNK, so it fits a usize.
        let room = room as usize;
        let n = match reader.read(&mut buf[..room]).await {
            Ok(0) => {
                let _ = writer.shutdown().await;
                return Pumped::Eof;
            }
            Ok(n) => n,
            Err(e) => return Pumped::Failed(is_reset(&e)),
        };
        let segment = if faults.one_byte { 1 } else { n };
        for piece in buf[..n].chunks(segment) {
            if let Some(d) = faults.delay {
                tokio::time::sleep(d).await;
            }
            let written = match writer.write_all(piece).await {
                Ok(()) => writer.flush().await,
                Err(e) => Err(e),
            };
            if let Err(e) = written {
                return Pumped::Failed(is_reset(&e));
            }
            count.fetch_add(piece.len() as u64, Ordering::SeqCst);
        }
    }
}

/// Closes a socket: an RST at once, or a FIN followed by a bounded drain of what the peer
/// still sends, so that unread input does not turn the FIN into an RST.
async fn close(mut stream: TcpStream, mode: CloseMode) {
    if mode == CloseMode::Rst {
        return reset_on_close(&stream);
    }
    let _ = stream.shutdown().await;
    drain(&mut stream).await;
}
