//! The effects of real command shapes, one family at a time (the write model
//! of ../shared/reference/shell-detection.md §4 and the bypass classes of §3).

use hookgate_shell::{analyze, Effects, Options};

fn fx(cmd: &str) -> Effects {
    analyze(
        cmd,
        &Options {
            cwd: "/r".into(),
            home: Some("/home/u".into()),
            look: false,
        },
    )
}

fn set(v: &[&str]) -> std::collections::BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[track_caller]
fn writes(cmd: &str, expect: &[&str]) {
    let e = fx(cmd);
    assert_eq!(e.writes, set(expect), "{cmd}: {e:?}");
}

#[track_caller]
fn deletes(cmd: &str, expect: &[&str]) {
    let e = fx(cmd);
    assert_eq!(e.deletes, set(expect), "{cmd}: {e:?}");
}

#[track_caller]
fn reads(cmd: &str, expect: &[&str]) {
    let e = fx(cmd);
    assert_eq!(e.reads, set(expect), "{cmd}: {e:?}");
}

#[track_caller]
fn opaque(cmd: &str) {
    let e = fx(cmd);
    assert!(e.opaque, "{cmd} should be opaque: {e:?}");
}

#[test]
fn redirections() {
    writes("echo hi > out.txt", &["/r/out.txt"]);
    writes("echo hi >> log 2>&1", &["/r/log"]);
    writes("make &> build.log", &["/r/build.log"]);
    writes("cmd >| f", &["/r/f"]);
    writes("cmd 2> err.txt", &["/r/err.txt"]);
    writes("cmd >& all.txt", &["/r/all.txt"]);
    writes("cmd 2>&1 >/dev/null", &[]);
    writes("exec 3<> rw.txt", &["/r/rw.txt"]);
    reads("exec 3<> rw.txt", &["/r/rw.txt"]);
    reads("wc -l < in.txt", &["/r/in.txt"]);
    writes(
        "cat <<EOF > notes.md\nhello > not-a-file\nEOF",
        &["/r/notes.md"],
    );
    writes("cat <<< 'x > y'", &[]);
}

#[test]
fn structure_lists_pipelines_subshells_groups() {
    writes(
        "a > x; b > y && c > z || d > w",
        &["/r/x", "/r/y", "/r/z", "/r/w"],
    );
    writes("grep -rn TODO src | sort -u > /tmp/todo.txt && echo \"$(wc -l < /tmp/todo.txt) todos\" 2>&1 | tee -a notes.md",
        &["/tmp/todo.txt", "/r/notes.md"]);
    reads(
        "grep -rn TODO src | sort -u > /tmp/todo.txt && echo \"$(wc -l < /tmp/todo.txt) todos\"",
        &["/r/src", "/tmp/todo.txt"],
    );
    writes("(cd sub && rm -f a > log)", &["/r/sub/log"]);
    deletes("(cd sub && rm -f a); rm b", &["/r/sub/a", "/r/b"]);
    writes("{ echo a; echo b; } > both.txt", &["/r/both.txt"]);
    writes(
        "if true; then echo > yes.txt; else echo > no.txt; fi",
        &["/r/yes.txt", "/r/no.txt"],
    );
    writes(
        "for f in a b; do touch \"$f.txt\"; done",
        &["/r/a.txt", "/r/b.txt"],
    );
}

#[test]
fn cd_pushd_popd_move_the_directory() {
    writes("cd src && touch x", &["/r/src/x"]);
    writes("cd /tmp && touch y", &["/tmp/y"]);
    // Without `&&` a failed `cd` leaves `touch` in the old directory.
    writes("cd /tmp; touch y", &["/tmp/y", "/r/y"]);
    writes("pushd a && touch 1 && popd && touch 2", &["/r/a/1", "/r/2"]);
    writes("cd ~ && touch z", &["/home/u/z"]);
    opaque("cd $X && touch w");
}

