//! The checkers fail runs that are wrong: a node reply sabotaged in flight, keys that
//! come back or outlive their deadline, requests never answered.

use ember_sim::checker::expiry::ExpiryChecker;
use ember_sim::checker::liveness::LivenessChecker;
use ember_sim::checker::{Checker, Exec, Observation};
use ember_sim::probes::{Probe, Probes};
use ember_sim::resp::{encode_multibulk, Reply};
use ember_sim::settings::FaultSettings;
use ember_sim::workload::{Request, RequestKind};
use ember_sim::{run_settings, RunOptions, Settings};

/// A world the model checks end to end: no faults, no malformed or random commands.
fn checked_settings() -> Settings {
    let mut s = Settings::from_seed(5);
    s.faults = FaultSettings::none();
    s.workload.weights = [3, 3, 3, 3, 3, 3, 0, 0, 0];
    s.clients = 3;
    s.fault_ms = 2_000;
    s.quiet_ms = 1_000;
    s
}

#[test]
fn a_clean_world_passes_the_model_checker() {
    let outcome = run_settings(checked_settings(), RunOptions::default());
    assert_eq!(outcome.violation, None);
    assert!(
        outcome.probes.get(Probe::ModelChecked) > 20,
        "{}",
        outcome.probes
    );
}

#[test]
fn the_model_checker_catches_a_wrong_reply() {
    let options = RunOptions {
        corrupt_reply_of: Some(12),
        ..RunOptions::default()
    };
    let outcome = run_settings(checked_settings(), options);
    let violation = outcome.violation.expect("a wrong reply must fail the run");
    assert_eq!(violation.checker, "model", "{violation}");
    assert!(violation.message.contains("request #12"), "{violation}");
}

fn request(args: &[&str]) -> Request {
    let args: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
    Request {
        wire: encode_multibulk(&args),
        args,
        kind: RequestKind::Normal,
        abuse: None,
    }
}

/// Feeds `(command, reply, node clock)` in execution order; the first complaint.
fn run_expiry(steps: &[(&[&str], Reply, u64)]) -> Result<(), String> {
    let mut checker = ExpiryChecker::new(1);
    let mut probes = Probes::new();
    for (i, (args, reply, now)) in steps.iter().enumerate() {
        let request = request(args);
        let exec = Exec {
            node: 0,
            client: 0,
            id: i as u64,
            request: &request,
            reply,
            node_ms: *now,
            vt: 0,
        };
        checker.observe(&Observation::Exec(exec), &mut probes)?;
    }
    Ok(())
}

#[test]
fn the_expiry_checker_catches_a_key_alive_past_its_deadline() {
    let t = 1_700_000_000_000;
    let ok = run_expiry(&[
        (&["SET", "k", "v", "PX", "100"], Reply::ok(), t),
        (&["GET", "k"], Reply::bulk(b"v"), t + 99),
        (&["GET", "k"], Reply::Bulk(None), t + 101),
    ]);
    assert_eq!(ok, Ok(()));
    let err = run_expiry(&[
        (&["SET", "k", "v", "PX", "100"], Reply::ok(), t),
        (&["GET", "k"], Reply::bulk(b"v"), t + 101),
    ]);
    assert!(err.unwrap_err().contains("past its deadline"));
}

#[test]
fn the_expiry_checker_catches_a_key_that_comes_back() {
    let t = 1_700_000_000_000;
    let err = run_expiry(&[
        (&["SET", "k", "v"], Reply::ok(), t),
        (&["DEL", "k"], Reply::Int(1), t + 1),
        (&["EXISTS", "k"], Reply::Int(1), t + 2),
    ]);
    assert!(err.unwrap_err().contains("came back"));
    let rewritten = run_expiry(&[
        (&["DEL", "k"], Reply::Int(1), t + 1),
        (&["LPUSH", "k", "a"], Reply::Int(1), t + 2),
        (&["EXISTS", "k"], Reply::Int(1), t + 3),
    ]);
    assert_eq!(rewritten, Ok(()));
}

#[test]
fn the_expiry_checker_holds_ttl_replies_to_the_node_clock() {
    let t = 1_700_000_000_000;
    let steps = |pttl: i64| {
        run_expiry(&[
            (&["SET", "k", "v"], Reply::ok(), t),
            (&["PEXPIRE", "k", "5000"], Reply::Int(1), t + 10),
            (&["PTTL", "k"], Reply::Int(pttl), t + 1_010),
        ])
    };
    assert_eq!(steps(4_000), Ok(()));
    assert!(steps(4_001).unwrap_err().contains("PTTL"));
}

#[test]
fn the_liveness_checker_catches_a_request_never_answered() {
    let mut checker = LivenessChecker::new(1_000);
    let mut probes = Probes::new();
    let sent = Observation::Sent {
        client: 0,
        node: 0,
        id: 1,
        kind: RequestKind::Normal,
        flush: false,
        vt: 5_000,
    };
    checker
        .observe(&Observation::FaultsStopped { vt: 4_000 }, &mut probes)
        .unwrap();
    checker.observe(&sent, &mut probes).unwrap();
    assert_eq!(checker.finish(5_500), Ok(()), "still within the bound");
    assert!(checker
        .finish(7_000)
        .unwrap_err()
        .contains("never answered"));
    checker
        .observe(
            &Observation::Lost {
                client: 0,
                id: 1,
                vt: 5_100,
            },
            &mut probes,
        )
        .unwrap();
    assert_eq!(checker.finish(7_000), Ok(()), "a lost request is exempt");
}
