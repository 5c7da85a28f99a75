//! The reservation tools: `whoami`, `reserve`, `release`, `extend`, `check`,
//! `locks`, `agents`. Each validates its arguments, then records the call as
//! the caller's heartbeat, then calls what the CLI command calls and answers
//! with the CLI's `--json` output.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::{schemars, tool, tool_router};
use serde::Deserialize;

use crate::presence;
use crate::reservations::{self, report, Grant, Mode, Request};
use crate::store::now_ms;

use super::session::{duration, duration_ms, ttl_ms, ToolError};
use super::{answer, refusal, result, Server};

/// A reservation mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ModeArg {
    /// "I write this": coexists with nothing (the default).
    #[default]
    Exclusive,
    /// "I read this and rely on it": coexists with shared and intent.
    Shared,
    /// "I am about to write": coexists with shared and intent.
    Intent,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Mode {
        match m {
            ModeArg::Exclusive => Mode::Exclusive,
            ModeArg::Shared => Mode::Shared,
            ModeArg::Intent => Mode::Intent,
        }
    }
}

/// Arguments of `whoami`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WhoamiArgs {
    /// Set your readable name (1-40 letters, digits, - or _), unique in the store.
    #[serde(default)]
    pub name: Option<String>,
}

/// Arguments of `reserve`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReserveArgs {
    /// Glob patterns, relative to the project directory: `src/auth/**`, `docs`
    /// (a plain path is that file or directory and everything under it),
    /// `!src/auth/gen/**` to exclude. All are granted together or none.
    pub patterns: Vec<String>,
    /// exclusive (default), shared or intent.
    #[serde(default)]
    pub mode: ModeArg,
    /// Lease length: `30m`, `2h`, `45s` (default: the policy's default_ttl, 30m).
    #[serde(default)]
    pub ttl: Option<String>,
    /// Why you reserve; shown to agents that are refused.
    #[serde(default)]
    pub reason: Option<String>,
    /// Wait in a fair queue up to this long (`2m`) instead of failing at once.
    #[serde(default)]
    pub wait: Option<String>,
}

/// Arguments of `release`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseArgs {
    /// Reservation ids (`r12`) or the patterns you reserved.
    #[serde(default)]
    pub targets: Vec<String>,
    /// Release all of your reservations (then give no targets).
    #[serde(default)]
    pub all: bool,
}

/// Arguments of `extend`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendArgs {
    /// Reservation ids (`r12`) or the patterns you reserved.
    #[serde(default)]
    pub targets: Vec<String>,
    /// Extend all of your reservations (then give no targets).
    #[serde(default)]
    pub all: bool,
    /// How much longer: `30m` (default), `2h`.
    #[serde(default)]
    pub by: Option<String>,
}

/// Arguments of `check`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckArgs {
    /// Paths to check, relative to the project directory or absolute.
    pub paths: Vec<String>,
}

/// Arguments of `locks`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LocksArgs {
    /// Only your reservations.
    #[serde(default)]
    pub mine: bool,
    /// Only this agent's (id or name).
    #[serde(default)]
    pub of: Option<String>,
}

/// Arguments of `agents`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentsArgs {
    /// Include agents that are gone and hold nothing.
    #[serde(default)]
    pub all: bool,
}

/// A reservation request, checked and recorded as a heartbeat: either
/// answered already (no wait), or to be waited for.
type Prepared = Result<
    (
        i64,
        Request,
        super::Caller,
        reservations::Context,
        std::path::PathBuf,
    ),
    (Grant, Request, super::Caller),
>;

