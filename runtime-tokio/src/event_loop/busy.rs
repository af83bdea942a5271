//! The host side of long-running scripts (the core's `busy.rs`).
//!
//! The node's Lua count hook calls [`busy_poll`] from inside `Node::handle`, with
//! the node borrowed and no task able to run. Past `busy-reply-threshold` the
//! core asks for an exchange, done here without blocking and behind the tasks'
//! backs, on the raw sockets: replies are written with non-blocking `send` (what
//! does not fit stays queued for the connection's task, which writes it once the
//! script ends), waiting connections are accepted with `accept4` and get their
//! task as usual (it starts after the script), and every connection is read
//! with one non-blocking `recv`. Tokio's readiness state is not told: a task
//! that later finds its socket drained gets `WouldBlock` and waits again, which
//! is what it does anyway. Hooks are plain fn pointers, so the listeners and
//! connections are found through the `LISTENING` thread-local that CONFIG SET
//! port/bind already uses. Unix-socket clients are served but new ones are
//! accepted only after the script; signals and timers also wait for its end.

use std::os::fd::{AsRawFd, FromRawFd};
use std::rc::Rc;

use bytes::Bytes;
use ember_core::io::BusyIo;
use ember_core::{ConnId, Input, Output};
use tokio::net::TcpStream;

use super::{adopt, ConnState, ListenerSlot, Listening, Shared, LISTENING};

/// Bytes read from one connection per exchange at most.
const READ_BYTES_MAX: usize = 16 * 1024;
/// Connections accepted per listener per exchange at most.
const ACCEPTS_MAX: usize = 64;

/// The config hook the core calls while a script runs: the clock, and the I/O
/// exchange when asked for.
pub fn busy_poll(io: &mut BusyIo) -> u64 {
    if io.exchange {
        LISTENING.with(|cell| {
            if let Ok(guard) = cell.try_borrow() {
                if let Some(listening) = guard.as_ref() {
                    exchange(listening, io);
                }
            }
        });
    }
    super::now_ms()
}

fn exchange(listening: &Listening, io: &mut BusyIo) {
    let shared = &listening.shared;
    for output in io.outputs.drain(..) {
        perform(shared, output);
    }
    for (_, slot, _) in &listening.slots {
        accept_waiting(shared, slot, &mut io.inputs);
    }
    read_waiting(shared, io.protected, &mut io.inputs);
}

/// Carries out one output of the busy mode at once.
fn perform(shared: &Shared, output: Output) {
    match output {
        Output::Send { conn, bytes } => {
            let Some(state) = shared.conns.borrow().get(&conn).cloned() else {
                return;
            };
            state.backlog.set(state.backlog.get() + bytes.len() as u64);
            state.out.borrow_mut().push_back(bytes);
            if !state.writing.get() {
                write_now(&state);
            }
            // The task writes whatever is left once the script ends.
            state.kick();
        }
        // SHUTDOWN NOSAVE: the script may never end, so the process exits here.
        Output::Stop { code } => {
            for file in shared.exit_files.borrow().iter() {
                let _ = std::fs::remove_file(file);
            }
            std::process::exit(code);
        }
        Output::Close { conn } | Output::Disconnect { conn } => {
            shared.carry_out(output, &mut Vec::new());
            if let Some(state) = shared.conns.borrow().get(&conn) {
                shut_down_if_written(state);
            }
        }
        // Log lines; the busy mode asks for no disk requests, so nothing comes
        // back to feed.
        other => shared.carry_out(other, &mut Vec::new()),
    }
}

/// A connection the node closed (QUIT, a protocol error) sees its end at once,
/// as Redis frees such clients while the script runs, once all its replies are
/// written; otherwise its task closes it after the script. The task still owns
/// the descriptor and drops it then.
fn shut_down_if_written(state: &ConnState) {
    let fd = state.fd.get();
    if fd < 0 || state.writing.get() || !state.out.borrow().is_empty() {
        return;
    }
    // SAFETY: shutdown on the connection's open socket; it frees nothing.
    unsafe {
        libc::shutdown(fd, libc::SHUT_RDWR);
    }
}

/// Writes what is queued for the connection as far as its socket takes it.
fn write_now(state: &ConnState) {
    let fd = state.fd.get();
    if fd < 0 {
        return;
    }
    let mut out = state.out.borrow_mut();
    while let Some(front) = out.front_mut() {
        // SAFETY: send reads `front.len()` bytes from a buffer we hold; the fd is
        // the connection's open socket (its task, which owns it, is not running).
        let n = unsafe {
            libc::send(
                fd,
                front.as_ptr().cast(),
                front.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        let Ok(n) = usize::try_from(n) else {
            return; // full or broken: the task finds out
        };
        state
            .backlog
            .set(state.backlog.get().saturating_sub(n as u64));
        if n < front.len() {
            *front = front.slice(n..);
            return;
        }
        out.pop_front();
    }
}

/// Accepts the connections waiting on a listener; each gets its task, which
/// starts once the script ends.
fn accept_waiting(shared: &Rc<Shared>, slot: &ListenerSlot, inputs: &mut Vec<Input>) {
    let Some(fd) = slot.listener.borrow().as_ref().map(|l| l.as_raw_fd()) else {
        return;
    };
    for _ in 0..ACCEPTS_MAX {
        let mut addr: libc::sockaddr_storage = zeroed_sockaddr();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: accept4 on our open listening socket writes at most `len` bytes
        // of the peer's address into `addr`.
        let client = unsafe {
            libc::accept4(
                fd,
                (&mut addr as *mut libc::sockaddr_storage).cast(),
                &mut len,
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            )
        };
        if client < 0 {
            return; // nothing waiting (errors are the accept task's to log)
        }
        // SAFETY: accept4 returned a fresh socket that nothing else owns.
        let std_stream = unsafe { std::net::TcpStream::from_raw_fd(client) };
        let Ok(peer) = std_stream.peer_addr() else {
            continue;
        };
        let Ok(stream) = TcpStream::from_std(std_stream) else {
            continue;
        };
        inputs.push(adopt(shared, stream, peer));
    }
}

fn zeroed_sockaddr() -> libc::sockaddr_storage {
    // SAFETY: sockaddr_storage is plain data; all zeroes is a valid value.
    unsafe { std::mem::zeroed() }
}

/// Reads what arrived on every connection but the script's caller (one
/// non-blocking read each).
fn read_waiting(shared: &Shared, protected: Option<ConnId>, inputs: &mut Vec<Input>) {
    let conns: Vec<(ConnId, Rc<ConnState>)> = shared
        .conns
        .borrow()
        .iter()
        .filter(|(conn, _)| Some(**conn) != protected)
        .map(|(conn, state)| (*conn, state.clone()))
        .collect();
    let mut buf = vec![0u8; READ_BYTES_MAX];
    for (conn, state) in conns {
        let fd = state.fd.get();
        if fd < 0 || state.busy_eof.get() || state.close.get() {
            continue;
        }
        // SAFETY: recv writes at most `buf.len()` bytes into our buffer; the fd is
        // the connection's open socket.
        let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
        match usize::try_from(n) {
            Ok(0) => {
                state.busy_eof.set(true);
                inputs.push(Input::Closed { conn });
            }
            Ok(n) => inputs.push(Input::Received {
                conn,
                bytes: Bytes::copy_from_slice(&buf[..n]),
            }),
            Err(_) => {
                let e = std::io::Error::last_os_error();
                if !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                ) {
                    state.busy_eof.set(true);
                    inputs.push(Input::Closed { conn });
                }
            }
        }
    }
}
