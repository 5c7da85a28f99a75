//! The compiled-code cache: `<dir>/<sha256 of wasm>-<engine hash>.cwasm`.
//!
//! Compiling a component costs tens of milliseconds; loading a precompiled one
//! by mmap costs a fraction of one. Artifacts are written atomically (temp
//! file + rename) into a directory only this user can write, and keyed by the
//! engine's compatibility hash, so a new wasmtime or new engine settings miss
//! the cache instead of loading stale code.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use wasmtime::component::Component;
use wasmtime::Engine;

/// Errors of the compiled-code cache.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The cache directory could not be created or written.
    #[error("compiled-code cache {path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// wasmtime refused to compile or load the component.
    #[error("{0}")]
    Wasm(String),
}

/// Builds a 128-bit key naming a cache entry: two SipHash passes with
/// different prefixes, fed in place. Not cryptographic (pinning user plugins
/// uses sha256); it only has to tell cache entries apart, and sha256 in
/// software costs more than a hook can spare on this path.
pub struct CacheKey {
    a: std::collections::hash_map::DefaultHasher,
    b: std::collections::hash_map::DefaultHasher,
}

impl CacheKey {
    /// An empty key.
    pub fn new() -> CacheKey {
        let mut a = std::collections::hash_map::DefaultHasher::new();
        let mut b = std::collections::hash_map::DefaultHasher::new();
        0xa5u8.hash(&mut a);
        0x5au8.hash(&mut b);
        CacheKey { a, b }
    }

    /// Add one part (length-prefixed, so parts cannot run into each other).
    pub fn part(mut self, part: &[u8]) -> CacheKey {
        part.hash(&mut self.a);
        part.hash(&mut self.b);
        self
    }

    /// The key as 32 hex digits.
    pub fn finish(&self) -> String {
        format!("{:016x}{:016x}", self.a.finish(), self.b.finish())
    }
}

impl Default for CacheKey {
    fn default() -> Self {
        CacheKey::new()
    }
}

/// Where compiled components live.
#[derive(Debug, Clone)]
pub struct CodeCache {
    dir: PathBuf,
    engine_key: String,
}

impl CodeCache {
    /// The cache for `engine` in `dir`.
    pub fn new(engine: &Engine, dir: PathBuf) -> CodeCache {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        env!("CARGO_PKG_VERSION").hash(&mut h);
        CodeCache {
            dir,
            engine_key: format!("{:016x}", h.finish()),
        }
    }

    /// The default directory: `$HOOKGATE_CACHE`, else `$XDG_CACHE_HOME/hookgate`,
    /// else `~/.cache/hookgate`, else `fallback`.
    pub fn default_dir(fallback: &Path) -> PathBuf {
        if let Some(d) = std::env::var_os("HOOKGATE_CACHE").filter(|v| !v.is_empty()) {
            return PathBuf::from(d);
        }
        if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
            return PathBuf::from(d).join("hookgate");
        }
        if let Some(h) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            return PathBuf::from(h).join(".cache").join("hookgate");
        }
        fallback.to_path_buf()
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn artifact(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}-{}.cwasm", self.engine_key))
    }

    /// Load the component whose wasm has digest `sha256`, compiling `wasm()`
    /// and writing the artifact on a miss (or when the artifact is stale or
    /// damaged). Returns the component and whether it was compiled now.
    pub fn load(
        &self,
        engine: &Engine,
        sha256: &str,
        wasm: impl FnOnce() -> Result<Vec<u8>, CacheError>,
    ) -> Result<(Component, bool), CacheError> {
        let path = self.artifact(sha256);
        if path.is_file() {
            // SAFETY: the artifact was written by this program into a cache
            // directory created with owner-only permissions, under a name that
            // includes the engine's compatibility hash; wasmtime still checks
            // the header and refuses an incompatible artifact, which we then
            // rebuild below. Artifacts are replaced by rename, never rewritten
            // in place, so a mapped file does not change under us.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(c) => return Ok((c, false)),
                Err(_) => {
                    let _ = fs::remove_file(&path);
                }
            }
        }
        let bytes = wasm()?;
        let compiled = engine
            .precompile_component(&bytes)
            .map_err(|e| CacheError::Wasm(format!("{e:#}")))?;
        self.write_atomic(&path, &compiled)?;
        // SAFETY: as above; the file was written just now by this process.
        let c = unsafe { Component::deserialize_file(engine, &path) }
            .map_err(|e| CacheError::Wasm(format!("{e:#}")))?;
        Ok((c, true))
    }

    fn ensure_dir(&self) -> Result<(), CacheError> {
        let io = |source| CacheError::Io {
            path: self.dir.clone(),
            source,
        };
        if !self.dir.is_dir() {
            fs::create_dir_all(&self.dir).map_err(io)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700)).map_err(io)?;
            }
        }
        Ok(())
    }

    fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
        self.ensure_dir()?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let io = |source| CacheError::Io {
            path: tmp.clone(),
            source,
        };
        let mut f = fs::File::create(&tmp).map_err(io)?;
        f.write_all(bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
        drop(f);
        fs::rename(&tmp, path).map_err(|source| CacheError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// True when `key` was recorded as a configuration the guest accepted.
    pub fn config_ok(&self, key: &str) -> bool {
        self.dir.join("config-ok").join(key).exists()
    }

    /// Record that the guest accepted the configuration `key`.
    pub fn mark_config_ok(&self, key: &str) -> Result<(), CacheError> {
        self.ensure_dir()?;
        let dir = self.dir.join("config-ok");
        fs::create_dir_all(&dir).map_err(|source| CacheError::Io {
            path: dir.clone(),
            source,
        })?;
        fs::write(dir.join(key), b"").map_err(|source| CacheError::Io { path: dir, source })
    }
}
