//! The normalized hook event and the findings validators return: the host's
//! side of the types in `wit/`.

use serde::{Deserialize, Serialize};

/// What a finding asks for; ordered from least to most severe.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// No objection.
    #[default]
    Allow,
    /// Tell the agent, let the action proceed.
    Warn,
    /// Ask the human.
    Ask,
    /// Block.
    Deny,
}

impl Outcome {
    /// The lowercase name used in policies, the audit log and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Warn => "warn",
            Outcome::Ask => "ask",
            Outcome::Deny => "deny",
        }
    }

    /// Parse a lowercase name.
    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "allow" => Some(Outcome::Allow),
            "warn" => Some(Outcome::Warn),
            "ask" => Some(Outcome::Ask),
            "deny" => Some(Outcome::Deny),
            _ => None,
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The normalized kind of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Before a tool runs.
    PreTool,
    /// After a tool ran.
    PostTool,
    /// A user prompt was submitted.
    Prompt,
    /// A session started.
    SessionStart,
    /// A session ended.
    SessionEnd,
    /// The agent finished its turn.
    Stop,
    /// A git pre-commit hook.
    PreCommit,
    /// A git pre-push hook.
    PrePush,
    /// Anything else.
    Other,
}

/// Who caused the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Agent {
    /// Stable id: session, plus `:subagent` inside a subagent.
    pub id: String,
    /// Readable name derived from the id.
    pub name: String,
    /// The platform session id.
    pub session: String,
    /// The subagent id, inside a subagent.
    pub subagent: Option<String>,
}

impl Agent {
    /// An agent from a platform session and optional subagent id; `override_id`
    /// (from `--agent` / `HOOKGATE_AGENT`) replaces the derived id.
    pub fn from_session(session: &str, subagent: Option<&str>, override_id: Option<&str>) -> Agent {
        let id = match (override_id, subagent) {
            (Some(o), _) if !o.is_empty() => o.to_string(),
            (_, Some(sub)) if !sub.is_empty() => format!("{session}:{sub}"),
            _ => session.to_string(),
        };
        Agent {
            name: readable_name(&id),
            id,
            session: session.to_string(),
            subagent: subagent.filter(|s| !s.is_empty()).map(str::to_string),
        }
    }
}

const ADJECTIVES: [&str; 32] = [
    "Amber", "Azure", "Bold", "Brave", "Bright", "Calm", "Clever", "Coral", "Crimson", "Swift",
    "Gentle", "Golden", "Green", "Hidden", "Ivory", "Jade", "Keen", "Lucky", "Misty", "Noble",
    "Olive", "Quiet", "Rapid", "Royal", "Silver", "Sly", "Steady", "Sunny", "Tidy", "Violet",
    "Wise", "Young",
];
const NOUNS: [&str; 32] = [
    "Anchor", "Badger", "Beacon", "Brook", "Castle", "Cedar", "Comet", "Crane", "Delta", "Falcon",
    "Fern", "Forge", "Harbor", "Heron", "Lantern", "Maple", "Meadow", "Otter", "Pine", "Quarry",
    "Raven", "Ridge", "River", "Summit", "Thistle", "Tower", "Valley", "Willow", "Wolf", "Wren",
    "Yarrow", "Zephyr",
];

/// A stable readable name for an agent id (`GreenCastle`), from its FNV-1a hash.
pub fn readable_name(id: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!(
        "{}{}",
        ADJECTIVES[(h & 31) as usize],
        NOUNS[((h >> 5) & 31) as usize]
    )
}

/// One hook event, normalized across platforms (DESIGN §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Platform name (`claude`).
    pub platform: String,
    /// The platform's event name (`PreToolUse`).
    pub native_event: String,
    /// Normalized kind.
    pub kind: Kind,
    /// Tool name, for tool events.
    pub tool: Option<String>,
    /// Who.
    pub agent: Agent,
    /// Absolute working directory.
    pub cwd: String,
    /// Absolute repository root, inside git.
    pub repo_root: Option<String>,
    /// Paths written (normalized).
    pub writes: Vec<String>,
    /// Paths deleted (normalized).
    pub deletes: Vec<String>,
    /// Paths read (normalized).
    pub reads: Vec<String>,
    /// Shell command.
    pub command: Option<String>,
    /// User prompt.
    pub prompt: Option<String>,
    /// True where the file system folds case.
    #[serde(default)]
    pub case_insensitive: bool,
    /// The platform's raw payload (not stored in the audit log).
    #[serde(skip)]
    pub raw_json: String,
    /// What the shell analysis could not settle about `command` (its paths
    /// are already in `writes`, `deletes` and `reads`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<crate::enrich::Enriched>,
    /// The platform the payload looks like, when that is not the platform
    /// named on the command line (recorded in the audit log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sniffed: Option<String>,
    /// On a turn's end: the platform says a stop hook already made the
    /// agent continue (`stop_hook_active`, Cursor's `loop_count`), so this
    /// one must not hold it up again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stop_active: bool,
}

/// One finding from a validator, as the host keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Rule id.
    pub rule: String,
    /// What the validator asked for.
    pub outcome: Outcome,
    /// Message for the agent or human.
    pub message: String,
    /// Paths concerned.
    pub paths: Vec<String>,
    /// Docs link.
    pub docs: Option<String>,
}
