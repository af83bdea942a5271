//! The event loop: one thread, one tokio current-thread runtime, the node behind a
//! `RefCell`. Each connection is a task that reads into a reusable buffer, feeds the
//! node, and writes whatever the node produced for it with one write per batch.
//! Replies for other connections go straight to their queues; no channel sits on the
//! hot path.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use ember_core::io::OUTPUT_BACKLOG_REPORT_BYTES;
use ember_core::{ConnId, DiskData, DiskError, DiskOp, Input, LogLevel, Node, Output, Signal};
use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Notify;

use crate::log::Logger;

mod busy;
pub use busy::busy_poll;

/// Bytes read per read call at most; the buffer is reused across reads.
const READ_BYTES: usize = 16 * 1024;
/// Below this much free room the read buffer is topped up (or reclaimed).
const READ_ROOM_BYTES_MIN: usize = 4 * 1024;
thread_local! {
    /// `tcp-backlog` (immutable, read once at start).
    static TCP_BACKLOG: Cell<u32> = const { Cell::new(511) };
}

/// Sets the listen backlog used by [`bind`] (`tcp-backlog`).
pub fn set_tcp_backlog(backlog: u32) {
    TCP_BACKLOG.with(|b| b.set(backlog));
}
/// Scheduler turns given to connections to write their last replies before exiting.
const STOP_FLUSH_TURNS_MAX: u32 = 1000;
/// Pause after a failed accept (out of file descriptors), so the loop does not spin.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(10);

/// The node's wall clock: Unix milliseconds (clock_gettime directly: this runs once
/// per read, and SystemTime's checked arithmetic shows up in profiles).
pub fn now_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    if rc != 0 {
        return SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
    }
    (ts.tv_sec as u64) * 1000 + (ts.tv_nsec as u64) / 1_000_000
}

/// What one connection's task shares with the rest of the loop.
struct ConnState {
    /// Bytes to write, in order.
    out: RefCell<VecDeque<Bytes>>,
    /// Close once `out` is written.
    close: Cell<bool>,
    /// Set when someone else queued output or asked to close.
    kicked: Cell<bool>,
    waker: Cell<Option<Waker>>,
    /// Bytes handed over for this connection and not yet written (queued or being
    /// written), for the node's output buffer limits.
    backlog: Cell<u64>,
    /// The node was told the backlog reached `OUTPUT_BACKLOG_REPORT_BYTES`, and must
    /// hear when it falls back below.
    backlog_reported: Cell<bool>,
    /// Wakes a write stuck on a full socket when the node disconnects the client.
    abort: Notify,
    /// The socket, for the busy-script exchange (`busy.rs`), which cannot reach the
    /// task's stream; -1 until registered.
    fd: Cell<std::os::fd::RawFd>,
    /// The task is in the middle of writing a chunk: bytes written meanwhile by
    /// the busy exchange would interleave with it, so it only queues.
    writing: Cell<bool>,
    /// The busy exchange saw the peer close: it reads no more.
    busy_eof: Cell<bool>,
}

impl Default for ConnState {
    fn default() -> Self {
        ConnState {
            out: RefCell::default(),
            close: Cell::default(),
            kicked: Cell::default(),
            waker: Cell::default(),
            backlog: Cell::default(),
            backlog_reported: Cell::default(),
            abort: Notify::new(),
            fd: Cell::new(-1),
            writing: Cell::default(),
            busy_eof: Cell::default(),
        }
    }
}

impl ConnState {
    fn kick(&self) {
        self.kicked.set(true);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    fn park(&self, waker: &Waker) {
        let old = self.waker.take();
        match old {
            Some(w) if w.will_wake(waker) => self.waker.set(Some(w)),
            _ => self.waker.set(Some(waker.clone())),
        }
    }
}

/// Everything the tasks share.
pub struct Shared {
    node: RefCell<Node>,
    conns: RefCell<HashMap<ConnId, Rc<ConnState>>>,
    next_conn: Cell<ConnId>,
    /// The Unix ms the timer task sleeps until.
    timer_at: Cell<u64>,
    timer_notify: Notify,
    stop_code: Cell<Option<i32>>,
    stop_notify: Notify,
    logger: RefCell<Logger>,
    /// Itself, for tasks that feed the node later (an fsync on a blocking thread).
    me: std::rc::Weak<Shared>,
    /// Once the node has started, fsyncs run on a blocking thread: the loop serves
    /// other connections meanwhile and the next fsync covers all their writes (group
    /// commit under `appendfsync always`). The core issues at most one request per
    /// file stream at a time, so nothing overtakes an fsync in flight.
    fsync_in_background: Cell<bool>,
    exit_files: RefCell<Vec<String>>,
}

impl Shared {
    pub fn new(node: Node, logger: Logger) -> Rc<Self> {
        Rc::new_cyclic(|me| Shared {
            me: me.clone(),
            fsync_in_background: Cell::new(false),
            exit_files: RefCell::new(Vec::new()),
            node: RefCell::new(node),
            conns: RefCell::new(HashMap::new()),
            next_conn: Cell::new(1),
            timer_at: Cell::new(u64::MAX),
            timer_notify: Notify::new(),
            stop_code: Cell::new(None),
            stop_notify: Notify::new(),
            logger: RefCell::new(logger),
        })
    }

