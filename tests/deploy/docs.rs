//! docs/OPERATIONS.md stays true to the binary: every setting is documented.
//! (Every exported metric being documented is checked by the live test in prometheus.rs.)

use crate::common::*;

#[test]
fn operations_md_documents_every_setting_the_binary_reads() {
    let ops = read("docs/OPERATIONS.md");
    for var in env_vars_the_binary_reads() {
        assert!(ops.contains(&format!("`{var}`")), "docs/OPERATIONS.md does not document `{var}`");
    }
}
