//! Lists split into listpack nodes exactly where Redis 7.0 splits them, so memory use
//! and RDB files match. The oracle is `data/redis-7.0-list-nodes.rdb`, saved by
//! redis-server 7.0.15 (default `list-max-listpack-size -2`) after:
//!   l1: RPUSH of "element:0" .. "element:2999", 100 per command
//!   l2: RPUSH of 2000 strings of "x" repeated (i % 300) times, 100 per command
//!   l3: LPUSH of the integers 0 .. 2999, 100 per command
//! Each list is rebuilt here by pushing the same elements one by one.

use ember_core::rdb::{load, RdbValue};
use ember_core::types::list::List;
use ember_core::value::Value;

#[test]
fn node_boundaries_equal_redis_for_pushes_at_either_end() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/redis-7.0-list-nodes.rdb"
    ))
    .expect("oracle file");
    let contents = load(&bytes).expect("Redis's file loads");
    assert_eq!(contents.dbs[0].entries.len(), 3);
    for entry in &contents.dbs[0].entries {
        let RdbValue::Value(Value::List(redis)) = &entry.value else {
            panic!("not a list");
        };
        let elements: Vec<Vec<u8>> = redis
            .nodes()
            .flat_map(|n| n.iter().map(|v| v.to_vec()))
            .collect();
        let mut ours = List::new(-2);
        if entry.key == b"l3" {
            for v in elements.iter().rev() {
                ours.push_front(v);
            }
        } else {
            for v in &elements {
                ours.push_back(v);
            }
        }
        let node_lens = |l: &List| l.nodes().map(|n| n.len()).collect::<Vec<_>>();
        assert_eq!(
            node_lens(&ours),
            node_lens(redis),
            "{}",
            String::from_utf8_lossy(&entry.key)
        );
    }
}