    /// Logs a line at `level` if `loglevel` lets it through (always, while the node
    /// is busy handling an input).
    pub fn log(&self, level: LogLevel, msg: &str) {
        let wanted = self
            .node
            .try_borrow()
            .map_or(true, |node| level >= node.config().loglevel);
        if wanted {
            self.logger.borrow_mut().log(level, msg);
        }
    }

    /// A fresh connection id with its (empty) queue registered.
    fn register_conn(&self, fd: std::os::fd::RawFd) -> ConnId {
        let conn = self.next_conn.get();
        self.next_conn.set(conn + 1);
        let state = ConnState::default();
        state.fd.set(fd);
        self.conns.borrow_mut().insert(conn, Rc::new(state));
        conn
    }

    /// Files removed at exit (pidfile, unix socket), also by SHUTDOWN NOSAVE
    /// during a busy script, which exits from inside the node.
    pub fn set_exit_files(&self, files: Vec<String>) {
        *self.exit_files.borrow_mut() = files;
    }

    /// Runs the node's start-up work (reading the dump) to the end before any
    /// connection is accepted; false if the node asked to stop (a corrupt dump).
    pub fn start_node(&self) -> bool {
        {
            let mut node = self.node.borrow_mut();
            node.start(now_ms());
            self.drain(&mut node, None);
        }
        self.fsync_in_background.set(true);
        !self.stopping()
    }

    /// The exit code the node asked for, if it asked to stop.
    pub fn stop_code(&self) -> Option<i32> {
        self.stop_code.get()
    }

    fn stopping(&self) -> bool {
        self.stop_code.get().is_some()
    }

    /// Feeds one input and carries out everything the node asks for.
    fn feed(&self, input: Input) {
        self.feed_from(input, None);
    }

    /// Feeds an input that came from connection `own`: output for that connection
    /// goes straight to its queue without waking its task, which writes it next.
    fn feed_from(&self, input: Input, own: Option<(ConnId, &ConnState)>) {
        let mut node = self.node.borrow_mut();
        node.handle(now_ms(), input);
        self.drain(&mut node, own);
    }

    /// Carries out every output. Disk requests run synchronously and their results
    /// are fed back, which may produce more outputs.
    fn drain(&self, node: &mut Node, own: Option<(ConnId, &ConnState)>) {
        let mut done: Vec<Input> = Vec::new();
        loop {
            while let Some(output) = node.poll_output() {
                match (output, own) {
                    (Output::Send { conn, bytes }, Some((id, state))) if conn == id => {
                        let backlog = state.backlog.get() + bytes.len() as u64;
                        state.backlog.set(backlog);
                        state.out.borrow_mut().push_back(bytes);
                        // Replies to requests read while the socket is full.
                        if state.writing.get() && backlog >= OUTPUT_BACKLOG_REPORT_BYTES {
                            state.backlog_reported.set(true);
                            done.push(Input::OutputBacklog {
                                conn,
                                bytes: backlog,
                            });
                        }
                    }
                    (output, _) => self.carry_out(output, &mut done),
                }
            }
            if done.is_empty() {
                break;
            }
            let now = now_ms();
            for input in done.drain(..) {
                node.handle(now, input);
            }
        }
        if let Some(at) = node.poll_timeout() {
            if at < self.timer_at.get() {
                self.timer_at.set(at);
                self.timer_notify.notify_one();
            }
        }
    }

