//! Git without lost or misattributed work.
//!
//! In one checkout git's index is a single shared file: an agent's `git
//! commit` sweeps in what another agent staged, and concurrent `git add`
//! runs fail on `index.lock`. Here each agent's commit is built in a private
//! index (`GIT_INDEX_FILE`) from HEAD, made under one repository-wide commit
//! lock, and the branch moves by compare-and-swap (`git update-ref <ref>
//! <new> <old>`); the git guards run the validator chain on what a commit or
//! a push carries.
//!
//! - [`repo`]: where a repository's directories are, what HEAD is, and git's
//!   commands run with a controlled environment.
//! - [`lock`]: the commit lock, with its owner's pid and start time.
//! - [`message`]: the commit message's cleanup and trailers.
//! - [`owned`]: which changed paths are an agent's own.
//! - [`commit`]: `hookgate commit`.
//! - [`guard`]: `hookgate git pre-commit` and `pre-push`.
//! - [`push`]: git's pre-push stdin protocol.

pub mod commit;
pub mod guard;
pub mod lock;
pub mod message;
pub mod owned;
pub mod push;
pub mod repo;

pub use repo::{GitError, Repo};
