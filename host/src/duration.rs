//! Durations as people write them in policies and on the command line.

use std::time::Duration;

/// A duration that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a duration; write e.g. 45s, 30m, 12h or 7d")]
pub struct BadDuration(pub String);

/// Parse `45s`, `30m`, `12h`, `7d`, `2w`; a bare number is minutes.
pub fn parse(s: &str) -> Result<Duration, BadDuration> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| BadDuration(s.to_string()))?;
    let mult = match unit {
        "s" => 1,
        "m" | "" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(BadDuration(s.to_string())),
    };
    n.checked_mul(mult)
        .map(Duration::from_secs)
        .ok_or_else(|| BadDuration(s.to_string()))
}

/// `1h30m`, `45s`, `2d`: the largest units, at most two of them.
pub fn format(d: Duration) -> String {
    let s = d.as_secs();
    let units = [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")];
    let mut out = String::new();
    let mut rest = s;
    let mut parts = 0;
    for (n, u) in units {
        if rest >= n && parts < 2 {
            out.push_str(&format!("{}{u}", rest / n));
            rest %= n;
            parts += 1;
        } else if parts > 0 {
            parts = 2;
        }
    }
    if out.is_empty() {
        "0s".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(parse("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse("45s").unwrap(), Duration::from_secs(45));
        assert_eq!(parse("2").unwrap(), Duration::from_secs(120));
        assert!(parse("x").is_err() && parse("5y").is_err() && parse("").is_err());
        assert!(parse("99999999999999999999d").is_err());
        assert_eq!(format(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format(Duration::from_secs(86_400 + 60)), "1d");
        assert_eq!(format(Duration::from_secs(59)), "59s");
    }
}