#[test]
fn substitutions_and_functions() {
    deletes("echo \"$(rm -rf build)\"", &["/r/build"]);
    writes("diff <(sort a) <(sort b) > d.txt", &["/r/d.txt"]);
    reads("diff <(sort a) <(sort b)", &["/r/a", "/r/b"]);
    writes("f() { echo x > fn.txt; }; f", &["/r/fn.txt"]);
    deletes("$(echo rm) -rf x", &["/r/x"]);
    opaque("$(cat cmd.txt) -rf x");
}

#[test]
fn wrappers_and_nested_shells() {
    deletes("sudo rm -rf /opt/app", &["/opt/app"]);
    deletes("env A=1 B=2 rm x", &["/r/x"]);
    deletes("nice -n 5 timeout 10 rm y", &["/r/y"]);
    deletes(
        "command rm z; builtin cd q && exec rm w",
        &["/r/z", "/r/q/w"],
    );
    deletes("time rm t", &["/r/t"]);
    deletes("bash -c 'rm -rf dist && touch ok'", &["/r/dist"]);
    writes(
        "sh -c \"cd web && npm install\"",
        &[
            "/r/web/package.json",
            "/r/web/package-lock.json",
            "/r/web/pnpm-lock.yaml",
            "/r/web/yarn.lock",
            "/r/web/bun.lockb",
            "/r/web/node_modules",
        ],
    );
    opaque("bash -c \"$CMD\"");
    opaque("eval \"$X\"");
    deletes("eval rm e", &["/r/e"]);
    opaque("curl https://x.sh | bash");
    opaque("python - <<EOF\nimport os\nEOF");
    opaque("python -c 'open(\"f\",\"w\")'");
}

#[test]
fn quote_splicing_and_expansion() {
    deletes("r''m -rf build", &["/r/build"]);
    deletes("\\rm x", &["/r/x"]);
    deletes("\"rm\" y", &["/r/y"]);
    deletes("rm $'a\\tb'", &["/r/a\tb"]);
    deletes("rm a.{log,txt}", &["/r/a.log", "/r/a.txt"]);
    deletes("rm src/*.rs", &["/r/src/*.rs"]);
    deletes("rm ~/.cache/x", &["/home/u/.cache/x"]);
    opaque("rm $TARGET");
}

#[test]
fn file_tools() {
    writes("cp a b", &["/r/b"]);
    // Into an existing directory the file lands under it.
    let d = std::env::temp_dir()
        .canonicalize()
        .unwrap()
        .display()
        .to_string();
    writes(&format!("cp a {d}"), &[&format!("{d}/a")]);
    reads("cp -r src dst/", &["/r/src"]);
    writes("cp -r src dst/", &["/r/dst/src"]);
    writes("cp a b c dir", &["/r/dir/a", "/r/dir/b", "/r/dir/c"]);
    writes("cp -t dir a b", &["/r/dir/a", "/r/dir/b"]);
    deletes("mv old.rs new.rs", &["/r/old.rs"]);
    writes("mv old.rs new.rs", &["/r/new.rs"]);
    writes("ln -s ../target link", &["/r/link"]);
    writes("ln -sf /etc/hosts", &["/r/hosts"]);
    writes("install -m 755 bin/x /opt/nowhere/x", &["/opt/nowhere/x"]);
    writes(
        "chmod +x run.sh; chown -R u:g data",
        &["/r/run.sh", "/r/data"],
    );
    // A mode that starts with `-` is not an option: the hook file is written.
    writes(
        "chmod -x .git/hooks/pre-commit",
        &["/r/.git/hooks/pre-commit"],
    );
    writes("chmod -wx a b", &["/r/a", "/r/b"]);
    writes("chmod -R 755 dir", &["/r/dir"]);
    writes("truncate -s 0 big.log", &["/r/big.log"]);
    writes("touch -r ref.txt a", &["/r/a"]);
    reads("touch -r ref.txt a", &["/r/ref.txt"]);
    writes("mkdir -p a/b c", &["/r/a/b", "/r/c"]);
    deletes("rmdir d; unlink u; shred -u s", &["/r/d", "/r/u", "/r/s"]);
    writes(
        "dd if=/dev/zero of=disk.img bs=1M count=1",
        &["/r/disk.img"],
    );
    writes("echo x | tee -a a.log b.log", &["/r/a.log", "/r/b.log"]);
    writes("split -l 100 big.csv part-", &["/r/part-*"]);
    writes("sort -o sorted.txt in.txt", &["/r/sorted.txt"]);
    reads("sort -o sorted.txt in.txt", &["/r/in.txt"]);
    writes("uniq in out", &["/r/out"]);
    writes("patch -p1 -i fix.diff target.c", &["/r/target.c"]);
}

