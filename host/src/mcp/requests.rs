//! The negotiation tools: `request_release`, `respond`, `requests` — the
//! library calls of `hookgate request-release`, `respond` and `requests`,
//! answering with their `--json` output. A request that waits for its answer
//! polls without holding the server (other calls are served meanwhile).

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::{schemars, tool, tool_router};
use serde::Deserialize;
use serde_json::Value;

use crate::coordination::requests::{self, Ask, RequestView, Response, Target, Urgency};
use crate::store::now_ms;

use super::session::{duration, ms, ttl_ms, ToolError};
use super::tools::ModeArg;
use super::{answer, refusal, result, Server};

/// How urgent a release request is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UrgencyArg {
    /// At the holder's convenience, within the deadline (default).
    #[default]
    Normal,
    /// As soon as possible.
    Urgent,
}

/// The holder's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResponseArg {
    /// Release now: the requester gets the reservation.
    Release,
    /// Not yet: give an `eta`.
    Defer,
}

/// Arguments of `request_release`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestReleaseArgs {
    /// One reservation id (`r12`), or the glob patterns you need (relative
    /// to the project directory): every reservation in the way is asked for.
    pub target: Vec<String>,
    /// The mode you want to hold it in: exclusive (default), shared or intent.
    #[serde(default)]
    pub mode: ModeArg,
    /// Lease you want when it passes to you: `30m` (default: the policy's default_ttl).
    #[serde(default)]
    pub ttl: Option<String>,
    /// normal (default) or urgent.
    #[serde(default)]
    pub urgency: UrgencyArg,
    /// Why you need it; shown to the holder.
    #[serde(default)]
    pub reason: Option<String>,
    /// Escalate after this long (`5m`; default: the policy's timeout) and
    /// wait up to that long for the answer before returning.
    #[serde(default)]
    pub wait: Option<String>,
}

/// Arguments of `respond`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RespondArgs {
    /// The release request: `rq5` or 5.
    pub id: RequestId,
    /// release (it passes to the requester now) or defer.
    pub answer: ResponseArg,
    /// With defer: when you expect to release (`10m`).
    #[serde(default)]
    pub eta: Option<String>,
    /// A note for the requester.
    #[serde(default)]
    pub note: Option<String>,
}

/// Arguments of `requests`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestsArgs {
    /// Closed requests too (granted, expired).
    #[serde(default)]
    pub all: bool,
    /// Every agent's requests, not only those you made or were asked.
    #[serde(default)]
    pub everyone: bool,
}

/// The views as `request-release --json` prints them.
fn views_json(v: &[RequestView]) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// A release request id: `rq5` or 5.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum RequestId {
    /// 5.
    Number(i64),
    /// `rq5`.
    Label(String),
}

impl RequestId {
    fn get(&self) -> Result<i64, ToolError> {
        let (n, shown) = match self {
            RequestId::Number(n) => (Some(*n).filter(|n| *n > 0), n.to_string()),
            RequestId::Label(s) => (requests::parse_id(s), s.clone()),
        };
        n.ok_or_else(|| {
            ToolError::Invalid(format!(
                "`{shown}` is not a release request id; use rq5 or 5"
            ))
        })
    }
}

