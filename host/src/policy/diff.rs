//! What a policy change loosens: lowered stages, removed validators and rules,
//! and failure outcomes that now fail open. Used by `policy check --against`.

use serde::Serialize;

use super::{Policy, ValidatorSpec};

/// One loosening.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Loosening {
    /// `validator` or `validator/rule`.
    pub target: String,
    /// What changed.
    pub change: String,
}

fn rule_ids(v: &ValidatorSpec) -> Vec<String> {
    let mut ids: Vec<String> = serde_json::from_str::<serde_json::Value>(&v.config_json)
        .ok()
        .and_then(|c| c.get("tier").cloned())
        .and_then(|t| t.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|t| t.get("id").and_then(|i| i.as_str()).map(str::to_string))
        .collect();
    for k in v.rule_stages.keys() {
        if !ids.contains(k) {
            ids.push(k.clone());
        }
    }
    ids
}

/// Everything `new` loosens relative to `old`.
pub fn loosenings(old: &Policy, new: &Policy) -> Vec<Loosening> {
    let mut out = Vec::new();
    if new.on_error < old.on_error {
        out.push(Loosening {
            target: "on_error".into(),
            change: format!("{} → {}", old.on_error, new.on_error),
        });
    }
    for o in &old.validators {
        let Some(n) = new.validators.iter().find(|n| n.name == o.name) else {
            out.push(Loosening {
                target: o.name.clone(),
                change: "validator removed".into(),
            });
            continue;
        };
        if n.stage < o.stage {
            out.push(Loosening {
                target: o.name.clone(),
                change: format!("stage lowered {} → {}", o.stage, n.stage),
            });
        }
        if n.on_error < o.on_error {
            out.push(Loosening {
                target: o.name.clone(),
                change: format!("on_error {} → {}", o.on_error, n.on_error),
            });
        }
        let new_ids = rule_ids(n);
        for id in rule_ids(o) {
            if !new_ids.contains(&id) {
                out.push(Loosening {
                    target: format!("{}/{id}", o.name),
                    change: "rule removed".into(),
                });
            } else if n.stage_for(&id) < o.stage_for(&id) {
                out.push(Loosening {
                    target: format!("{}/{id}", o.name),
                    change: format!("stage lowered {} → {}", o.stage_for(&id), n.stage_for(&id)),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{load, Layer};
    use super::*;

    #[test]
    fn lowered_and_removed_are_named() {
        let old = load(&[Layer::builtin()]).unwrap();
        let over = Layer {
            source: "p.toml".into(),
            base_dir: None,
            text: "on_error = \"allow\"\n[[validator]]\nname = \"write-guard\"\nstage = \"warn\"\nrules = { secrets = \"monitor\" }\n[[validator]]\nname = \"read-guard\"\nenabled = false\n".into(),
        };
        let new = load(&[Layer::builtin(), over]).unwrap();
        let l = loosenings(&old, &new);
        let text: Vec<String> = l
            .iter()
            .map(|l| format!("{}: {}", l.target, l.change))
            .collect();
        assert!(
            text.contains(&"write-guard: stage lowered enforce → warn".to_string()),
            "{text:?}"
        );
        assert!(
            text.contains(&"write-guard/secrets: stage lowered enforce → monitor".to_string()),
            "{text:?}"
        );
        assert!(
            text.contains(&"read-guard: validator removed".to_string()),
            "{text:?}"
        );
        assert!(loosenings(&new, &old)
            .iter()
            .all(|l| !l.change.contains("removed")));
    }
}