    fn carry_out(&self, output: Output, done: &mut Vec<Input>) {
        match output {
            Output::Send { conn, bytes } => {
                if let Some(state) = self.conns.borrow().get(&conn) {
                    let backlog = state.backlog.get() + bytes.len() as u64;
                    state.backlog.set(backlog);
                    state.out.borrow_mut().push_back(bytes);
                    state.kick();
                    if backlog >= OUTPUT_BACKLOG_REPORT_BYTES {
                        state.backlog_reported.set(true);
                        done.push(Input::OutputBacklog {
                            conn,
                            bytes: backlog,
                        });
                    }
                }
            }
            Output::Disconnect { conn } => {
                if let Some(state) = self.conns.borrow().get(&conn) {
                    state.out.borrow_mut().clear();
                    state.close.set(true);
                    state.abort.notify_one();
                    state.kick();
                }
            }
            Output::Close { conn } => {
                if let Some(state) = self.conns.borrow().get(&conn) {
                    state.close.set(true);
                    state.kick();
                }
            }
            Output::Log { level, line } => self.logger.borrow_mut().log(level, &line),
            Output::Sleep { ms } => std::thread::sleep(Duration::from_millis(ms)),
            Output::Stop { code } => {
                if self.stop_code.get().is_none() {
                    self.stop_code.set(Some(code));
                    self.stop_notify.notify_one();
                }
            }
            Output::Disk {
                id,
                op: op @ DiskOp::Fsync { .. },
            } if self.fsync_in_background.get() => self.fsync_later(id, op),
            Output::Disk { id, op } => done.push(Input::DiskDone {
                id,
                result: run_disk_op(op),
            }),
            Output::Connect { conn, addr } => done.push(Input::ConnectFailed {
                conn,
                error: format!("outgoing connections to {addr} are not supported yet"),
            }),
        }
    }
}

thread_local! {
    /// The file appended to last (the AOF's incr file), kept open so an append or
    /// an fsync costs one system call; dropped when another request touches it.
    static APPEND_FILE: RefCell<Option<(String, std::fs::File)>> = const { RefCell::new(None) };
}

/// Runs `f` on the open append handle of `path`, opening it if needed.
fn with_append_file<T>(
    path: &str,
    f: impl FnOnce(&mut std::fs::File) -> io::Result<T>,
) -> io::Result<T> {
    APPEND_FILE.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.as_ref().map(|(p, _)| p.as_str()) != Some(path) {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            *cached = Some((path.to_string(), file));
        }
        match cached.as_mut() {
            Some((_, file)) => f(file),
            None => Err(io::ErrorKind::NotFound.into()),
        }
    })
}

/// Forgets the open append handle if a request is about to change `path`.
fn forget_append_file(path: &str) {
    APPEND_FILE.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.as_ref().is_some_and(|(p, _)| p == path) {
            *cached = None;
        }
    });
}

impl Shared {
    /// Runs an fsync on tokio's blocking pool and feeds its result when it ends.
    fn fsync_later(&self, id: ember_core::DiskOpId, op: DiskOp) {
        let me = self.me.clone();
        tokio::task::spawn_local(async move {
            // Its own handle: the append handle cache belongs to the loop's thread.
            let fsync = move || match op {
                DiskOp::Fsync { path } => std::fs::OpenOptions::new()
                    .append(true)
                    .open(path)
                    .and_then(|f| f.sync_data())
                    .map(|()| DiskData::Done)
                    .map_err(|e| DiskError {
                        message: e.to_string(),
                    }),
                other => run_disk_op(other),
            };
            let result = match tokio::task::spawn_blocking(fsync).await {
                Ok(result) => result,
                Err(e) => Err(DiskError {
                    message: e.to_string(),
                }),
            };
            if let Some(shared) = me.upgrade() {
                shared.feed(Input::DiskDone { id, result });
            }
        });
    }
}

