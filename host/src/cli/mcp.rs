//! `mcp`: the MCP server over stdio.

use std::process::ExitCode;

use anyhow::Context as _;

use super::Cli;

/// Serve until the client closes stdin. The agent is `--agent` /
/// `HOOKGATE_AGENT`, else the one the session's hooks recorded.
pub fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("current directory")?;
    hookgate::mcp::serve_stdio(hookgate::mcp::Options {
        cwd,
        store: cli.store.clone(),
        policy: cli.policy.clone(),
        agent: cli.agent.clone(),
        name: cli.name.clone(),
    })?;
    Ok(ExitCode::SUCCESS)
}
