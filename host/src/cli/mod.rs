//! Command-line interface (DESIGN §6). Usage and internal errors exit 1 with
//! one line on stderr; `hook` always answers validly and exits 0.

mod agents;
mod commit;
mod demo;
mod doctor;
mod effects;
mod explain;
mod git;
mod hook;
mod init;
mod mcp;
mod messages;
mod policy;
mod report;
mod requests;
mod reserve;
mod session;
mod status;
mod task;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// One binary that every agent platform calls on every hook event.
#[derive(Parser, Debug)]
#[command(name = "hookgate", version, about)]
pub struct Cli {
    /// Store database (default: <git common dir>/hookgate/state.db) [env: HOOKGATE_STORE]
    #[arg(long, global = true, env = "HOOKGATE_STORE")]
    store: Option<PathBuf>,
    /// Agent id override [env: HOOKGATE_AGENT]
    #[arg(long, global = true, env = "HOOKGATE_AGENT")]
    agent: Option<String>,
    /// Policy file layered over the built-in default and .hookgate/policy.toml [env: HOOKGATE_POLICY]
    #[arg(long, global = true, env = "HOOKGATE_POLICY")]
    policy: Option<PathBuf>,
    /// Machine-readable output on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// Readable name for this agent, unique in the store (default: derived from its id) [env: HOOKGATE_NAME]
    #[arg(long, global = true, env = "HOOKGATE_NAME")]
    name: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Read one hook payload on stdin and answer in the platform's dialect.
    Hook {
        /// Platform: claude, gemini, cursor, windsurf, codex, copilot, vscode, cline, kiro, droid, qwen.
        platform: String,
        /// The platform's event name, when the payload does not carry it.
        #[arg(long)]
        event: Option<String>,
    },
    /// Like `hook`, but show each validator's findings, stage, effective outcome and time.
    Explain {
        /// Platform.
        platform: String,
        /// Event name, when the payload does not carry it.
        #[arg(long)]
        event: Option<String>,
    },
    /// Validate policies.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Summarize the audit log per validator and rule.
    Report {
        /// Window: 30m, 12h, 7d.
        #[arg(long, default_value = "7d")]
        since: String,
    },
    /// Run logged events through the current policy and show changed decisions.
    Replay {
        /// Window: 30m, 12h, 7d.
        #[arg(long, default_value = "7d")]
        since: String,
        /// Most events replayed.
        #[arg(long, default_value_t = 10_000)]
        limit: u32,
    },
    /// What a shell command writes, deletes and reads (static analysis; nothing runs).
    Effects {
        /// The shell's working directory (default: this one).
        #[arg(long)]
        cwd: Option<PathBuf>,
        /// Look at the file system as the hook does: globs and `find` become
        /// the files they match now (default: patterns stay patterns).
        #[arg(long)]
        look: bool,
        /// The command line, after `--`.
        #[arg(required = true, last = true)]
        command: Vec<String>,
    },
    /// Reserve glob patterns; exit 3 when another agent's reservation conflicts.
    Reserve {
        /// Patterns (`src/auth/**`, `docs`, `!src/auth/gen/**`), relative to this directory.
        #[arg(required = true)]
        patterns: Vec<String>,
        /// exclusive (I write), shared (I rely on it), intent (I am about to write).
        #[arg(long, value_enum, default_value = "exclusive")]
        mode: hookgate::reservations::Mode,
        /// Lease (default: policy [reservations] default_ttl, 30m).
        #[arg(long)]
        ttl: Option<String>,
        /// Why; shown to agents that are refused.
        #[arg(long)]
        reason: Option<String>,
        /// Wait in a fair queue up to this long (2m) instead of failing at once.
        #[arg(long)]
        wait: Option<String>,
    },
    /// Release your reservations by pattern or id (r12), or --all.
    Release {
        /// Patterns or reservation ids.
        targets: Vec<String>,
        /// Release all of yours.
        #[arg(long)]
        all: bool,
    },
    /// Push your reservations' expiry out.
    Extend {
        /// Patterns or reservation ids.
        targets: Vec<String>,
        /// All of yours.
        #[arg(long)]
        all: bool,
        /// How much longer.
        #[arg(long, default_value = "30m")]
        by: String,
    },
    /// Who holds these paths; exit 3 when another agent does.
    Check {
        /// Paths.
        paths: Vec<String>,
    },
    /// List live reservations.
    Locks {
        /// Only yours.
        #[arg(long)]
        mine: bool,
        /// Only this agent's (id or name).
        #[arg(long = "of")]
        of: Option<String>,
    },
    /// List agents and their presence (active, idle, stale; --all adds gone ones).
    Agents {
        /// Include agents that are gone and hold nothing.
        #[arg(long)]
        all: bool,
    },
    /// Show who hookgate thinks you are.
    Whoami {
        /// Set your role (`reviewer`, `operator` …): messages to `role:NAME` reach you.
        #[arg(long)]
        role: Option<String>,
    },
    /// Send a message to agents: by id or name, `role:NAME`, or `all`. It reaches them at their next hook.
    Send {
        /// Recipient (repeatable, or comma-separated): id, name, role:NAME, all.
        #[arg(long, required = true)]
        to: Vec<String>,
        /// Thread, to group a conversation.
        #[arg(long)]
        thread: Option<String>,
        /// low, normal, high, urgent.
        #[arg(long, value_enum, default_value = "normal")]
        importance: hookgate::coordination::messages::Importance,
        /// Ask recipients to acknowledge it (`hookgate ack`); a directed one holds up their turn's end once.
        #[arg(long)]
        ack: bool,
        /// Read the message from this file.
        #[arg(long)]
        file: Option<PathBuf>,
        /// The message (`-` reads stdin).
        text: Vec<String>,
    },
    /// List your messages (unread first, a page at a time; subjects only).
    Inbox {
        /// Only unread ones.
        #[arg(long)]
        unread: bool,
        /// Only those addressed to you by id or name.
        #[arg(long)]
        directed: bool,
        /// Only those that ask for acknowledgement and have none.
        #[arg(long)]
        unacked: bool,
        /// Only those about paths you hold (changes, release requests).
        #[arg(long)]
        about_mine: bool,
        /// Only this thread.
        #[arg(long)]
        thread: Option<String>,
        /// Messages per page.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Page (1 is the first).
        #[arg(long, default_value_t = 1)]
        page: usize,
    },
    /// Show one message in full (framed as another agent's text) and mark it read.
    Read {
        /// Message id (m12).
        id: String,
    },
    /// Acknowledge messages.
    Ack {
        /// Message ids (m12).
        ids: Vec<String>,
        /// All of yours.
        #[arg(long)]
        all: bool,
    },
    /// Ask the holder of a reservation to hand it over; it passes to you the moment they release.
    RequestRelease {
        /// A reservation id (r12), or patterns you want.
        #[arg(required = true)]
        target: Vec<String>,
        /// normal or urgent.
        #[arg(long, value_enum, default_value = "normal")]
        urgency: hookgate::coordination::requests::Urgency,
        /// Wait this long for the answer (exit 0 granted, 3 not); also the deadline after which it escalates.
        #[arg(long)]
        wait: Option<String>,
        /// Why (the holder sees it).
        #[arg(long)]
        reason: Option<String>,
        /// Mode you want.
        #[arg(long, value_enum, default_value = "exclusive")]
        mode: hookgate::reservations::Mode,
        /// Lease you want (default: policy default_ttl).
        #[arg(long)]
        ttl: Option<String>,
    },
    /// Answer a release request made to you: release (it passes to the requester) or defer.
    Respond {
        /// Request id (rq5).
        id: String,
        /// release or defer.
        #[arg(value_enum)]
        answer: hookgate::coordination::requests::Response,
        /// When you expect to release (defer).
        #[arg(long)]
        eta: Option<String>,
        /// A note for the requester.
        #[arg(long)]
        note: Option<String>,
    },
    /// Release requests you made or were asked, with every step.
    Requests {
        /// Include settled ones.
        #[arg(long)]
        all: bool,
        /// Everyone's, not only yours.
        #[arg(long)]
        everyone: bool,
    },
    /// One screen: who is active, on what task, holding what, waiting for what, the last messages.
    Status,
    /// Release another agent's reservation (operator); audited, and the holder is told.
    ForceRelease {
        /// Reservation ids (r12) or patterns.
        #[arg(required = true)]
        targets: Vec<String>,
        /// Why (required; the holder sees it).
        #[arg(long, required = true)]
        reason: String,
    },
    /// Wire a repository: .hookgate/policy.toml and the Claude Code hooks.
    Init {
        /// Show what would change, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// The hookgate executable the hooks run (default: `hookgate` if on PATH, else this binary).
        #[arg(long)]
        bin: Option<String>,
        /// Repository root (default: the current git work tree).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Platforms to wire (repeatable; default: those found in the repository and the home directory).
        #[arg(long = "platform")]
        platforms: Vec<String>,
        /// Do not register hookgate's MCP server (`hookgate mcp`) in the platforms' MCP configuration.
        #[arg(long)]
        no_mcp: bool,
        /// Do not install git's pre-commit and pre-push hooks (`hookgate git …`).
        #[arg(long)]
        no_git_hooks: bool,
    },
    /// Take hookgate's hook entries out of the platforms' configuration.
    Uninstall {
        /// Show what would change, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Repository root (default: the current git work tree).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Platforms (repeatable; default: all).
        #[arg(long = "platform")]
        platforms: Vec<String>,
    },
    /// Check each wired platform, the policy and the store; print what to fix.
    Doctor {
        /// Repository root (default: the current git work tree).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Platforms (repeatable; default: every platform with a configuration file).
        #[arg(long = "platform")]
        platforms: Vec<String>,
    },
    /// Commit your own changes through a private index, under the repository's commit lock.
    Commit {
        /// The message (repeatable: each is a paragraph).
        #[arg(short = 'm', long = "message")]
        message: Vec<String>,
        /// Read the message from FILE (`-`: stdin).
        #[arg(short = 'F', long = "file")]
        file: Option<PathBuf>,
        /// Show what would be committed and why each change is (or is not) yours; commit nothing.
        #[arg(long)]
        dry_run: bool,
        /// Files or directories (default: the changes that are yours: written by you, or reserved by you).
        paths: Vec<String>,
    },
    /// git's hooks, as `hookgate init` installs them: pre-commit and pre-push guards.
    Git {
        #[command(subcommand)]
        hook: git::GitHook,
    },
    /// Serve the coordination tools over MCP on stdin/stdout (for the agent platform to spawn).
    Mcp,
    /// The task board: add, list, claim, next, done, block, unblock.
    Task {
        #[command(subcommand)]
        command: task::TaskCommand,
    },
    /// Play a short scene in a scratch git repository through the real event path.
    Demo {
        /// Keep the scratch repository and print its path.
        #[arg(long)]
        keep: bool,
    },
}

