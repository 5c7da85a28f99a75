//! A deliberately misbehaving validator for hookgate's runtime tests. Its
//! configuration names the misbehaviour: `{"mode": "loop"}` and so on.

use hookgate_sdk::{Event, Finding, Validator};
use serde::Deserialize;

#[derive(Deserialize)]
struct Config {
    mode: String,
}

struct Hostile;

impl Validator for Hostile {
    type Config = Config;

    fn check_config(config: &Config) -> Result<(), String> {
        if config.mode == "bad-config" {
            return Err("mode `bad-config` is refused at load time".into());
        }
        Ok(())
    }

    fn validate(event: &Event, config: &Config) -> Result<Vec<Finding>, String> {
        match config.mode.as_str() {
            // Spins until the host's CPU bound stops it.
            "loop" => {
                let mut x: u64 = event.cwd.len() as u64;
                loop {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            }
            "trap" => panic!("hostile guest panics on purpose"),
            // Asks for 4 GiB, a GiB at a time (all of wasm32's address space).
            "alloc" => {
                let blocks: Vec<Vec<u8>> = (0..4).map(|i| vec![i as u8 + 1; 1 << 30]).collect();
                let total: usize = blocks.iter().map(Vec::len).sum();
                Ok(vec![Finding::warn("alloc", format!("{total}"))])
            }
            // Grows memory a page at a time without end.
            "grow" => {
                let mut keep: Vec<Vec<u8>> = Vec::new();
                loop {
                    keep.push(vec![7u8; 64 * 1024]);
                    std::hint::black_box(&keep);
                }
            }
            // Calls into WASI, which validators are not given.
            "wasi" => {
                let v = std::env::var("HOME").unwrap_or_default();
                println!("{v}");
                Ok(Vec::new())
            }
            "error" => Err("hostile guest returns an error".into()),
            // Floods the host with findings and oversized text.
            "garbage" => Ok((0..10_000)
                .map(|i| {
                    Finding::deny(format!("rule {i} \u{0}\n"), "x".repeat(100_000))
                        .with_paths(["../../etc/passwd"])
                })
                .collect()),
            "deny" => Ok(vec![Finding::deny(
                "hostile-deny",
                "denied by the hostile guest",
            )]),
            // Reports whether the host granted the raw payload.
            "raw" => Ok(vec![Finding::warn(
                "raw",
                match &event.raw_json {
                    Some(raw) => format!("raw payload of {} bytes", raw.len()),
                    None => "no raw payload".to_string(),
                },
            )]),
            "log" => {
                hookgate_sdk::log::info(&"l".repeat(100_000));
                Ok(Vec::new())
            }
            // Reads the reservation store (needs `grants = ["reservations"]`).
            "reservations" => {
                let written: Vec<String> = event.written_paths().map(str::to_string).collect();
                let holders = hookgate_sdk::reservations::holders(
                    &written,
                    hookgate_sdk::reservations::Mode::Exclusive,
                )?;
                Ok(vec![Finding::warn(
                    "holders",
                    format!(
                        "{} holder(s): {}",
                        holders.len(),
                        holders
                            .iter()
                            .map(|h| h.agent_name.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                )])
            }
            other => Err(format!("unknown mode {other}")),
        }
    }
}

hookgate_sdk::validator!(Hostile);