fn run_disk_op(op: DiskOp) -> Result<DiskData, DiskError> {
    use std::fs;
    let err = |e: io::Error| DiskError {
        message: e.to_string(),
    };
    match &op {
        DiskOp::Write { path, .. } | DiskOp::Remove { path } | DiskOp::Truncate { path, .. } => {
            forget_append_file(path)
        }
        DiskOp::Rename { from, to } => {
            forget_append_file(from);
            forget_append_file(to);
        }
        _ => {}
    }
    match op {
        DiskOp::Read { path } => match fs::read(&path) {
            Ok(data) => Ok(DiskData::Contents(Bytes::from(data))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(DiskData::NotFound),
            Err(e) => Err(err(e)),
        },
        DiskOp::Write { path, bytes } => fs::write(&path, &bytes)
            .map(|()| DiskData::Done)
            .map_err(err),
        DiskOp::Append { path, bytes } => {
            use std::io::Write;
            with_append_file(&path, |f| f.write_all(&bytes))
                .map(|()| DiskData::Done)
                .map_err(err)
        }
        DiskOp::Fsync { path } => with_append_file(&path, |f| f.sync_data())
            .map(|()| DiskData::Done)
            .map_err(err),
        DiskOp::Rename { from, to } => fs::rename(&from, &to).map(|()| DiskData::Done).map_err(err),
        DiskOp::Remove { path } => match fs::remove_file(&path) {
            Ok(()) => Ok(DiskData::Done),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(DiskData::Done),
            Err(e) => Err(err(e)),
        },
        DiskOp::CreateDir { path } => fs::create_dir_all(&path)
            .map(|()| DiskData::Done)
            .map_err(err),
        DiskOp::Truncate { path, len } => fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(len))
            .map(|()| DiskData::Done)
            .map_err(err),
    }
}

/// Binds one listening socket as Redis does (SO_REUSEADDR, IPV6_V6ONLY for IPv6).
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv6() {
        let socket = TcpSocket::new_v6()?;
        let on: libc::c_int = 1;
        // SAFETY: setsockopt reads `on` for its size; the fd is open and ours.
        let rc = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::IPPROTO_IPV6,
                libc::IPV6_V6ONLY,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        socket
    } else {
        TcpSocket::new_v4()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(TCP_BACKLOG.with(Cell::get))
}

/// Runs the loop until the node asks to stop; returns the exit code.
pub async fn run(shared: Rc<Shared>, listeners: Vec<(SocketAddr, TcpListener)>) -> i32 {
    install_listeners(&shared, listeners);
    tokio::task::spawn_local(timer_loop(shared.clone()));
    spawn_signal_handlers(&shared);
    loop {
        if let Some(code) = shared.stop_code.get() {
            flush_before_stop(&shared).await;
            return code;
        }
        shared.stop_notify.notified().await;
    }
}

/// Gives connections a chance to write what is queued for them before the exit.
async fn flush_before_stop(shared: &Shared) {
    for _ in 0..STOP_FLUSH_TURNS_MAX {
        let pending = shared
            .conns
            .borrow()
            .values()
            .any(|c| !c.out.borrow().is_empty());
        if !pending {
            return;
        }
        tokio::task::yield_now().await;
    }
}

fn spawn_signal_handlers(shared: &Rc<Shared>) {
    use tokio::signal::unix::{signal, SignalKind};
    for (kind, sig) in [
        (SignalKind::interrupt(), Signal::Interrupt),
        (SignalKind::terminate(), Signal::Terminate),
    ] {
        let shared = shared.clone();
        match signal(kind) {
            Ok(mut stream) => {
                tokio::task::spawn_local(async move {
                    while stream.recv().await.is_some() {
                        shared.feed(Input::Signal(sig));
                    }
                });
            }
            Err(e) => shared.log(
                LogLevel::Warning,
                &format!("Cannot install a signal handler: {e}"),
            ),
        }
    }
}

async fn timer_loop(shared: Rc<Shared>) {
    loop {
        let at = shared.node.borrow().poll_timeout().unwrap_or(u64::MAX);
        shared.timer_at.set(at);
        let now = now_ms();
        if at > now {
            let wait = Duration::from_millis((at - now).min(1000));
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = shared.timer_notify.notified() => {}
            }
        } else {
            // A prompt tick (a snapshot in progress): let connections run first.
            tokio::task::yield_now().await;
        }
        if shared.stopping() {
            return;
        }
        shared.feed(Input::Tick);
    }
}

/// One listening socket, owned here so it can be closed at once when CONFIG SET
/// port/bind replaces it (the accept task only borrows it while polling).
struct ListenerSlot {
    listener: RefCell<Option<TcpListener>>,
}

/// The listening sockets and their accept tasks.
struct Listening {
    shared: Rc<Shared>,
    slots: Vec<(SocketAddr, Rc<ListenerSlot>, tokio::task::JoinHandle<()>)>,
}

thread_local! {
    static LISTENING: RefCell<Option<Listening>> = const { RefCell::new(None) };
}

fn install_listeners(shared: &Rc<Shared>, listeners: Vec<(SocketAddr, TcpListener)>) {
    let slots = listeners
        .into_iter()
        .map(|(addr, l)| spawn_accept(shared, addr, l))
        .collect();
    LISTENING.with(|cell| {
        *cell.borrow_mut() = Some(Listening {
            shared: shared.clone(),
            slots,
        });
    });
}