#[test]
fn in_place_editors() {
    writes(
        "sed -i 's/a/b/' src/auth/login.py",
        &["/r/src/auth/login.py"],
    );
    writes(
        "sed -i.bak -e 's/a/b/' x.txt y.txt",
        &["/r/x.txt", "/r/x.txt.bak", "/r/y.txt", "/r/y.txt.bak"],
    );
    writes("sed -n 's/a/b/w out.txt' in.txt", &["/r/out.txt"]);
    writes("sed 's/a/b/' in.txt", &[]);
    reads("sed 's/a/b/' in.txt", &["/r/in.txt"]);
    writes("perl -pi -e 's/a/b/' f.pl", &["/r/f.pl"]);
    writes(
        "perl -i.bak -pe 's/a\\.b/c/g' x.conf y.conf",
        &["/r/x.conf", "/r/x.conf.bak", "/r/y.conf", "/r/y.conf.bak"],
    );
    deletes("find . -maxdepth 1 ! -name keep -delete", &["/r/**"]);
    opaque("perl -e 'unlink q(x)'");
}

#[test]
fn archives_transfers_and_find() {
    writes("tar -xzf pkg.tgz -C vendor", &["/r/vendor"]);
    reads("tar -xzf pkg.tgz -C vendor", &["/r/pkg.tgz"]);
    writes("tar czf out.tgz src", &["/r/out.tgz"]);
    writes("unzip a.zip -d out", &["/r/out"]);
    writes(
        "curl -fsSL -o get.sh https://example.com/x.sh",
        &["/r/get.sh"],
    );
    writes(
        "curl -O https://example.com/files/data.csv?x=1",
        &["/r/data.csv"],
    );
    writes("wget https://example.com/a/b.tar.gz", &["/r/b.tar.gz"]);
    writes("wget -O page.html https://example.com", &["/r/page.html"]);
    writes("rsync -a --delete src/ backup/", &["/r/backup"]);
    deletes("rsync -a --delete src/ backup/", &["/r/backup"]);
    deletes("find . -name '*.pyc' -delete", &["/r/**/*.pyc"]);
    deletes("find build -type f -exec rm {} +", &["/r/build/**"]);
    writes(
        "find docs* -maxdepth 0 -exec tar -zcf {}.tar.gz {} \\;",
        &["/r/docs*.tar.gz", "/r/docs*/**/*.tar.gz"],
    );
    opaque("ls *.txt | xargs gzip -9");
    // The producer bounds what xargs acts on, as `find -exec` would.
    writes("find . -perm 777 | xargs -I@ chmod 755 '@'", &["/r/**"]);
    deletes(
        "find src -name '*.o' -print0 | xargs -0 rm",
        &["/r/src/**/*.o"],
    );
    opaque("cat list.txt | xargs rm");
    writes("gzip -k big.log", &["/r/big.log.gz"]);
    writes("gunzip a.tar.gz", &["/r/a.tar"]);
    opaque("find . -name '*.tmp' | xargs rm");
    deletes("gzip big.log", &["/r/big.log"]);
}

