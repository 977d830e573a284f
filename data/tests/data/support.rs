//! Helpers shared by the test modules.

use std::path::{Path, PathBuf};

/// `../shared/data/<sub>` beside the worktree (real datasets and SPMF files), or `None` (with a note)
/// when it is absent; under `CI=true` its absence fails the test instead.
pub fn shared_data_dir(sub: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(sub);
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{} is missing (required when CI=true)", dir.display());
    }
    eprintln!("skipping: {} is absent", dir.display());
    None
}
