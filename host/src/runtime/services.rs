//! Host services a validator can be granted beyond the event
//! (`grants = ["reservations"]`). The hook provides them over the store; the
//! runtime hands them only to granted guests.

use std::sync::{Arc, Mutex};

use crate::reservations::{Conflict, Mode};

/// Read access to the reservation store for one event's agent.
pub trait ReservationView: Send {
    /// Live reservations of other agents that conflict with the event's agent
    /// writing (`Mode::Exclusive`) or relying on (`Mode::Shared`) `paths`,
    /// each path taken literally with everything under it.
    fn holders(&mut self, paths: &[String], mode: Mode) -> Result<Vec<Conflict>, String>;
}

/// A view shared by the guests of one event.
pub type SharedView = Arc<Mutex<dyn ReservationView>>;

/// A lease a guest asked for, taken with the decision.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Claim {
    /// Paths, taken literally.
    pub paths: Vec<String>,
    /// Lease in seconds.
    pub ttl_secs: u32,
    /// Why.
    pub reason: String,
}

/// Most paths one claim may name, and most claims per call.
pub const MAX_CLAIM_PATHS: usize = 256;
/// Most claims one guest call may make.
pub const MAX_CLAIMS: usize = 16;