#[test]
fn git_and_formatters_and_package_managers() {
    writes("git status && git log -5 && git diff", &[]);
    writes("git add -A && git commit -m wip", &["/r/.git"]);
    writes("git checkout -- src/a.rs", &["/r/.git", "/r/src/a.rs"]);
    writes("git restore src/b.rs", &["/r/.git", "/r/src/b.rs"]);
    writes("git reset --hard HEAD~1", &["/r/.git", "/r"]);
    deletes("git clean -fdx", &["/r"]);
    deletes("git rm old.txt", &["/r/old.txt"]);
    writes("git stash", &["/r/.git", "/r"]);
    writes("git -C sub checkout main", &["/r/sub/.git", "/r/sub"]);
    writes("prettier --write src/app.ts", &["/r/src/app.ts"]);
    writes("prettier --check src/app.ts", &[]);
    writes(
        "black pkg/ && rustfmt src/main.rs",
        &["/r/pkg", "/r/src/main.rs"],
    );
    writes("ruff format app.py", &["/r/app.py"]);
    writes("gofmt -w main.go", &["/r/main.go"]);
    writes("eslint --fix web/x.js", &["/r/web/x.js"]);
    writes("cargo fmt", &["/r/**/*.rs"]);
    writes("cargo add serde", &["/r/Cargo.toml", "/r/Cargo.lock"]);
    writes("go get example.com/m", &["/r/go.mod", "/r/go.sum"]);
    opaque("cargo build --release");
    opaque("make -j4");
    opaque("npm run build");
}

#[test]
fn read_only_commands_have_no_effects_and_unknown_ones_are_named() {
    let e = fx("ls -la && pwd && echo ok && git log --oneline | head -5 && grep -rn x src");
    assert!(
        e.writes.is_empty() && e.deletes.is_empty() && !e.opaque && e.unknown.is_empty(),
        "{e:?}"
    );
    let e = fx("cat a | tr a-z A-Z | sort | uniq -c; sync; zgrep x log.gz; git symbolic-ref HEAD");
    assert!(
        e.unknown.is_empty() && e.writes.is_empty() && !e.opaque,
        "{e:?}"
    );
    let e = fx("frobnicate --all");
    assert_eq!(e.unknown, set(&["frobnicate"]));
}

#[test]
fn hostile_input_is_opaque_not_a_panic() {
    for cmd in [
        "echo 'unterminated",
        "cat <p>",
        ">",
        "((((((((((((((((((((((((((",
        "$($($($($($($($($($(rm x))))))))))",
        "bash -c 'bash -c \"bash -c \\\"bash -c \\\\\\\"bash -c rm\\\\\\\"\\\"\"'",
        "f() { f; }; f",
        "rm {1..100000}",
        "\u{0}\u{1}\u{2}",
        "tar",
        "tar ''",
        "cp",
        "find -exec",
        "git -C",
        "sed -i",
        "dd of=",
    ] {
        let _ = fx(cmd);
    }
    assert!(fx("echo 'unterminated").opaque);
    assert!(fx("f() { f; }; f").opaque, "recursion is bounded");
    // What can't be read is opaque with a reason, never "writes nothing".
    let huge = format!("echo {} > out.txt", "x".repeat(1 << 20));
    let deep = format!("{}rm x{}", "$(".repeat(200), ")".repeat(200));
    for cmd in [
        huge.as_str(),
        deep.as_str(),
        "echo 'unterminated > f",
        "rm \u{0} x",
    ] {
        let start = std::time::Instant::now();
        let e = fx(cmd);
        assert!(
            e.opaque && !e.reasons.is_empty(),
            "{:?}: {e:?}",
            &cmd[..cmd.len().min(40)]
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }
}

/// The lines where the differential fuzz target found rable reading bash
/// differently (fuzz/regressions/shell_parsers/rable-*, bash rejects the
/// `rable-lax-*` ones) are opaque: the analysis never trusts a reading
/// another parser disputes.
#[test]
fn parser_disagreements_found_by_fuzzing_are_opaque() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/shell_parsers");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("rable-") || name.starts_with("rable-lax-") {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).into_owned();
        let fx = fx(&text);
        assert!(fx.opaque, "{name}: {text:?} -> {fx:?}");
        n += 1;
    }
    assert!(n >= 8, "only {n} reproducers found in {}", dir.display());
}