#[tool_router(router = reservation_tools, vis = "pub(crate)")]
impl Server {
    /// `whoami`.
    #[tool(
        description = "Who hookgate thinks you are: your agent id, readable name, session, platform, where the identity \
comes from (your session's hooks, or HOOKGATE_AGENT) and your live reservations. Pass `name` to choose your readable name."
    )]
    pub async fn whoami(&self, Parameters(args): Parameters<WhoamiArgs>) -> CallToolResult {
        result((|| -> Result<CallToolResult, ToolError> {
            let mut st = self.state();
            st.workspace()?;
            let me = st.caller("whoami", args.name.as_deref())?;
            let ws = st.ws()?;
            let (store_path, rctx) = (ws.store_path.clone(), ws.rctx);
            let conn = st.store()?.connection();
            let now = now_ms();
            let rec = presence::find(conn, &me.agent.id)?;
            let holds = reservations::list(conn, Some(&me.agent.id), now, &rctx)?;
            let platform = rec.map_or_else(|| "cli".to_string(), |r| r.platform);
            let v = report::whoami_json(&report::Whoami {
                agent: &me.agent,
                name: &me.name,
                platform: &platform,
                identity_from: &me.source.describe(),
                store: &store_path,
                holds: &holds,
            });
            Ok(answer(&v, &me.notices))
        })())
    }

    /// `reserve`.
    #[tool(
        description = "Reserve glob patterns before you edit files other agents may touch. Granted: the reservation id and \
expiry. Refused (isError): each conflicting holder with its patterns, mode, reason, expiry and whether it is active, \
and what to do next. Another agent's write to what you hold exclusively is denied. Reserving the same patterns and \
mode again renews the lease. Modes: exclusive (I write), shared (I rely on it), intent (I am about to write)."
    )]
    pub async fn reserve(&self, Parameters(args): Parameters<ReserveArgs>) -> CallToolResult {
        let prepared = (|| -> Result<Prepared, ToolError> {
            let mut st = self.state();
            let ws = st.workspace()?;
            let ttl_ms = ttl_ms(args.ttl.as_deref(), &ws.rctx)?;
            let wait = args
                .wait
                .as_deref()
                .map(|w| duration_ms("wait", w))
                .transpose()?;
            let patterns = report::normalize_all(&ws.paths, &args.patterns)?;
            let req = Request {
                patterns,
                mode: args.mode.into(),
                ttl_ms,
                reason: reservations::check_reason(args.reason.as_deref().unwrap_or(""))?,
                auto: false,
            };
            let (rctx, store_path) = (ws.rctx, ws.store_path.clone());
            let me = st.caller("reserve", None)?;
            match wait {
                None => {
                    let store = st.store()?;
                    let grant = reservations::acquire(store, &me.agent, "cli", &req, &rctx)?;
                    Ok(Err((grant, req, me)))
                }
                Some(w) => Ok(Ok((w, req, me, rctx, store_path))),
            }
        })();
        // A wait runs off the runtime's thread, with the state unlocked.
        let done = match prepared {
            Err(e) => Err(e),
            Ok(Err(now)) => Ok(now),
            Ok(Ok((w, req, me, rctx, store_path))) => {
                let agent = me.agent.clone();
                let req2 = req.clone();
                let wait = std::time::Duration::from_millis(u64::try_from(w).unwrap_or(0));
                match tokio::task::spawn_blocking(move || {
                    reservations::acquire_waiting(&store_path, &agent, "cli", &req2, &rctx, wait)
                })
                .await
                {
                    Ok(Ok(grant)) => Ok((grant, req, me)),
                    Ok(Err(e)) => Err(e.into()),
                    Err(e) => Err(ToolError::Invalid(format!("the wait failed: {e}"))),
                }
            }
        };
        result(done.map(|(grant, req, me)| {
            let v = report::grant_json(&grant, &req, &me.agent.id, &me.name, now_ms());
            match grant {
                Grant::Granted { .. } => answer(&v, &me.notices),
                Grant::Refused { .. } => refusal(&v, &me.notices),
            }
        }))
    }

    /// `release`.
    #[tool(
        description = "Release your reservations: by id (`r12`), by the patterns you reserved, or all of them with \
`all: true`. Answers the reservations released (an empty list when nothing matched)."
    )]
    pub async fn release(&self, Parameters(args): Parameters<ReleaseArgs>) -> CallToolResult {
        result((|| -> Result<CallToolResult, ToolError> {
            let mut st = self.state();
            let ws = st.workspace()?;
            let sel = report::selector(&ws.paths, &args.targets, args.all)?;
            let (settings, rctx) = (ws.policy.coordination, ws.rctx);
            let me = st.caller("release", None)?;
            let now = now_ms();
            let done = crate::coordination::changes::release(
                st.store()?,
                &me.agent,
                &sel,
                &settings,
                &rctx,
                now,
            )?;
            Ok(answer(
                &report::changed_json("released", &done),
                &me.notices,
            ))
        })())
    }

    /// `extend`.
    #[tool(
        description = "Push the expiry of your reservations out by `by` (default 30m, at most the policy's max_ttl): by \
id (`r12`), by pattern, or all with `all: true`. Answers the reservations extended and their new expiry."
    )]
    pub async fn extend(&self, Parameters(args): Parameters<ExtendArgs>) -> CallToolResult {
        result((|| -> Result<CallToolResult, ToolError> {
            let mut st = self.state();
            let ws = st.workspace()?;
            let sel = report::selector(&ws.paths, &args.targets, args.all)?;
            let by = duration("by", args.by.as_deref().unwrap_or("30m"))?;
            let rctx = ws.rctx;
            let me = st.caller("extend", None)?;
            let now = now_ms();
            let done = reservations::extend(st.store()?, &me.agent.id, &sel, by, &rctx, now)?;
            Ok(answer(
                &report::changed_json("extended", &done),
                &me.notices,
            ))
        })())
    }

    /// `check`.
    #[tool(
        description = "Who holds these paths: for each path, `free` (no other live agent holds it, so a write there is \
allowed), the other agents' reservations that cover it (holder, mode, reason, expiry, whether active) and your own."
    )]
    pub async fn check(&self, Parameters(args): Parameters<CheckArgs>) -> CallToolResult {
        result((|| -> Result<CallToolResult, ToolError> {
            let mut st = self.state();
            st.workspace()?;
            let me = match st.identify()? {
                Some(_) => Some(st.caller("check", None)?),
                None => None,
            };
            let ws = st.ws()?;
            let (paths, rctx) = (ws.paths.clone(), ws.rctx);
            let id = me.as_ref().map(|m| m.agent.id.clone()).unwrap_or_default();
            let now = now_ms();
            let conn = st.store()?.connection();
            let out = report::check_paths(conn, &paths, &rctx, &id, &args.paths, now)?;
            let notices = me.map(|m| m.notices).unwrap_or_default();
            Ok(answer(&report::check_json(&out, &id, now), &notices))
        })())
    }

    /// `locks`.
    #[tool(
        description = "Every live reservation with its holder's presence (active, idle, stale, gone), patterns, mode, \
reason and expiry; `mine: true` for yours only, `of` for one agent's (id or name)."
    )]
    pub async fn locks(&self, Parameters(args): Parameters<LocksArgs>) -> CallToolResult {
        result((|| -> Result<CallToolResult, ToolError> {
            let mut st = self.state();
            st.workspace()?;
            let me = match st.identify()? {
                Some(_) => Some(st.caller("locks", None)?),
                None if args.mine => return Err(st.no_identity()),
                None => None,
            };
            let rctx = st.ws()?.rctx;
            let id = me.as_ref().map(|m| m.agent.id.clone()).unwrap_or_default();
            let now = now_ms();
            let conn = st.store()?.connection();
            let filter = match (args.mine, args.of.as_deref()) {
                (true, _) => Some(id.clone()),
                (false, Some(who)) => match presence::find(conn, who)? {
                    Some(a) => Some(a.id),
                    None => {
                        return Err(ToolError::Invalid(format!(
                            "no agent `{who}` in this store; see the `agents` tool"
                        )))
                    }
                },
                _ => None,
            };
            let holds = reservations::list(conn, filter.as_deref(), now, &rctx)?;
            let notices = me.map(|m| m.notices).unwrap_or_default();
            Ok(answer(&report::locks_json(&holds, &id, now), &notices))
        })())
    }

    /// `agents`.
    #[tool(
        description = "The agents working in this repository: id, readable name, platform, presence (active, idle, \
stale; `all: true` adds gone ones), last action and how many reservations each holds; `you` marks yourself."
    )]
    pub async fn agents(&self, Parameters(args): Parameters<AgentsArgs>) -> CallToolResult {
        result((|| -> Result<CallToolResult, ToolError> {
            let mut st = self.state();
            st.workspace()?;
            let me = match st.identify()? {
                Some(_) => Some(st.caller("agents", None)?),
                None => None,
            };
            let rctx = st.ws()?.rctx;
            let id = me.as_ref().map(|m| m.agent.id.clone()).unwrap_or_default();
            let now = now_ms();
            let conn = st.store()?.connection();
            let rows = report::roster(conn, &rctx, args.all, now)?;
            let notices = me.map(|m| m.notices).unwrap_or_default();
            Ok(answer(&report::agents_json(&rows, &id, now), &notices))
        })())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_of_the_wrong_type_or_name_are_refused() {
        let ok: ReserveArgs =
            serde_json::from_value(serde_json::json!({"patterns": ["src/**"], "mode": "shared"}))
                .unwrap();
        assert_eq!(ok.mode, ModeArg::Shared);
        for bad in [
            serde_json::json!({"patterns": "src/**"}),
            serde_json::json!({"patterns": [1]}),
            serde_json::json!({"patterns": ["a"], "mode": "loud"}),
            serde_json::json!({"patterns": ["a"], "ttl": 30}),
            serde_json::json!({"patterns": ["a"], "patern": "x"}),
            serde_json::json!({}),
        ] {
            assert!(
                serde_json::from_value::<ReserveArgs>(bad.clone()).is_err(),
                "{bad}"
            );
        }
        assert!(serde_json::from_value::<ReleaseArgs>(serde_json::json!({"all": "yes"})).is_err());
        assert!(serde_json::from_value::<CheckArgs>(serde_json::json!({"paths": null})).is_err());
    }

    #[test]
    fn durations_must_parse() {
        assert_eq!(duration_ms("ttl", "2m").unwrap(), 120_000);
        let e = duration_ms("ttl", "soon").unwrap_err().to_string();
        assert!(e.starts_with("ttl: "), "{e}");
    }
}
