//! Long-running scripts against real servers: with busy-reply-threshold at 100 ms
//! a script that loops forever makes other clients (also ones connecting
//! meanwhile) get -BUSY; SCRIPT KILL stops it and the server keeps serving; a
//! script that wrote is UNKILLABLE and only SHUTDOWN NOSAVE ends the server.
//! Meanwhile an EXEC ends in EXECABORT and QUIT closes the connection at once.
//! Every reply is compared byte for byte between ember-server and redis-server.

use std::time::{Duration, Instant};

use ember_tests::{RawConn, Server, ServerKind};

/// Generous, for a loaded machine: nothing here waits this long when all is well.
const PATIENCE: Duration = Duration::from_secs(60);

const BUSY: &[u8] =
    b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";

fn connect(server: &Server) -> RawConn {
    let mut conn = server.connect();
    conn.set_reply_timeout(PATIENCE);
    conn
}

fn call(conn: &mut RawConn, args: &[&str]) -> Vec<u8> {
    conn.send_command(args);
    conn.read_reply()
}

/// PINGs until the reply is -BUSY (the script may not have passed the threshold,
/// or even started, at first); that reply.
fn ping_until_busy(conn: &mut RawConn) -> Vec<u8> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let reply = call(conn, &["PING"]);
        if reply.starts_with(b"-BUSY") || Instant::now() > deadline {
            return reply;
        }
    }
}

/// The replies of one run of both scenarios, labelled, in order.
type Transcript = Vec<(&'static str, Vec<u8>)>;

fn killable_script(server: &Server, out: &mut Transcript) {
    let mut b = connect(server);
    out.push((
        "config set",
        call(&mut b, &["CONFIG", "SET", "busy-reply-threshold", "100"]),
    ));
    let mut d = connect(server);
    out.push(("D multi before", call(&mut d, &["MULTI"])));
    out.push(("D set queued", call(&mut d, &["SET", "k", "d"])));
    let mut a = connect(server);
    a.send_command(&["EVAL", "while true do end", "0"]);
    out.push(("B ping while busy", ping_until_busy(&mut b)));
    out.push(("D exec while busy", call(&mut d, &["EXEC"])));
    let mut q = connect(server);
    q.send_command(&["QUIT"]);
    out.push(("Q quit while busy", q.read_until_close()));
    let mut c = connect(server);
    out.push(("C (new) ping while busy", call(&mut c, &["PING"])));
    out.push(("C multi", call(&mut c, &["MULTI"])));
    out.push(("C get in multi", call(&mut c, &["GET", "k"])));
    out.push(("C exec", call(&mut c, &["EXEC"])));
    out.push((
        "function kill on an eval",
        call(&mut b, &["FUNCTION", "KILL"]),
    ));
    out.push((
        "function stats on an eval",
        call(&mut b, &["FUNCTION", "STATS"]),
    ));
    out.push(("script kill", call(&mut b, &["SCRIPT", "KILL"])));
    out.push(("A's reply", a.read_reply()));
    out.push(("B set", call(&mut b, &["SET", "k", "v"])));
    out.push(("C get", call(&mut c, &["GET", "k"])));
    out.push(("D get", call(&mut d, &["GET", "k"])));
    out.push(("A ping", call(&mut a, &["PING"])));
}

fn killable_function(server: &Server, out: &mut Transcript) {
    let mut b = connect(server);
    let library =
        "#!lua name=lib\nredis.register_function('loop', function()\n  while true do end\nend)";
    out.push((
        "function load",
        call(&mut b, &["FUNCTION", "LOAD", library]),
    ));
    let mut a = connect(server);
    a.send_command(&["FCALL", "loop", "0"]);
    out.push(("B ping during fcall", ping_until_busy(&mut b)));
    out.push(("script kill on an fcall", call(&mut b, &["SCRIPT", "KILL"])));
    out.push(("function kill", call(&mut b, &["FUNCTION", "KILL"])));
    out.push(("A's fcall reply", a.read_reply()));
    out.push((
        "function kill, nothing running",
        call(&mut b, &["FUNCTION", "KILL"]),
    ));
}

fn unkillable_script(server: &mut Server, out: &mut Transcript) {
    let mut b = connect(server);
    let mut a = connect(server);
    a.send_command(&["EVAL", "redis.call('set','x','1') while true do end", "0"]);
    out.push(("B ping while busy", ping_until_busy(&mut b)));
    out.push((
        "script kill after a write",
        call(&mut b, &["SCRIPT", "KILL"]),
    ));
    out.push(("shutdown", call(&mut b, &["SHUTDOWN"])));
    b.send_command(&["SHUTDOWN", "NOSAVE"]);
    out.push(("shutdown nosave", b.read_until_close()));
    let deadline = Instant::now() + PATIENCE;
    while server.exit_status().is_none() {
        assert!(
            Instant::now() < deadline,
            "{:?} did not exit after SHUTDOWN NOSAVE\n{}",
            server.kind(),
            server.log_tail()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn transcript(kind: ServerKind) -> Transcript {
    let mut server = Server::start(kind, &[]);
    let mut out = Vec::new();
    killable_script(&server, &mut out);
    killable_function(&server, &mut out);
    unkillable_script(&mut server, &mut out);
    out
}

fn show(transcript: &Transcript) -> String {
    transcript
        .iter()
        .map(|(label, bytes)| format!("{label}: {:?}\n", String::from_utf8_lossy(bytes)))
        .collect()
}

#[test]
fn busy_scripts_answer_as_redis_does() {
    let redis = transcript(ServerKind::Redis);
    let ember = transcript(ServerKind::Ember);
    assert_eq!(
        show(&ember),
        show(&redis),
        "ember (left) and redis (right) differ"
    );
    let reply = |label: &str| {
        redis
            .iter()
            .find(|(l, _)| *l == label)
            .map(|(_, bytes)| bytes.clone())
            .unwrap_or_default()
    };
    assert_eq!(reply("B ping while busy"), BUSY);
    assert_eq!(reply("C (new) ping while busy"), BUSY);
    assert!(reply("D exec while busy").starts_with(b"-EXECABORT"));
    assert_eq!(reply("Q quit while busy"), b"+OK\r\n");
    assert_eq!(reply("script kill"), b"+OK\r\n");
    assert!(reply("A's reply").starts_with(b"-ERR Script killed by user with SCRIPT KILL..."));
    assert!(reply("script kill after a write").starts_with(b"-UNKILLABLE"));
    assert_eq!(reply("shutdown nosave"), b"");
}