#[derive(Subcommand, Debug)]
enum PolicyCommand {
    /// Validate the effective policy (or FILE layered over the default).
    Check {
        /// Policy file to check.
        file: Option<PathBuf>,
        /// List every stage lowered and rule removed relative to git revision REV.
        #[arg(long)]
        against: Option<String>,
    },
    /// Print the JSON Schema of the policy format.
    Schema,
}

/// Parse `30m`, `12h`, `7d`, `45s`.
pub fn parse_duration(s: &str) -> anyhow::Result<Duration> {
    Ok(hookgate::duration::parse(s)?)
}

/// Entry point.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some((platform, opts)) = hook::fast_args(&args) {
        return hook::run(&platform, opts);
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let json = cli.json;
    let result = match cli.command {
        Command::Hook {
            ref platform,
            ref event,
        } => return hook::run(platform, cli.hook_options(event.clone(), true)),
        Command::Explain {
            ref platform,
            ref event,
        } => explain::run(&cli, platform, event.clone(), json),
        Command::Policy {
            command:
                PolicyCommand::Check {
                    ref file,
                    ref against,
                },
        } => policy::check(&cli, file.as_deref(), against.as_deref(), json),
        Command::Policy {
            command: PolicyCommand::Schema,
        } => {
            print!("{}", hookgate::policy::json_schema());
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { ref since } => report::report(&cli, since, json),
        Command::Replay { ref since, limit } => report::replay(&cli, since, limit, json),
        Command::Init {
            dry_run,
            ref bin,
            ref dir,
            ref platforms,
            no_mcp,
            no_git_hooks,
        } => init::run(
            &cli,
            dry_run,
            bin.clone(),
            dir.clone(),
            platforms,
            !no_mcp,
            !no_git_hooks,
        ),
        Command::Uninstall {
            dry_run,
            ref dir,
            ref platforms,
        } => init::uninstall(dry_run, dir.clone(), platforms),
        Command::Doctor {
            ref dir,
            ref platforms,
        } => doctor::run(dir.clone(), platforms, json),
        Command::Demo { keep } => demo::run(keep),
        Command::Task { ref command } => task::run(&cli, command, json),
        Command::Mcp => mcp::run(&cli),
        Command::Commit {
            ref message,
            ref file,
            dry_run,
            ref paths,
        } => commit::run(
            &cli,
            &commit::Args {
                messages: message,
                file: file.as_deref(),
                dry_run,
                paths,
            },
            json,
        ),
        Command::Git { ref hook } => git::run(&cli, hook),
        Command::Effects {
            ref cwd,
            look,
            ref command,
        } => effects::run(cwd.as_deref(), &command.join(" "), look, json),
        Command::Reserve {
            ref patterns,
            mode,
            ref ttl,
            ref reason,
            ref wait,
        } => reserve::reserve(
            &cli,
            patterns,
            mode,
            ttl.as_deref(),
            reason.as_deref(),
            wait.as_deref(),
            json,
        ),
        Command::Release { ref targets, all } => reserve::release(&cli, targets, all, json),
        Command::Extend {
            ref targets,
            all,
            ref by,
        } => reserve::extend(&cli, targets, all, by, json),
        Command::Check { ref paths } => reserve::check(&cli, paths, json),
        Command::Locks { mine, ref of } => reserve::locks(&cli, mine, of.as_deref(), json),
        Command::Agents { all } => agents::agents(&cli, all, json),
        Command::Whoami { ref role } => agents::whoami(&cli, role.as_deref(), json),
        Command::Send {
            ref to,
            ref thread,
            importance,
            ack,
            ref file,
            ref text,
        } => messages::send(
            &cli,
            &messages::SendArgs {
                to,
                text,
                file: file.as_deref(),
                thread: thread.as_deref(),
                importance,
                ack,
            },
            json,
        ),
        Command::Inbox {
            unread,
            directed,
            unacked,
            about_mine,
            ref thread,
            limit,
            page,
        } => messages::inbox(
            &cli,
            &messages::InboxArgs {
                unread,
                directed,
                unacked,
                about_mine,
                thread: thread.as_deref(),
                limit,
                page,
            },
            json,
        ),
        Command::Read { ref id } => messages::read(&cli, id, json),
        Command::Ack { ref ids, all } => messages::ack(&cli, ids, all, json),
        Command::RequestRelease {
            ref target,
            urgency,
            ref wait,
            ref reason,
            mode,
            ref ttl,
        } => requests::request_release(
            &cli,
            &requests::AskArgs {
                target,
                urgency,
                wait: wait.as_deref(),
                reason: reason.as_deref(),
                mode,
                ttl: ttl.as_deref(),
            },
            json,
        ),
        Command::Respond {
            ref id,
            answer,
            ref eta,
            ref note,
        } => requests::respond(&cli, id, answer, eta.as_deref(), note.as_deref(), json),
        Command::Requests { all, everyone } => requests::list(&cli, all, everyone, json),
        Command::Status => status::run(&cli, json),
        Command::ForceRelease {
            ref targets,
            ref reason,
        } => reserve::force_release(&cli, targets, reason, json),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hookgate: {e:#}");
            ExitCode::from(1)
        }
    }
}

impl Cli {
    /// `--store`, else the store of the repository at `root` (or of the
    /// current directory outside git).
    fn store_path(&self, root: Option<&std::path::Path>) -> PathBuf {
        self.store.clone().unwrap_or_else(|| {
            let cwd = std::env::current_dir().unwrap_or_default();
            hookgate::paths::default_store(root, &cwd)
        })
    }

    fn hook_options(&self, event: Option<String>, audit: bool) -> hookgate::hook::HookOptions {
        hookgate::hook::HookOptions {
            event_flag: event,
            policy: self.policy.clone(),
            store: self.store.clone(),
            agent: self.agent.clone(),
            audit,
            one_shot: true,
            denies_warn: None,
        }
    }
}