fn spawn_accept(
    shared: &Rc<Shared>,
    addr: SocketAddr,
    listener: TcpListener,
) -> (SocketAddr, Rc<ListenerSlot>, tokio::task::JoinHandle<()>) {
    let slot = Rc::new(ListenerSlot {
        listener: RefCell::new(Some(listener)),
    });
    let task = tokio::task::spawn_local(accept_loop(shared.clone(), slot.clone()));
    (addr, slot, task)
}

/// The addresses `bind` names on `port`, with whether each may fail (`-` prefix).
/// An empty list means Redis's default, `* -::*`.
fn bind_addrs(bind: &[String], port: u16) -> Vec<(String, Option<SocketAddr>, bool)> {
    let defaults = ["*".to_string(), "-::*".to_string()];
    let specs = if bind.is_empty() { &defaults[..] } else { bind };
    specs
        .iter()
        .map(|spec| {
            let (optional, name) = match spec.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, spec.as_str()),
            };
            let resolved = match name {
                "*" => Some(SocketAddr::from(([0, 0, 0, 0], port))),
                "::*" => Some(SocketAddr::from(([0u16; 8], port))),
                other => {
                    use std::net::ToSocketAddrs;
                    (other, port)
                        .to_socket_addrs()
                        .ok()
                        .and_then(|mut a| a.next())
                }
            };
            (name.to_string(), resolved, optional)
        })
        .collect()
}

/// Whether an optional (`-`) address may be skipped after this bind error, as
/// Redis skips addresses the machine does not have or protocols it lacks.
fn skippable(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(
            libc::EADDRNOTAVAIL
                | libc::EPROTONOSUPPORT
                | libc::ESOCKTNOSUPPORT
                | libc::EPFNOSUPPORT
                | libc::EAFNOSUPPORT
                | libc::ENOPROTOOPT
        )
    )
}

/// Binds every address of `bind` on `port`; the error is the line Redis logs.
pub fn listen_all(bind: &[String], port: u16) -> Result<Vec<(SocketAddr, TcpListener)>, String> {
    let mut listeners = Vec::new();
    for (name, addr, optional) in bind_addrs(bind, port) {
        let result = match addr {
            Some(addr) => self::bind(addr).map(|l| (addr, l)),
            None => Err(io::Error::from_raw_os_error(libc::EADDRNOTAVAIL)),
        };
        match result {
            Ok(pair) => listeners.push(pair),
            Err(e) if optional && skippable(&e) => {}
            Err(e) => {
                return Err(format!(
                    "Warning: Could not create server TCP listening socket {name}:{port}: bind: {}",
                    crate::host::strerror(&e)
                ));
            }
        }
    }
    Ok(listeners)
}

/// Listens on the unix socket `path` (replacing a stale socket file), with the
/// permissions of `unixsocketperm` when set; its clients show as `path:0`.
pub fn listen_unix(shared: &Rc<Shared>, path: &str, perm: u32) -> Result<(), String> {
    let _ = std::fs::remove_file(path);
    let listener = tokio::net::UnixListener::bind(path)
        .map_err(|e| format!("Failed opening Unix socket: {}", crate::host::strerror(&e)))?;
    if perm != 0 {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm));
    }
    tokio::task::spawn_local(accept_unix(shared.clone(), listener, path.to_string()));
    Ok(())
}

async fn accept_unix(shared: Rc<Shared>, listener: tokio::net::UnixListener, path: String) {
    let addr = format!("{path}:0");
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) if accept_failure_needs_retry(&e) => continue,
            Err(e) => {
                shared.log(
                    LogLevel::Warning,
                    &format!("Accepting client connection: {e}"),
                );
                tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
                continue;
            }
        };
        if shared.stopping() {
            return;
        }
        let conn = shared.register_conn(stream.as_raw_fd());
        let state = shared
            .conns
            .borrow()
            .get(&conn)
            .cloned()
            .unwrap_or_default();
        shared.feed(Input::Accepted {
            conn,
            peer: addr.clone(),
            local: addr.clone(),
        });
        tokio::task::spawn_local(connection(shared.clone(), conn, state, stream));
    }
}

