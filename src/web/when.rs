//! The `when` Tera filter: a Unix time as a relative time a person reads
//! ("3 minutes ago"), in a `<time>` element carrying the exact time on
//! hover (`title`) and for machines (`datetime`).
//! `{{ e.at | when }}`; `templates/partials/when.html.tera` does the same
//! for a time that may be missing.

use std::collections::HashMap;

use tera::{Filter, Value};
use time::macros::format_description;
use time::OffsetDateTime;

use crate::domain::now;

/// The filter, registered on the engine in [`super::assets`].
pub struct When;

impl Filter for When {
    fn filter(&self, value: &Value, _args: &HashMap<String, Value>) -> tera::Result<Value> {
        let at = value
            .as_i64()
            .ok_or_else(|| tera::Error::msg(format!("when: {value} is not a Unix time")))?;
        Ok(Value::String(time_element(at, now())))
    }

    /// Its output is built here from numbers only.
    fn is_safe(&self) -> bool {
        true
    }
}

/// `<time datetime="2026-12-04T12:40:00Z" title="2026-12-04 12:40:00 UTC">3 minutes ago</time>`.
pub fn time_element(at: i64, now: i64) -> String {
    let Ok(t) = OffsetDateTime::from_unix_timestamp(at) else {
        return format!("<time>{at}</time>");
    };
    let machine = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let human = format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    let (machine, human) = (t.format(machine), t.format(human));
    match (machine, human) {
        (Ok(machine), Ok(human)) => {
            format!(
                r#"<time datetime="{machine}" title="{human}">{}</time>"#,
                relative(at, now)
            )
        }
        _ => format!("<time>{at}</time>"),
    }
}

/// "just now", "3 minutes ago", "in 2 hours", "5 days ago", "1 year ago".
pub fn relative(at: i64, now: i64) -> String {
    let diff = now.saturating_sub(at);
    let secs = diff.unsigned_abs();
    if secs < 60 {
        return "just now".to_owned();
    }
    let (n, unit) = [
        (31_536_000, "year"),
        (2_592_000, "month"),
        (604_800, "week"),
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
    ]
    .into_iter()
    .find(|(size, _)| secs >= *size)
    .map(|(size, unit)| (secs / size, unit))
    .unwrap_or((secs / 60, "minute"));
    let plural = if n == 1 { "" } else { "s" };
    if diff >= 0 {
        format!("{n} {unit}{plural} ago")
    } else {
        format!("in {n} {unit}{plural}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_relative_with_the_exact_time_on_hover() {
        let now = 1_780_000_000;
        assert_eq!(relative(now - 10, now), "just now");
        assert_eq!(relative(now - 60, now), "1 minute ago");
        assert_eq!(relative(now - 180, now), "3 minutes ago");
        assert_eq!(relative(now - 7_200, now), "2 hours ago");
        assert_eq!(relative(now - 86_400 * 3, now), "3 days ago");
        assert_eq!(relative(now - 31_536_000 * 2, now), "2 years ago");
        assert_eq!(relative(now + 7_200, now), "in 2 hours");
        assert_eq!(
            time_element(0, 180),
            r#"<time datetime="1970-01-01T00:00:00Z" title="1970-01-01 00:00:00 UTC">3 minutes ago</time>"#
        );
    }

    #[test]
    fn the_filter_refuses_what_is_not_a_time() {
        let args = HashMap::new();
        assert!(When.filter(&Value::String("soon".into()), &args).is_err());
        let out = When.filter(&Value::from(0), &args).unwrap();
        assert!(out
            .as_str()
            .unwrap()
            .starts_with("<time datetime=\"1970-01-01T00:00:00Z\""));
    }
}
