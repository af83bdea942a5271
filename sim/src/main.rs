//! ember-sim: the deterministic simulator. It will drive many `ember-core` nodes, a
//! simulated network, disks and clocks from one seed (see the simulator issue); for now
//! it only checks that the core links.

fn main() {
    let node = ember_core::Node::new(ember_core::Config::default(), [0; 32], 0);
    println!(
        "ember-sim: the simulator is not built yet (core with {} databases links)",
        node.config().databases
    );
}
