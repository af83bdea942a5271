//! One test per script in `tests/scripts/`, so a failure names its command family.
//! Adding a script: create `tests/scripts/NAME.txt` and add `NAME` to the list below.

use std::path::Path;

macro_rules! differential_scripts {
    ($($name:ident),* $(,)?) => {
        /// Every script the list below runs, checked against the directory.
        const LISTED_SCRIPTS: &[&str] = &[$(stringify!($name)),*];
        $(
            #[test]
            fn $name() {
                ember_tests::run_script_file(script_path(stringify!($name)));
            }
        )*
    };
}

differential_scripts! {
    smoke,
    protocol,
    strings,
    keys,
    expire,
    connection,
    server,
    config,
    introspect,
    lists,
    hashes,
    sets,
    zsets,
    sort,
    bitmaps,
    hyperloglog,
    transactions,
    dump,
    corrupt_dump,
    bounds,
    geo,
    streams,
    blocking,
    pubsub,
    reply_off,
    notifications,
    monitor,
    scripting,
    functions,
}

fn scripts_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts"))
}

fn script_path(name: &str) -> std::path::PathBuf {
    scripts_dir().join(format!("{name}.txt"))
}

/// A script nobody listed would silently never run.
#[test]
fn every_script_file_is_listed() {
    let entries = std::fs::read_dir(scripts_dir()).expect("read tests/scripts");
    let mut unlisted: Vec<String> = entries
        .map(|entry| entry.expect("scripts dir entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
        .filter_map(|path| Some(path.file_stem()?.to_string_lossy().into_owned()))
        .filter(|stem| !LISTED_SCRIPTS.contains(&stem.as_str()))
        .collect();
    unlisted.sort();
    assert!(
        unlisted.is_empty(),
        "add these to differential_scripts! in tests/differential.rs: {unlisted:?}"
    );
}
