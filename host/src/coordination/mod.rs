//! Coordination beyond locks: messages that reach busy agents (pushed into
//! their context at the next hook), negotiated release of reservations,
//! change notifications routed to the agents that rely on a path, and the
//! task board. Everything lives in the store, under the identity hooks,
//! commands and the MCP server share.

pub mod changes;
pub mod delivery;
pub mod frame;
pub mod log_file;
pub mod mailbox;
pub mod messages;
pub mod requests;
pub mod tasks;

use crate::store::StoreError;

/// A SQLite failure inside a store transaction, where the store's path is
/// not at hand; each module turns it into its own error.
fn sql_error(source: rusqlite::Error) -> StoreError {
    StoreError::Sql {
        path: Default::default(),
        source,
    }
}
