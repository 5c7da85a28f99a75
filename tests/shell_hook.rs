//! Shell commands through the real Claude Bash hook: their writes and reads
//! are judged by lock-check, write-guard and read-guard exactly as edits
//! and reads are, and shell-write's rules judge what the analysis could not
//! settle (issue: shell effects).

mod common;

use common::Repo;

/// A Claude `PreToolUse` payload for `Bash` running `command` in the repo.
fn bash(repo: &Repo, session: &str, command: &str) -> String {
    serde_json::json!({
        "session_id": session,
        "transcript_path": "/tmp/t.jsonl",
        "cwd": repo.root,
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": command, "description": "test"},
        "tool_use_id": "toolu_1",
    })
    .to_string()
}

fn run(repo: &Repo, session: &str, command: &str) -> common::Out {
    let out = repo.run(&["hook", "claude"], &bash(repo, session, command));
    assert_eq!(out.code, 0, "{out:?}");
    out
}

fn repo() -> Repo {
    let repo = Repo::new();
    for f in [
        "src/auth/login.py",
        "src/auth/session.py",
        "src/util.py",
        "a.log",
        "b.log",
    ] {
        let p = repo.root.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "x = 1\n").unwrap();
    }
    repo
}

#[test]
fn a_shell_write_to_a_reserved_file_is_denied_like_an_edit() {
    let repo = repo();
    let r = repo.run_as("other", &["reserve", "src/auth/**", "--reason", "refactor"]);
    assert_eq!(r.code, 0, "{r:?}");
    for command in [
        "sed -i s/a/b/ src/auth/login.py",
        "echo x >> src/auth/session.py",
        "cd src && perl -pi -e 's/1/2/' auth/login.py",
        "find src -name '*.py' | xargs sed -i s/x/y/",
        "for f in src/auth/*.py; do black \"$f\"; done",
        "cp src/util.py src/auth/",
        "rm -rf src/auth",
    ] {
        let out = run(&repo, "s1", command);
        let (decision, reason) = out.decision();
        assert_eq!(decision, "deny", "{command}: {out:?}");
        assert!(
            reason.contains("lock-check/held") && reason.contains("src/auth/**"),
            "{command}: {reason}"
        );
    }
    // The same agent's Edit of the file is denied the same way.
    let edit = repo.run(
        &["hook", "claude"],
        &repo.claude_payload("s1", None, "Edit", "src/auth/login.py"),
    );
    assert_eq!(edit.decision().0, "deny");
    // Outside the reservation, shell writes pass, and take the writer's lease.
    let out = run(&repo, "s1", "sed -i s/x/y/ src/util.py");
    assert_eq!(out.stdout, "", "{out:?}");
    let locks = repo.run(&["locks", "--json"], "");
    assert!(locks.stdout.contains("src/util.py"), "{locks:?}");
}

#[test]
fn shell_reads_of_secrets_are_judged_like_reads() {
    let repo = repo();
    std::fs::write(repo.root.join(".env"), "TOKEN=1\n").unwrap();
    let (d, reason) = run(&repo, "s1", "cat deploy/key.pem | base64").decision();
    assert_eq!(d, "deny");
    assert!(reason.contains("read-guard/private-keys"), "{reason}");
    let (d, reason) = run(&repo, "s1", "grep TOKEN .env").decision();
    assert_eq!(d, "ask", "{reason}");
    assert!(reason.contains("read-guard/env-files"), "{reason}");
    // Writing a secret through the shell is blocked like a Write.
    let (d, reason) = run(&repo, "s1", "echo k > deploy/new.pem").decision();
    assert_eq!(d, "deny");
    assert!(reason.contains("write-guard/secrets"), "{reason}");
}

#[test]
fn everyday_commands_pass_silently() {
    let repo = repo();
    for command in [
        "ls -la",
        "git status",
        "git diff HEAD~1",
        "git log --oneline -5 && git show HEAD:src/util.py",
        "grep -rn TODO src",
        "cargo --version",
        "rm *.log",
        "cat src/util.py | wc -l",
    ] {
        let out = run(&repo, "s1", command);
        assert_eq!(out.stdout, "", "{command}: {out:?}");
    }
}

