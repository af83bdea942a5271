//! Scripting end to end: function libraries persist in RDB files that real Redis
//! 7.0 loads, and the other way round; scripts keep the server serving.

use ember_tests::Server;

fn connect(server: &Server) -> redis::Connection {
    redis::Client::open(server.url())
        .expect("client")
        .get_connection()
        .expect("connect")
}

fn run(con: &mut redis::Connection, args: &[&str]) -> redis::Value {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn text(v: redis::Value) -> String {
    redis::from_redis_value(&v).expect("a string reply")
}

fn dir_arg(server: &Server) -> String {
    server.dir().to_string_lossy().into_owned()
}

const LIBRARY: &str = "#!lua name=persisted\n\
    redis.register_function('hello', function(keys, args) return 'hello ' .. args[1] end)\n\
    redis.register_function{function_name='ro', callback=function() return 'ro' end, flags={'no-writes'}}";

fn check_library(con: &mut redis::Connection) {
    assert_eq!(
        text(run(con, &["FCALL", "hello", "0", "world"])),
        "hello world"
    );
    assert_eq!(text(run(con, &["FCALL_RO", "ro", "0"])), "ro");
}

#[test]
fn function_libraries_saved_by_ember_load_into_redis() {
    let ember = Server::start_ember(&[]);
    let mut con = connect(&ember);
    assert_eq!(
        text(run(&mut con, &["FUNCTION", "LOAD", LIBRARY])),
        "persisted"
    );
    run(&mut con, &["SET", "k", "v"]);
    run(&mut con, &["SAVE"]);
    let redis = Server::start_redis(&["--dir", &dir_arg(&ember)]);
    let mut rcon = connect(&redis);
    check_library(&mut rcon);
    assert_eq!(text(run(&mut rcon, &["GET", "k"])), "v");
}

#[test]
fn function_libraries_saved_by_redis_load_into_ember() {
    let redis = Server::start_redis(&[]);
    let mut rcon = connect(&redis);
    run(&mut rcon, &["FUNCTION", "LOAD", LIBRARY]);
    run(&mut rcon, &["SAVE"]);
    let ember = Server::start_ember(&["--dir", &dir_arg(&redis)]);
    let mut con = connect(&ember);
    check_library(&mut con);
    // And they survive Ember's own save and restart (in the same directory).
    run(&mut con, &["SAVE"]);
    drop(con);
    drop(ember);
    let again = Server::start_ember(&["--dir", &dir_arg(&redis)]);
    check_library(&mut connect(&again));
}

#[test]
fn function_dump_restores_across_servers() {
    let redis = Server::start_redis(&[]);
    let mut rcon = connect(&redis);
    run(&mut rcon, &["FUNCTION", "LOAD", LIBRARY]);
    let payload: Vec<u8> =
        redis::from_redis_value(&run(&mut rcon, &["FUNCTION", "DUMP"])).expect("payload");
    let ember = Server::start_ember(&[]);
    let mut con = connect(&ember);
    let restored: String = redis::cmd("FUNCTION")
        .arg("RESTORE")
        .arg(&payload)
        .query(&mut con)
        .expect("restore");
    assert_eq!(restored, "OK");
    check_library(&mut con);
    let again: Vec<u8> =
        redis::from_redis_value(&run(&mut con, &["FUNCTION", "DUMP"])).expect("payload");
    assert_eq!(again, payload, "Ember's DUMP is Redis's bytes");
    let err = redis::cmd("FUNCTION")
        .arg("RESTORE")
        .arg(&payload)
        .query::<String>(&mut con)
        .expect_err("append collides");
    assert!(err.to_string().contains("already exists"), "{err}");
    let replaced: String = redis::cmd("FUNCTION")
        .arg("RESTORE")
        .arg(&payload)
        .arg("REPLACE")
        .query(&mut con)
        .expect("replace");
    assert_eq!(replaced, "OK");
    check_library(&mut con);
}

#[test]
fn the_server_keeps_serving_after_hostile_scripts() {
    let ember = Server::start_ember(&[]);
    let mut con = connect(&ember);
    for body in [
        "return string.rep('x', 2^40)",
        "local function f() return f() + 1 end return f()",
        "return loadstring(string.dump(function() return 1 end))",
        "return cjson.decode(string.rep('[', 100000))",
        "return cmsgpack.unpack(string.rep(string.char(0x91), 100000))",
    ] {
        let _ = redis::cmd("EVAL")
            .arg(body)
            .arg(0)
            .query::<redis::Value>(&mut con);
        assert_eq!(text(run(&mut con, &["PING"])), "PONG", "{body}");
    }
}
