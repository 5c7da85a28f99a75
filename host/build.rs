//! Builds the built-in validators (and the hostile test guest) for
//! `wasm32-wasip2` with a nested cargo in its own target directory, as
//! wasmtime's test-programs do, and embeds the built-ins in the binary.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// Components embedded in the binary: (component name, crate name). The
/// built-in validators that use them are listed in `src/builtin.rs`.
///
/// Built-ins are compiled for `wasm32-unknown-unknown` and turned into
/// components here with `wit-component`, so they import nothing but
/// hookgate's own interfaces: a `wasm32-wasip2` build imports thirteen WASI
/// interfaces through std, which the host must stub on every load. User
/// plugins are built for `wasm32-wasip2` (the SDK's documented path) and get
/// those stubs; the hostile test guest keeps that path covered.
const BUILTINS: &[(&str, &str)] = &[("builtins", "builtins")];
/// Guests built for the tests only (`wasm32-wasip2`, like user plugins).
const TEST_GUESTS: &[&str] = &["hostile"];

/// Variables from the outer cargo that must not leak into the nested build.
fn keep(var: &str) -> bool {
    matches!(
        var,
        "PATH"
            | "HOME"
            | "USER"
            | "LANG"
            | "LC_ALL"
            | "TERM"
            | "TMPDIR"
            | "CARGO_HOME"
            | "RUSTUP_HOME"
            | "RUSTUP_TOOLCHAIN"
            | "CARGO_NET_OFFLINE"
            | "CARGO_HTTP_TIMEOUT"
            | "SSL_CERT_FILE"
            | "SSL_CERT_DIR"
            | "CARGO_REGISTRIES_CRATES_IO_PROTOCOL"
    )
}

fn target_root(out_dir: &Path) -> PathBuf {
    // OUT_DIR is <target>/[<triple>/]<profile>/build/<pkg>-<hash>/out.
    out_dir
        .ancestors()
        .nth(4)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| out_dir.join("guest-target"))
}

/// rustup installs the targets that rust-toolchain.toml lists when it installs
/// the toolchain, but not when the toolchain was already there without them.
/// Add the target then, so `cargo build` stays the only set-up step.
fn ensure_wasm_target(target: &str) {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let Some(sysroot) = sysroot else { return };
    if sysroot.join("lib/rustlib").join(target).is_dir() {
        return;
    }
    println!("cargo:warning=installing the {target} target with rustup (needed to build the wasm guests)");
    let mut add = Command::new("rustup");
    add.args(["target", "add", target]);
    if let Ok(tc) = env::var("RUSTUP_TOOLCHAIN") {
        add.args(["--toolchain", &tc]);
    }
    let _ = add.status();
}

fn nested_build(cargo: &str, root: &Path, target_dir: &Path, target: &str, crates: &[String]) {
    ensure_wasm_target(target);
    let mut cmd = Command::new(cargo);
    cmd.env_clear();
    for (k, v) in env::vars_os() {
        if k.to_str().is_some_and(keep) {
            cmd.env(k, v);
        }
    }
    cmd.current_dir(root)
        .args(["build", "--release", "--locked", "--target", target])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir)
        // Small, fast guests: size matters for load time, not peak speed.
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "s")
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false");
    for c in crates {
        cmd.args(["-p", c]);
    }
    let status = cmd
        .status()
        .expect("could not run cargo to build the wasm guests");
    if !status.success() {
        panic!(
            "building the wasm guests for {target} failed; is the target installed? \
             (`rustup target add {target}`; rust-toolchain.toml lists it)"
        );
    }
}

fn main() {
    let manifest_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .expect("host/ has a parent")
        .to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for dir in [
        "guest-plugins",
        "wit",
        "glob/src",
        "glob/Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    println!("cargo:rerun-if-env-changed=HOOKGATE_GUEST_TARGET_DIR");
    // The hook is a one-shot process on every tool call. As a position-
    // independent executable it would apply ~25,000 relocations at each start,
    // touching ~1 MB of pages; linked as a fixed-address executable the linker
    // resolves them once. (The code stays position-independent.)
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bin=hookgate=-no-pie");
    }

    let guest_target = env::var_os("HOOKGATE_GUEST_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_root(&out_dir).join("guests"));
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());

    let builtin_crates: Vec<String> = BUILTINS.iter().map(|(_, k)| k.replace('_', "-")).collect();
    let test_crates: Vec<String> = TEST_GUESTS.iter().map(|k| k.to_string()).collect();
    nested_build(
        &cargo,
        &root,
        &guest_target,
        "wasm32-unknown-unknown",
        &builtin_crates,
    );
    nested_build(&cargo, &root, &guest_target, "wasm32-wasip2", &test_crates);

    let core_dir = guest_target.join("wasm32-unknown-unknown").join("release");
    let wasm_dir = guest_target.join("wasm32-wasip2").join("release");
    let mut src = String::from("/// Built-in components: (name, wasm, sha256 hex).\n");
    src.push_str("pub const BUILTIN_COMPONENTS: &[(&str, &[u8], &str)] = &[\n");
    for (name, krate) in BUILTINS {
        let file = core_dir.join(format!("{krate}.wasm"));
        let core = fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let bytes = wit_component::ComponentEncoder::default()
            .module(&core)
            .and_then(|e| e.validate(true).encode())
            .unwrap_or_else(|e| panic!("making a component of {}: {e:#}", file.display()));
        let digest = Sha256::digest(&bytes);
        let mut hex = String::new();
        for b in digest.iter() {
            let _ = write!(hex, "{b:02x}");
        }
        // Embed a copy in OUT_DIR so the binary does not depend on the guest target dir.
        let copy = out_dir.join(format!("{krate}.wasm"));
        fs::write(&copy, &bytes).expect("write guest copy");
        let _ = writeln!(
            src,
            "    ({name:?}, include_bytes!({:?}), {hex:?}),",
            copy.display().to_string()
        );
    }
    src.push_str("];\n");
    fs::write(out_dir.join("builtin_guests.rs"), src).expect("write builtin_guests.rs");
    for krate in TEST_GUESTS {
        println!(
            "cargo:rustc-env=HOOKGATE_TEST_GUEST_{}={}",
            krate.to_uppercase(),
            wasm_dir.join(format!("{krate}.wasm")).display()
        );
    }
}