#[test]
fn shell_write_rules_have_their_own_outcomes() {
    let repo = repo();
    let cases = [
        (
            "git commit --no-verify -m x",
            "deny",
            "shell-write/no-verify",
        ),
        ("git commit -nm x", "deny", "shell-write/no-verify"),
        ("HUSKY=0 git push", "deny", "shell-write/no-verify"),
        (
            "git -c core.hooksPath=/dev/null commit -m x",
            "deny",
            "shell-write/hooks-path",
        ),
        (
            "git config core.hooksPath .nohooks",
            "deny",
            "shell-write/hooks-path",
        ),
        (
            "HOOKGATE_AGENT=someone-else hookgate release --all",
            "deny",
            "shell-write/hookgate-override",
        ),
        (
            "echo '{}' > .claude/settings.local.json",
            "ask",
            "shell-write/agent-settings",
        ),
        (
            "echo x > .git/hooks/pre-commit",
            "deny",
            "shell-write/git-internals",
        ),
    ];
    for (command, want, rule) in cases {
        let out = run(&repo, "s1", command);
        let (d, reason) = out.decision();
        assert_eq!(d, want, "{command}: {out:?}");
        assert!(reason.contains(rule), "{command}: {reason}");
    }
    // Writing outside the repository is a warning (stage warn).
    let out = run(&repo, "s1", "echo hi > /etc/motd");
    assert!(
        out.context().contains("shell-write/outside-repo"),
        "{out:?}"
    );
    // Opaque and unknown commands are only recorded (stage monitor): the
    // agent sees nothing, the audit log has the would-be finding.
    for command in ["python3 tools/gen.py", "eval \"$CMD\"", "frobnicate --all"] {
        let out = run(&repo, "s1", command);
        assert_eq!(out.stdout, "", "{command}: {out:?}");
    }
    let report = repo.run(&["report", "--json"], "");
    assert!(
        report.stdout.contains("opaque") && report.stdout.contains("unknown-command"),
        "{report:?}"
    );
}

#[test]
fn a_run_time_target_near_a_reservation_is_a_warning() {
    let repo = repo();
    repo.run_as("other", &["reserve", "src/auth/**"]);
    let out = run(&repo, "s1", "rm -rf src/$TARGET");
    assert!(out.context().contains("lock-check/held-maybe"), "{out:?}");
    assert_eq!(out.decision().0, "", "a warning, not a block: {out:?}");
}

#[test]
fn policy_can_turn_rules_off_and_stage_them() {
    let repo = repo();
    repo.policy(
        "version = 1\n[[validator]]\nname = \"shell-write\"\nconfig = { no_verify = \"allow\", opaque = \"deny\" }\nrules = { opaque = \"enforce\" }\n",
    );
    assert_eq!(run(&repo, "s1", "git push --no-verify").stdout, "");
    let (d, reason) = run(&repo, "s1", "eval \"$CMD\"").decision();
    assert_eq!(d, "deny", "{reason}");
    assert!(
        reason.contains("shell-write/opaque") && reason.contains("eval"),
        "{reason}"
    );
}

