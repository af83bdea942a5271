use super::*;

/// Redis 7.0.15's `CONFIG GET *` with no arguments, as committed test data.
const REDIS_DEFAULTS: &str = include_str!("../../tests/data/redis-7.0-config-defaults.txt");

fn redis_defaults() -> Vec<(&'static str, &'static str)> {
    REDIS_DEFAULTS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split_once('\t').unwrap_or((l, "")))
        .collect()
}

fn get_text(config: &Config, name: &str) -> String {
    config
        .get(name)
        .unwrap_or_else(|| panic!("{name} is unknown"))
}

#[test]
fn every_default_prints_as_redis_prints_it() {
    let config = Config::default();
    let mut wrong = Vec::new();
    for (name, expected) in redis_defaults() {
        match config.get(name) {
            Some(actual) if actual == expected => {}
            other => wrong.push(format!("{name}: redis {expected:?}, ember {other:?}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_table_names_exactly_the_directives_redis_lists() {
    let expected: Vec<&str> = redis_defaults().into_iter().map(|(n, _)| n).collect();
    let mut ours: Vec<&str> = names()
        .filter(|(i, _)| !DIRECTIVES[*i].has(HIDDEN))
        .map(|(_, n)| n)
        .filter(|n| *n != "dir")
        .collect();
    ours.sort_unstable();
    let mut expected = expected;
    expected.sort_unstable();
    assert_eq!(ours, expected);
}

#[test]
fn every_typed_field_names_a_directive() {
    for name in TYPED_NAMES {
        let index = find(name.as_bytes()).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(
            DIRECTIVES[index].name, *name,
            "typed fields use primary names"
        );
    }
}

#[test]
fn typed_defaults_agree_with_the_table() {
    let config = Config::default();
    for (index, d) in DIRECTIVES.iter().enumerate() {
        if d.name == "dir" {
            continue;
        }
        assert_eq!(
            format_val(d, &read(&config, index)),
            format_val(d, &default_val(d)),
            "{}",
            d.name
        );
    }
}

#[test]
fn names_are_lower_case_and_unique() {
    let mut all: Vec<&str> = names().map(|(_, n)| n).collect();
    assert!(all.iter().all(|n| *n == n.to_ascii_lowercase()));
    let count = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), count);
}

#[test]
fn file_directives_set_typed_fields() {
    let text = "port 7000\nbind 127.0.0.1 ::1\nhz 20\nmaxmemory 1gb\nmaxmemory-policy allkeys-lru\nrequirepass secret\ndatabases 4\nloglevel warning\ntimeout 30\n";
    let config = load(Some(text), "").unwrap();
    assert_eq!(config.port, 7000);
    assert_eq!(
        config.bind,
        vec!["127.0.0.1".to_string(), "::1".to_string()]
    );
    assert_eq!(config.hz, 20);
    assert_eq!(config.maxmemory, 1 << 30);
    assert_eq!(config.maxmemory_policy, MaxmemoryPolicy::AllkeysLru);
    assert_eq!(config.requirepass.as_deref(), Some(&b"secret"[..]));
    assert_eq!(config.databases, 4);
    assert_eq!(config.loglevel, LogLevel::Warning);
    assert_eq!(config.timeout_secs, 30);
}

#[test]
fn comments_blank_lines_quotes_and_case_are_understood() {
    let text = "# a comment\n\n   \t\nPORT 7001\r\nlogfile \"my log.txt\"\n  hz 12  \n";
    let config = load(Some(text), "").unwrap();
    assert_eq!(config.port, 7001);
    assert_eq!(config.logfile, "my log.txt");
    assert_eq!(config.hz, 12);
}

#[test]
fn aliases_set_the_primary_directive() {
    let config = load(
        Some("hash-max-ziplist-entries 7\nslave-read-only no\nslaveof 10.0.0.1 6380\n"),
        "",
    )
    .unwrap();
    assert_eq!(config.hash_max_listpack_entries, 7);
    assert!(!config.replica_read_only);
    assert_eq!(config.replicaof, Some(("10.0.0.1".to_string(), 6380)));
    assert_eq!(get_text(&config, "slaveof"), "10.0.0.1 6380");
}

#[test]
fn unknown_directive_is_fatal_with_redis_text() {
    let err = load(Some("port 7000\nfoo bar\n"), "").unwrap_err();
    assert_eq!(
        err.to_string(),
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'foo bar'\nBad directive or wrong number of arguments\n"
    );
}

#[test]
fn options_after_an_empty_file_start_on_line_two() {
    let (lines, stdin) = cli_options(&["--foo".into(), "bar".into()], true);
    assert!(!stdin);
    assert_eq!(lines, "foo \"bar\" ");
    let err = load(None, &lines).unwrap_err();
    assert!(
        err.to_string().contains("at line 2\n>>> 'foo \"bar\"'\n"),
        "{err}"
    );
}

#[test]
fn value_errors_match_redis() {
    let cases = [
        ("port 7801 7802", "wrong number of arguments"),
        ("port abc", "argument couldn't be parsed into an integer"),
        (
            "port 99999",
            "argument must be between 0 and 65535 inclusive",
        ),
        ("maxmemory 1x", "argument must be a memory value"),
        ("appendonly maybe", "argument must be 'yes' or 'no'"),
        (
            "loglevel loud",
            "argument(s) must be one of the following: debug, verbose, notice, warning",
        ),
        ("save \"3600 1 abc\"", "Invalid save parameters"),
        ("save \"900 1\" \"300 2\"", "Invalid save parameters"),
        ("port \"7801", "Unbalanced quotes in configuration line"),
        (
            "maxclients 0",
            "argument must be between 1 and 4294967295 inclusive",
        ),
        (
            "unixsocketperm 999",
            "argument couldn't be parsed as an octal number",
        ),
        (
            "unixsocketperm 7777",
            "argument must be between 0 and 777 inclusive",
        ),
        (
            "socket-mark-id -1",
            "argument must be between 0 and 4294967295 inclusive",
        ),
        (
            "shutdown-on-sigint save nosave",
            "shutdown options SAVE and NOSAVE can't be used simultaneously",
        ),
        (
            "oom-score-adj-values 1 2 x",
            "Invalid oom-score-adj-values, elements must be between -2000 and 2000.",
        ),
        (
            "sentinel monitor x",
            "sentinel directive while not in sentinel mode",
        ),
        (
            "rename-command nosuchcmd x",
            "No such command in rename-command",
        ),
    ];
    for (line, message) in cases {
        match load(Some(line), "") {
            Err(LoadError::Fatal {
                message: m,
                line: Some((1, l)),
            }) => {
                assert_eq!(m, message, "{line}");
                assert_eq!(l, line);
            }
            other => panic!("{line}: {other:?}"),
        }
    }
}

#[test]
fn deprecated_directives_are_ignored() {
    assert!(load(
        Some("list-max-ziplist-entries 5\nlua-replicate-commands yes\n"),
        ""
    )
    .is_ok());
    assert!(load(Some("list-max-ziplist-entries 5 6\n"), "").is_err());
}

#[test]
fn save_lines_accumulate_in_a_file_and_replace_at_runtime() {
    let mut config = load(Some("save 900 1\nsave 300 10\n"), "").unwrap();
    assert_eq!(config.save_params, vec![(900, 1), (300, 10)]);
    assert_eq!(get_text(&config, "save"), "900 1 300 10");
    let config2 = load(Some("save \"\"\nsave 60 1\n"), "").unwrap();
    assert_eq!(config2.save_params, vec![(60, 1)]);
    let index = find(b"save").unwrap();
    set_from_value(&mut config, index, b"10 1").unwrap();
    assert_eq!(config.save_params, vec![(10, 1)]);
    set_from_value(&mut config, index, b"").unwrap();
    assert!(config.save_params.is_empty());
    assert!(set_from_value(&mut config, index, b"0 1").is_err());
    assert!(set_from_value(&mut config, index, b"10 1  20 2").is_err());
}

#[test]
fn memory_values_take_units() {
    let index = find(b"maxmemory").unwrap();
    let mut config = Config::default();
    for (text, bytes) in [
        ("1k", 1000u64),
        ("1kb", 1024),
        ("2MB", 2 << 20),
        ("3g", 3_000_000_000),
        ("1Gb", 1 << 30),
        ("5b", 5),
        ("", 0),
        ("kb", 0),
        ("99999999999999999999", u64::MAX),
        ("18446744073709551615k", u64::MAX.wrapping_mul(1000)),
    ] {
        set_from_value(&mut config, index, text.as_bytes()).unwrap();
        assert_eq!(config.maxmemory, bytes, "{text}");
    }
    for bad in ["-1", "1.5k", "1 k", "1kk", "+1"] {
        assert!(
            set_from_value(&mut config, index, bad.as_bytes()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn percent_values_print_with_a_percent_sign() {
    let mut config = Config::default();
    config.set("maxmemory-clients", "50%").unwrap();
    assert_eq!(get_text(&config, "maxmemory-clients"), "50%");
    assert_eq!(config.maxmemory_clients, -50);
    assert_eq!(
        config.set("maxmemory-clients", "101%").unwrap_err(),
        "percentage argument must be less or equal to 100"
    );
    assert_eq!(
        config.set("maxmemory-clients", "-5").unwrap_err(),
        "argument must be a memory or percent value"
    );
}

#[test]
fn enums_print_their_first_name_for_a_value() {
    let mut config = Config::default();
    config.set("oom-score-adj", "relative").unwrap();
    assert_eq!(get_text(&config, "oom-score-adj"), "yes");
    config.set("LOGLEVEL", "Warning").unwrap();
    assert_eq!(config.loglevel, LogLevel::Warning);
}

#[test]
fn shutdown_flags_print_in_table_order() {
    let mut config = Config::default();
    config.set("shutdown-on-sigint", "now save").unwrap();
    assert_eq!(get_text(&config, "shutdown-on-sigint"), "save now");
    config.set("shutdown-on-sigint", "default save").unwrap();
    assert_eq!(get_text(&config, "shutdown-on-sigint"), "save");
    assert!(config.set("shutdown-on-sigint", "").is_err());
}

#[test]
fn notify_keyspace_events_round_trip_like_redis() {
    let mut config = Config::default();
    for (set, get) in [
        ("A", "A"),
        ("KEA", "AKE"),
        ("gnm", "gnm"),
        ("Ag$lshzxetdnm", "Am"),
        ("g$lshzxetd", "A"),
        ("g$lshzxet", "g$lshzxet"),
        ("", ""),
    ] {
        config.set("notify-keyspace-events", set).unwrap();
        assert_eq!(get_text(&config, "notify-keyspace-events"), get, "{set}");
    }
    assert_eq!(
        config.set("notify-keyspace-events", "q").unwrap_err(),
        "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
    );
}

#[test]
fn client_output_buffer_limit_updates_named_classes() {
    let mut config = Config::default();
    config
        .set(
            "client-output-buffer-limit",
            "normal 1 2 3 replica 4mb 5k 6",
        )
        .unwrap();
    assert_eq!(
        get_text(&config, "client-output-buffer-limit"),
        "normal 1 2 3 slave 4194304 5000 6 pubsub 33554432 8388608 60"
    );
    for (bad, message) in [
        (
            "master 1 2 3",
            "Invalid client class specified in buffer limit configuration.",
        ),
        (
            "normal 1 2",
            "Wrong number of arguments in buffer limit configuration.",
        ),
        (
            "normal 1 2 -1",
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
        ),
    ] {
        assert_eq!(
            config.set("client-output-buffer-limit", bad).unwrap_err(),
            message
        );
    }
}

#[test]
fn latency_percentiles_print_trimmed() {
    let mut config = Config::default();
    config
        .set(
            "latency-tracking-info-percentiles",
            "50.0 99 99.90 12.3456789",
        )
        .unwrap();
    assert_eq!(
        get_text(&config, "latency-tracking-info-percentiles"),
        "50 99 99.9 12.345679"
    );
    config.set("latency-tracking-info-percentiles", "").unwrap();
    assert_eq!(get_text(&config, "latency-tracking-info-percentiles"), "");
}

#[test]
fn hz_is_clamped_after_loading() {
    assert_eq!(load(Some("hz 1000"), "").unwrap().hz, 500);
    assert_eq!(load(Some("hz 0"), "").unwrap().hz, 1);
}

#[test]
fn string_checks_match_redis() {
    let mut config = Config::default();
    assert_eq!(
        config.set("cluster-announce-hostname", "a_b").unwrap_err(),
        "Hostnames may only contain alphanumeric characters, hyphens or dots"
    );
    assert!(config.set("proc-title-template", "{title} {{x}}").is_ok());
    assert!(config.set("proc-title-template", "{foo}").is_err());
    assert!(config.set("proc-title-template", "").is_err());
    assert_eq!(
        config.set("dbfilename", "a/b").unwrap_err(),
        "dbfilename can't be a path, just a filename"
    );
}

#[test]
fn cli_options_follow_redis_main() {
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        cli_options(&args(&["--port", "7000"]), true).0,
        "port \"7000\" "
    );
    assert_eq!(
        cli_options(&args(&["--port", "7801", "--save", "--foo"]), true).0,
        "port \"7801\" \nsave \"\"\nfoo "
    );
    assert_eq!(
        cli_options(&args(&["--port", "1", "--save"]), true).0,
        "port \"1\" \nsave \"\""
    );
    assert_eq!(
        cli_options(&args(&["--foo", "a", "b c"]), true).0,
        "foo \"a\" \"b c\" "
    );
    assert_eq!(
        cli_options(&args(&["--foo", "--bar"]), true).0,
        "foo \"--bar\" "
    );
    assert_eq!(cli_options(&args(&["--port 7000"]), true).0, "port 7000 ");
    assert!(cli_options(&args(&["-"]), true).1);
    assert!(!cli_options(&args(&["-", "--port", "1"]), false).1);
    assert_eq!(
        cli_options(&args(&["--foo", "x\"y\n"]), true).0,
        "foo \"x\\\"y\\n\" "
    );
}

#[test]
fn save_from_the_command_line_is_empty() {
    let (lines, _) = cli_options(
        &["--save".into(), "".into(), "--port".into(), "1".into()],
        true,
    );
    let config = load(None, &lines).unwrap();
    assert!(config.save_params.is_empty());
    assert_eq!(config.port, 1);
}

#[test]
fn includes_read_through_the_host() {
    struct Files;
    impl LoadHost for Files {
        fn include(&mut self, path: &str) -> Result<String, String> {
            match path {
                "/other.conf" => Ok("port 7123\n".into()),
                _ => Err("No such file or directory".into()),
            }
        }
    }
    let config = load_with(Some("include /other.conf\nhz 11"), "", &mut Files).unwrap();
    assert_eq!((config.port, config.hz), (7123, 11));
    let err = load_with(Some("include /missing.conf"), "", &mut Files).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Fatal error, can't open config file '/missing.conf': No such file or directory"
    );
}

#[test]
fn rename_command_records_the_new_name() {
    let config = load(Some("rename-command ping pong\n"), "").unwrap();
    assert_eq!(
        config.renamed_commands,
        vec![("ping".to_string(), "pong".to_string())]
    );
    assert!(load(
        Some("rename-command ping pong\nrename-command ping x\n"),
        ""
    )
    .is_err());
}

#[test]
fn cluster_and_replicaof_together_are_refused_without_a_line() {
    let err = load(Some("cluster-enabled yes\nreplicaof 1.2.3.4 5"), "").unwrap_err();
    assert_eq!(
        err,
        LoadError::Fatal {
            line: None,
            message: "replicaof directive not allowed in cluster mode".into()
        }
    );
}

#[test]
fn hidden_directives_exist_but_are_not_listed() {
    for name in [
        "rdb-key-save-delay",
        "key-load-delay",
        "use-exit-on-panic",
        "watchdog-period",
    ] {
        let index = find(name.as_bytes()).unwrap();
        assert!(DIRECTIVES[index].has(HIDDEN));
    }
    assert_eq!(
        Config::default()
            .get("loading-process-events-interval-bytes")
            .as_deref(),
        Some("2097152")
    );
}

#[test]
fn repr_escapes_like_sdscatrepr() {
    assert_eq!(repr(b"a\"b\\c\x01\xff\t"), "\"a\\\"b\\\\c\\x01\\xff\\t\"");
}

#[test]
fn rewrite_keeps_layout_and_replaces_values_in_place() {
    let old = "# my config\nport 7821\n\n\nsave 900 1\nsave 300 10\nslave-read-only no\nrename-command flushall xyz\nmaxmemory 1048576\nhz 20\nhz 30\n";
    let mut config = load(Some(old), "").unwrap();
    config.set("maxmemory-policy", "allkeys-lru").unwrap();
    config.set("requirepass", "a b").unwrap();
    config.dir = "/tmp/x".into();
    let new = rewrite(old, &config);
    assert_eq!(
        new,
        "# my config\nport 7821\n\nsave 900 1\nsave 300 10\nreplica-read-only no\nrename-command flushall xyz\nmaxmemory 1mb\nhz 30\n\n# Generated by CONFIG REWRITE\nrequirepass \"a b\"\nmaxmemory-policy allkeys-lru\ndir \"/tmp/x\"\nlatency-tracking-info-percentiles 50 99 99.9\n"
    );
    // The rewritten file loads back to the same values.
    let again = load(Some(&new), "").unwrap();
    assert_eq!(again.maxmemory, 1 << 20);
    assert_eq!(again.requirepass.as_deref(), Some(&b"a b"[..]));
    assert_eq!(again.save_params, vec![(900, 1), (300, 10)]);
}

#[test]
fn a_single_argument_of_a_multi_argument_directive_is_split() {
    let config = load(Some("save \"900   1\"\nbind \"127.0.0.1 ::1\"\n"), "").unwrap();
    assert_eq!(config.save_params, vec![(900, 1)]);
    assert_eq!(
        config.bind,
        vec!["127.0.0.1".to_string(), "::1".to_string()]
    );
    let (lines, _) = cli_options(
        &[
            "--client-output-buffer-limit".into(),
            "pubsub 1mb 2mb 30".into(),
        ],
        true,
    );
    let config = load(None, &lines).unwrap();
    assert_eq!(
        config.client_output_buffer_limit[crate::config::OBUF_PUBSUB].soft_secs,
        30
    );
}