/// The config hook for CONFIG SET port/bind: closes the current listening sockets,
/// binds the new ones, and on failure restores the old addresses.
pub fn rebind(bind: &[String], port: u16) -> Result<(), String> {
    LISTENING.with(|cell| {
        let mut guard = cell.borrow_mut();
        let Some(listening) = guard.as_mut() else {
            return Ok(());
        };
        let old: Vec<SocketAddr> = listening.slots.iter().map(|(a, _, _)| *a).collect();
        for (_, slot, task) in listening.slots.drain(..) {
            slot.listener.borrow_mut().take();
            task.abort();
        }
        let shared = listening.shared.clone();
        let fresh = if port == 0 {
            Ok(Vec::new())
        } else {
            listen_all(bind, port)
        };
        match fresh {
            Ok(listeners) => {
                listening.slots = listeners
                    .into_iter()
                    .map(|(addr, l)| spawn_accept(&shared, addr, l))
                    .collect();
                Ok(())
            }
            Err(message) => {
                for addr in old {
                    if let Ok(l) = self::bind(addr) {
                        listening.slots.push(spawn_accept(&shared, addr, l));
                    }
                }
                Err(message)
            }
        }
    })
}

async fn accept_loop(shared: Rc<Shared>, slot: Rc<ListenerSlot>) {
    loop {
        let accepted = poll_fn(|cx| match &*slot.listener.borrow() {
            Some(listener) => listener.poll_accept(cx).map(Some),
            None => Poll::Ready(None),
        })
        .await;
        let (stream, peer) = match accepted {
            None => return,
            Some(Ok(accepted)) => accepted,
            Some(Err(e)) if accept_failure_needs_retry(&e) => continue,
            Some(Err(e)) => {
                shared.log(
                    LogLevel::Warning,
                    &format!("Accepting client connection: {e}"),
                );
                tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
                continue;
            }
        };
        if shared.stopping() {
            return;
        }
        let accepted = adopt(&shared, stream, peer);
        shared.feed(accepted);
    }
}

/// An accept that failed because of the connection it tried to take (aborted by
/// the peer, a network error on it): the next one is accepted at once, unlogged,
/// as Redis 7.0.15's anetAcceptFailureNeedsRetry does (the CVE-2025-48367 fix);
/// pausing on these would let a peer that aborts connections starve the others.
/// Other failures (out of file descriptors) pause the loop briefly.
fn accept_failure_needs_retry(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(
            libc::ECONNABORTED
                | libc::ENETDOWN
                | libc::EPROTO
                | libc::ENOPROTOOPT
                | libc::EHOSTDOWN
                | libc::ENONET
                | libc::EHOSTUNREACH
                | libc::EOPNOTSUPP
                | libc::ENETUNREACH
        )
    )
}

/// Sets up an accepted TCP connection, registers it and starts its task; the
/// input that tells the node.
fn adopt(shared: &Rc<Shared>, stream: TcpStream, peer: SocketAddr) -> Input {
    let _ = stream.set_nodelay(true);
    // During a busy script the node is borrowed: Redis's default then.
    let keepalive = shared
        .node
        .try_borrow()
        .map_or(300, |node| node.config().tcp_keepalive);
    if keepalive > 0 {
        set_keepalive(&stream, keepalive);
    }
    let local = stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let conn = shared.register_conn(stream.as_raw_fd());
    let state = shared
        .conns
        .borrow()
        .get(&conn)
        .cloned()
        .unwrap_or_default();
    tokio::task::spawn_local(connection(shared.clone(), conn, state, stream));
    Input::Accepted {
        conn,
        peer: peer.to_string(),
        local,
    }
}