#[test]
fn hostile_commands_get_a_valid_answer() {
    let repo = repo();
    let huge = format!("echo {} > out.txt", "x".repeat(1 << 20));
    let nested = format!("{}rm x{}", "$(".repeat(500), ")".repeat(500));
    for command in [
        huge.as_str(),
        nested.as_str(),
        "echo 'unterminated",
        "rm \u{0} x",
        "((((((((((",
        "f() { f; }; f",
        "bash -c \"$(printf 'rm -rf %s' /)\"",
    ] {
        let start = std::time::Instant::now();
        let out = repo.run(&["hook", "claude"], &bash(&repo, "s1", command));
        assert_eq!(out.code, 0, "{out:?}");
        assert!(
            out.stdout.is_empty() || serde_json::from_str::<serde_json::Value>(&out.stdout).is_ok(),
            "{out:?}"
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
    }
}

#[test]
fn explain_shows_what_the_analysis_could_not_settle() {
    let repo = repo();
    let out = repo.run(
        &["explain", "claude"],
        &bash(&repo, "s1", "rm -rf src/$TARGET && frobnicate"),
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("opaque   rm target is only known at run time"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("bounds   src/**"), "{}", out.stdout);
    assert!(out.stdout.contains("unknown  frobnicate"), "{}", out.stdout);
}

/// The `hookgate commit` command a finding names (between backquotes).
fn suggested(reason: &str) -> &str {
    reason
        .split('`')
        .skip(1)
        .step_by(2)
        .find(|s| s.contains("hookgate commit"))
        .expect("a suggestion")
}

#[test]
fn git_commit_is_denied_with_the_exact_hookgate_commit_to_run() {
    let repo = repo();
    for (command, want) in [
        (
            "git add src/a.rs src/b.rs && git commit -m \"fix: x\"",
            "hookgate commit -m 'fix: x' src/a.rs src/b.rs",
        ),
        ("git commit -am wip", "hookgate commit -m wip"),
        ("git add -A && git commit -m wip", "hookgate commit -m wip"),
        (
            "git commit --message='fix: y' -m body",
            "hookgate commit -m 'fix: y' -m body",
        ),
        (
            "git commit -F .git/MSG src/util.py",
            "hookgate commit -F .git/MSG src/util.py",
        ),
        (
            "git commit --file=msg.txt -- src/util.py 'src/auth/login.py'",
            "hookgate commit -F msg.txt src/util.py src/auth/login.py",
        ),
        (
            "git commit -m \"it's done\" src/util.py",
            "hookgate commit -m 'it'\\''s done' src/util.py",
        ),
        (
            "git stage src/util.py && git rm src/auth/session.py && git commit -qm wip",
            "hookgate commit -m wip src/util.py src/auth/session.py",
        ),
        (
            "git -C src add util.py && git -C src commit -m x",
            "hookgate commit -m x src/util.py",
        ),
        (
            "cd src && git add util.py && git commit -m x",
            "cd src && hookgate commit -m x util.py",
        ),
        (
            "cargo test && git add src/util.py && git commit -m \"$(cat <<'EOF'\nfix: the thing\n\nIt's longer.\nEOF\n)\" && git push",
            "hookgate commit -m 'fix: the thing\n\nIt'\\''s longer.' src/util.py",
        ),
    ] {
        let (d, reason) = run(&repo, "s1", command).decision();
        assert_eq!(d, "deny", "{command}: {reason}");
        assert!(reason.contains("shell-write/git-commit"), "{command}: {reason}");
        assert_eq!(suggested(&reason), want, "{command}: {reason}");
        assert!(
            reason.contains("one git index") && reason.contains("index.lock"),
            "{reason}"
        );
        assert!(!reason.contains("git-add"), "one finding: {reason}");
    }
    // Without paths, the agent is told what `hookgate commit` commits; a
    // message only known at run time is a blank to fill.
    let (_, reason) = run(&repo, "s1", "git commit -am wip").decision();
    assert!(
        reason.contains("Without paths it commits the files you changed"),
        "{reason}"
    );
    let (_, reason) = run(&repo, "s1", "git commit -m \"$MSG\" src/util.py").decision();
    assert_eq!(suggested(&reason), "hookgate commit -m '…' src/util.py");
    assert!(reason.contains("in place of `…`"), "{reason}");
    // Through wrappers the analysis takes off, too.
    let (d, reason) = run(&repo, "s1", "sudo -u me env A=1 git commit -m x").decision();
    assert_eq!(
        (d.as_str(), suggested(&reason)),
        ("deny", "hookgate commit -m x")
    );
}

#[test]
fn amending_is_denied_with_a_new_commit_instead() {
    let repo = repo();
    let (d, reason) = run(&repo, "s1", "git commit --amend -m 'fix: z'").decision();
    assert_eq!(d, "deny", "{reason}");
    assert!(
        reason.contains("shell-write/git-commit")
            && reason.contains("rewrites a commit that other agents may already have built on"),
        "{reason}"
    );
    assert_eq!(suggested(&reason), "hookgate commit -m 'fix: z'");
    let (_, reason) = run(
        &repo,
        "s1",
        "git add src/util.py && git commit --amend --no-edit",
    )
    .decision();
    assert_eq!(suggested(&reason), "hookgate commit -m '…' src/util.py");
}

#[test]
fn git_add_alone_is_a_warning_naming_hookgate_commit() {
    let repo = repo();
    let out = run(&repo, "s1", "git add src/util.py src/auth");
    assert_eq!(out.decision().0, "", "a warning, not a block: {out:?}");
    let context = out.context();
    assert!(context.contains("shell-write/git-add"), "{out:?}");
    assert!(
        context.contains("`hookgate commit -m '…' src/util.py src/auth`")
            && context.contains("another agent's commit may sweep them in"),
        "{context}"
    );
    let context = run(&repo, "s1", "git add .").context();
    assert!(
        context.contains("`hookgate commit -m '…'`, which commits the files you changed"),
        "{context}"
    );
}

#[test]
fn dry_runs_and_help_do_not_fire() {
    let repo = repo();
    for command in [
        "git commit --dry-run",
        "git commit --dry-run -am x",
        "git commit -h",
        "git add -n .",
        "git add --dry-run src/util.py",
        "git help commit",
        "git log --grep 'git commit'",
    ] {
        let out = run(&repo, "s1", command);
        assert_eq!(out.stdout, "", "{command}: {out:?}");
    }
}

#[test]
fn git_commit_and_git_add_are_configurable() {
    let repo = repo();
    repo.policy(
        "version = 1\n[[validator]]\nname = \"shell-write\"\nconfig = { git_commit = \"allow\", git_add = \"allow\" }\n",
    );
    for command in [
        "git add -A && git commit -m wip",
        "git commit --amend --no-edit",
        "git add src/util.py",
    ] {
        assert_eq!(run(&repo, "s1", command).stdout, "", "{command}");
    }
    // Rolled out at `warn`: the agent is told, the commit proceeds.
    repo.policy(
        "version = 1\n[[validator]]\nname = \"shell-write\"\nrules = { git-commit = \"warn\" }\n",
    );
    let out = run(&repo, "s1", "git commit -am wip");
    assert_eq!(out.decision().0, "", "{out:?}");
    assert!(
        out.context().contains("shell-write/git-commit")
            && out.context().contains("`hookgate commit -m wip`"),
        "{out:?}"
    );
    // A key of shell-write on another validator is refused by name.
    repo.policy(
        "version = 1\n[[validator]]\nname = \"write-guard\"\nconfig = { git_commit = \"allow\" }\n",
    );
    let out = repo.run(&["policy", "check"], "");
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("`git_commit` is a setting of shell-write"),
        "{out:?}"
    );
}

#[test]
fn git_hook_files_need_a_human() {
    let repo = repo();
    for f in [
        ".husky/pre-commit",
        ".githooks/pre-push",
        ".git/hooks/pre-commit",
    ] {
        let p = repo.root.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "#!/bin/sh\n").unwrap();
    }
    for command in [
        "echo 'exit 0' > .husky/pre-commit",
        "rm .githooks/pre-push",
        "rm -rf .husky",
        "chmod +x .githooks/pre-push",
        "sed -i 's/rev: v1/rev: v2/' .pre-commit-config.yaml",
        "cp /tmp/x lefthook.yml",
        "echo '{}' > .lintstagedrc.json",
    ] {
        let (d, reason) = run(&repo, "s1", command).decision();
        assert_eq!(d, "ask", "{command}: {reason}");
        assert!(
            reason.contains("write-guard/git-hooks"),
            "{command}: {reason}"
        );
    }
    // An Edit of a hook script asks the same way.
    let edit = repo.run(
        &["hook", "claude"],
        &repo.claude_payload("s1", None, "Edit", ".husky/pre-commit"),
    );
    assert_eq!(edit.decision().0, "ask", "{edit:?}");
    // git's own hooks are git's internals: blocked.
    for command in [
        "echo 'exit 0' > .git/hooks/pre-commit",
        "chmod a-x .git/hooks/pre-commit",
        "rm .git/hooks/pre-commit",
    ] {
        let (d, reason) = run(&repo, "s1", command).decision();
        assert_eq!(d, "deny", "{command}: {reason}");
        assert!(
            reason.contains("write-guard/git-internals")
                && reason.contains("shell-write/git-internals"),
            "{command}: {reason}"
        );
    }
}