#[tool_router(router = request_tools, vis = "pub(crate)")]
impl Server {
    /// `request_release`.
    #[tool(
        description = "Ask the holder of a reservation you need to release it to you: give its id (`r12`) or the \
patterns you need. The holder hears at its next hook and answers release (the reservation passes to you at once, no \
third agent can slip in) or defer with an ETA; unanswered past the deadline it escalates. With `wait`, waits that long \
for the answer; isError when it was not granted."
    )]
    pub async fn request_release(
        &self,
        Parameters(args): Parameters<RequestReleaseArgs>,
    ) -> CallToolResult {
        let made = (|| -> Result<_, ToolError> {
            let mut st = self.state();
            let ws = st.workspace()?;
            let target = Target::parse(&ws.paths, &args.target)?;
            let wait = args
                .wait
                .as_deref()
                .map(|w| duration("wait", w))
                .transpose()?;
            let ttl_ms = ttl_ms(args.ttl.as_deref(), &ws.rctx)?;
            let ask = Ask {
                target,
                mode: args.mode.into(),
                ttl_ms,
                urgency: match args.urgency {
                    UrgencyArg::Normal => Urgency::Normal,
                    UrgencyArg::Urgent => Urgency::Urgent,
                },
                reason: args.reason.clone().unwrap_or_default(),
                wait_ms: wait.map(ms),
            };
            let (settings, rctx) = (ws.policy.coordination.requests(), ws.rctx);
            let store_path = ws.store_path.clone();
            let me = st.caller("request-release", None)?;
            let now = now_ms();
            let made = st.store()?.write_leases(|tx| -> Result<_, ToolError> {
                Ok(requests::request(
                    tx, &me.agent, &ask, &settings, &rctx, now,
                )?)
            })?;
            Ok((made, wait, settings, rctx, store_path, me.notices))
        })();
        let (made, wait, settings, rctx, store_path, notices) = match made {
            Ok(m) => m,
            Err(e) => return result(Err(e)),
        };
        let Some(wait) = wait else {
            return answer(&views_json(&made), &notices);
        };
        // The wait runs off the runtime's thread, with the state unlocked.
        let ids: Vec<i64> = made.iter().map(|q| q.id).collect();
        let waited = tokio::task::spawn_blocking(move || {
            requests::wait_settled(&store_path, &ids, &settings, &rctx, wait)
        })
        .await;
        let views = match waited {
            Ok(Ok((views, _))) => views,
            Ok(Err(e)) => return result(Err(e.into())),
            Err(e) => return result(Err(ToolError::Invalid(format!("the wait failed: {e}")))),
        };
        let v = views_json(&views);
        if requests::all_granted(&views) {
            answer(&v, &notices)
        } else {
            refusal(&v, &notices)
        }
    }

    /// `respond`.
    #[tool(
        description = "Answer a release request made to you (`rq5`): `release` passes the reservation to the requester \
now; `defer` keeps it, with an `eta` and a `note` for the requester."
    )]
    pub async fn respond(&self, Parameters(args): Parameters<RespondArgs>) -> CallToolResult {
        result((|| -> Result<CallToolResult, ToolError> {
            let mut st = self.state();
            let rctx = st.workspace()?.rctx;
            let id = args.id.get()?;
            let eta_ms = args
                .eta
                .as_deref()
                .map(|e| duration("eta", e).map(ms))
                .transpose()?;
            let me = st.caller("respond", None)?;
            let answer_kind = match args.answer {
                ResponseArg::Release => Response::Release,
                ResponseArg::Defer => Response::Defer,
            };
            let note = args.note.clone().unwrap_or_default();
            let now = now_ms();
            let q = st.store()?.write_leases(|tx| -> Result<_, ToolError> {
                let reply = requests::Reply {
                    response: answer_kind,
                    eta_ms,
                    note: &note,
                };
                Ok(requests::respond(tx, &me.agent, id, &reply, &rctx, now)?)
            })?;
            Ok(answer(
                &serde_json::to_value(&q).unwrap_or(Value::Null),
                &me.notices,
            ))
        })())
    }

    /// `requests`.
    #[tool(
        description = "Release requests you made or were asked (open ones; `all: true` adds closed ones, `everyone: \
true` every agent's), each with its history: who asked whom for what, state (pending, deferred, granted, escalated, \
expired), ETA and note."
    )]
    pub async fn requests(&self, Parameters(args): Parameters<RequestsArgs>) -> CallToolResult {
        result((|| -> Result<CallToolResult, ToolError> {
            let mut st = self.state();
            let ws = st.workspace()?;
            let (settings, rctx) = (ws.policy.coordination.requests(), ws.rctx);
            let me = st.caller("requests", None)?;
            let who = (!args.everyone).then(|| me.agent.id.clone());
            let now = now_ms();
            let list = st.store()?.write_leases(|tx| -> Result<_, ToolError> {
                Ok(requests::list_with_history(
                    tx,
                    &settings,
                    &rctx,
                    who.as_deref(),
                    args.all,
                    now,
                )?)
            })?;
            Ok(answer(&requests::history_json(&list), &me.notices))
        })())
    }
}