/// Redis's anetKeepAlive: probes after `interval` seconds idle, then every third of
/// it, giving up after three.
fn set_keepalive(stream: &TcpStream, interval: i64) {
    let fd = stream.as_raw_fd();
    let interval = interval.clamp(1, i64::from(i32::MAX)) as libc::c_int;
    let options = [
        (libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1),
        (libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, interval),
        (
            libc::IPPROTO_TCP,
            libc::TCP_KEEPINTVL,
            (interval / 3).max(1),
        ),
        (libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 3),
    ];
    for (level, name, value) in options {
        // SAFETY: setsockopt reads one c_int from `value`; the fd is open and ours.
        unsafe {
            libc::setsockopt(
                fd,
                level,
                name,
                (&value as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
}

/// What woke a connection task.
enum Wake {
    Readable,
    Kicked,
}

/// What a connection task needs from its socket: TCP and unix sockets alike.
trait Stream: tokio::io::AsyncWrite + Unpin + 'static {
    fn poll_read_ready(&self, cx: &mut std::task::Context<'_>) -> Poll<io::Result<()>>;
    fn poll_write_ready(&self, cx: &mut std::task::Context<'_>) -> Poll<io::Result<()>>;
    fn try_read_buf(&self, buf: &mut BytesMut) -> io::Result<usize>;
    fn try_write(&self, buf: &[u8]) -> io::Result<usize>;
    /// Forgets the socket's read readiness without a system call.
    fn clear_read_ready(&self);
}

macro_rules! impl_stream {
    ($t:ty) => {
        impl Stream for $t {
            fn poll_read_ready(&self, cx: &mut std::task::Context<'_>) -> Poll<io::Result<()>> {
                <$t>::poll_read_ready(self, cx)
            }
            fn poll_write_ready(&self, cx: &mut std::task::Context<'_>) -> Poll<io::Result<()>> {
                <$t>::poll_write_ready(self, cx)
            }
            fn try_read_buf(&self, buf: &mut BytesMut) -> io::Result<usize> {
                <$t>::try_read_buf(self, buf)
            }
            fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
                <$t>::try_write(self, buf)
            }
            fn clear_read_ready(&self) {
                let _ = self.try_io(Interest::READABLE, || {
                    Err::<(), _>(io::ErrorKind::WouldBlock.into())
                });
            }
        }
    };
}

impl_stream!(TcpStream);
impl_stream!(tokio::net::UnixStream);

async fn connection<S: Stream>(shared: Rc<Shared>, conn: ConnId, state: Rc<ConnState>, stream: S) {
    let mut stream = stream;
    let mut buf = BytesMut::with_capacity(READ_BYTES);
    loop {
        // Output queued at accept time (maxclients) or by other connections.
        if write_queued(&mut stream, &shared, conn, &state, &mut buf)
            .await
            .is_err()
            || state.close.get()
        {
            break;
        }
        let wake = poll_fn(|cx| {
            if state.kicked.replace(false) {
                return Poll::Ready(Ok(Wake::Kicked));
            }
            match stream.poll_read_ready(cx) {
                Poll::Ready(Ok(())) => Poll::Ready(Ok(Wake::Readable)),
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => {
                    state.park(cx.waker());
                    Poll::Pending
                }
            }
        })
        .await;
        match wake {
            Ok(Wake::Kicked) => continue,
            Ok(Wake::Readable) => {}
            Err(_) => break,
        }
        if shared.stopping() {
            // Nothing more is read once the node asked to stop.
            std::future::pending::<()>().await;
        }
        if read_once(&stream, &shared, conn, &state, &mut buf).is_err() {
            break;
        }
    }
    let _ = stream.shutdown().await;
    shared.conns.borrow_mut().remove(&conn);
    shared.feed(Input::Closed { conn });
}

/// One read from the socket, handed to the node; an error (or the peer's close,
/// as `UnexpectedEof`) ends the connection.
fn read_once<S: Stream>(
    stream: &S,
    shared: &Shared,
    conn: ConnId,
    state: &ConnState,
    buf: &mut BytesMut,
) -> io::Result<()> {
    if buf.capacity() - buf.len() < READ_ROOM_BYTES_MIN {
        buf.reserve(READ_BYTES);
    }
    let room = buf.capacity() - buf.len();
    match stream.try_read_buf(buf) {
        Ok(0) => Err(io::ErrorKind::UnexpectedEof.into()),
        Ok(n) => {
            if n < room {
                // A short read drained the socket: forget its readiness so the
                // next wait goes to epoll instead of a read that finds nothing.
                stream.clear_read_ready();
            }
            let bytes = buf.split().freeze();
            shared.feed_from(Input::Received { conn, bytes }, Some((conn, state)));
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
        Err(e) => Err(e),
    }
}

/// Writes everything queued for the connection, one write call per batch; a write
/// waiting on a full socket gives up when the node disconnects the client.
async fn write_queued<S: Stream>(
    stream: &mut S,
    shared: &Shared,
    conn: ConnId,
    state: &ConnState,
    buf: &mut BytesMut,
) -> io::Result<()> {
    loop {
        let chunk = {
            let mut out = state.out.borrow_mut();
            match out.len() {
                0 => return Ok(()),
                1 => out.pop_front().unwrap_or_default(),
                _ => {
                    let total = out.iter().map(Bytes::len).sum();
                    let mut joined = BytesMut::with_capacity(total);
                    for part in out.drain(..) {
                        joined.extend_from_slice(&part);
                    }
                    joined.freeze()
                }
            }
        };
        // The socket is almost always writable: try the write directly, and only
        // wait for writability when the kernel's buffer is full.
        let done = match stream.try_write(&chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
            Err(e) => return Err(e),
        };
        written(shared, conn, state, done as u64);
        if done < chunk.len() {
            state.writing.set(true);
            let result = write_stuck(stream, shared, conn, state, &chunk[done..], buf).await;
            state.writing.set(false);
            result?;
        }
    }
}

/// What ended a wait on a full socket.
enum Stuck {
    Writable(io::Result<()>),
    Readable(io::Result<()>),
    Aborted,
}

/// Writes `rest` once the socket takes it, or gives up when the node disconnects
/// the client. Meanwhile a client an output buffer limit applies to is still read
/// and its requests run, as Redis keeps serving a client that does not read its
/// replies, with its unwritten output reported to the node so the limit can end
/// it; any other client's input waits, which bounds its output instead.
async fn write_stuck<S: Stream>(
    stream: &mut S,
    shared: &Shared,
    conn: ConnId,
    state: &ConnState,
    mut rest: &[u8],
    buf: &mut BytesMut,
) -> io::Result<()> {
    let read_too = shared
        .node
        .try_borrow()
        .is_ok_and(|node| node.output_limited(conn));
    if read_too {
        report_backlog(shared, conn, state);
    }
    let mut aborted = std::pin::pin!(state.abort.notified());
    while !rest.is_empty() {
        let event = poll_fn(|cx| {
            if std::future::Future::poll(aborted.as_mut(), cx).is_ready() {
                return Poll::Ready(Stuck::Aborted);
            }
            if let Poll::Ready(ready) = stream.poll_write_ready(cx) {
                return Poll::Ready(Stuck::Writable(ready));
            }
            if read_too && !shared.stopping() && !state.close.get() {
                if let Poll::Ready(ready) = stream.poll_read_ready(cx) {
                    return Poll::Ready(Stuck::Readable(ready));
                }
            }
            Poll::Pending
        })
        .await;
        match event {
            Stuck::Aborted => {
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "disconnected",
                ))
            }
            Stuck::Writable(ready) => {
                ready?;
                match stream.try_write(rest) {
                    Ok(n) => {
                        rest = &rest[n..];
                        written(shared, conn, state, n as u64);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            Stuck::Readable(ready) => {
                ready?;
                read_once(&*stream, shared, conn, state, buf)?;
            }
        }
    }
    Ok(())
}

/// Tells the node how much output waits for the connection, once it is worth
/// counting (see `OUTPUT_BACKLOG_REPORT_BYTES`).
fn report_backlog(shared: &Shared, conn: ConnId, state: &ConnState) {
    let backlog = state.backlog.get();
    if backlog >= OUTPUT_BACKLOG_REPORT_BYTES {
        state.backlog_reported.set(true);
        shared.feed(Input::OutputBacklog {
            conn,
            bytes: backlog,
        });
    }
}

/// Counts written bytes off the backlog. Once the node was told of a backlog, it
/// hears how it shrinks, and once when it falls back below the report threshold,
/// so it never counts output the client already took (a soft output limit's clock
/// restarts then).
fn written(shared: &Shared, conn: ConnId, state: &ConnState, bytes: u64) {
    if bytes == 0 {
        return;
    }
    let backlog = state.backlog.get().saturating_sub(bytes);
    state.backlog.set(backlog);
    if state.backlog_reported.get() {
        if backlog < OUTPUT_BACKLOG_REPORT_BYTES {
            state.backlog_reported.set(false);
        }
        shared.feed(Input::OutputBacklog {
            conn,
            bytes: backlog,
        });
    }
}

#[cfg(test)]
mod accept_tests {
    use super::*;

    #[test]
    fn accepts_that_failed_on_the_connection_are_retried_and_resource_errors_are_not() {
        for errno in [libc::ECONNABORTED, libc::EPROTO, libc::ENETUNREACH] {
            assert!(accept_failure_needs_retry(&io::Error::from_raw_os_error(
                errno
            )));
        }
        for errno in [libc::EMFILE, libc::ENFILE, libc::ENOBUFS] {
            assert!(!accept_failure_needs_retry(&io::Error::from_raw_os_error(
                errno
            )));
        }
        assert!(!accept_failure_needs_retry(&io::ErrorKind::Other.into()));
    }
}
