//! Text as it comes in: what a field may hold, and how text is bounded and
//! made safe to store and show (the audit log's emails, user agents and
//! details).

use std::borrow::Cow;

/// Characters that show nothing or reorder what follows: zero-width
/// spaces and joiners, bidi marks, embeddings, overrides and isolates, word
/// joiners and invisible operators, the soft hyphen, the byte-order mark,
/// and the rest of Unicode's default-ignorable code points (variation
/// selectors, tag characters, Hangul fillers, Mongolian selectors...).
/// A name holding one can pass for another on a page or in the audit log.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// A control character, or a line or paragraph separator (U+2028, U+2029:
/// line breaks in all but name).
fn is_control(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// The message for a field that holds a control character.
pub const CONTROL_MESSAGE: &str = "Remove the control characters (such as NUL or a line break).";

/// A single line of text (a name, an email, a search): no control
/// character at all (NUL, tab, line breaks, escape, the C1 set).
/// PostgreSQL refuses NUL, SQLite's full-text search stops at it, and the
/// rest only makes trouble in a page or a log line.
pub fn check_line(text: &str) -> Result<(), &'static str> {
    if text.chars().any(is_control) {
        Err(CONTROL_MESSAGE)
    } else {
        Ok(())
    }
}

/// Text of several lines (a description): line breaks and tabs are fine,
/// other control characters are not.
pub fn check_lines(text: &str) -> Result<(), &'static str> {
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        Err(CONTROL_MESSAGE)
    } else {
        Ok(())
    }
}

/// At most `max` characters: longer text is cut on a character boundary
/// and ends with `…` (which counts towards `max`).
pub fn bounded(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some(_) => {
            let keep = max.saturating_sub(1);
            let end = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
            Cow::Owned(format!("{}…", &text[..end]))
        }
    }
}

/// Text from anyone, fit to store and show: control and invisible
/// characters written as `\u{…}` escapes, then bounded to `max` characters.
/// For the audit log, which records what was typed, whatever it was.
pub fn escaped(text: &str, max: usize) -> String {
    // Escape at most what can be kept: a 900 KB input costs no more than
    // `max` characters of work.
    let head: String = text.chars().take(max + 1).collect();
    let mut out = String::with_capacity(head.len());
    for c in head.chars() {
        if c.is_control() || is_invisible(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    bounded(&out, max).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_refuse_control_characters() {
        assert!(check_line("Ada Lovelace").is_ok());
        for bad in ["a\0b", "a\tb", "a\nb", "\u{1b}[31m", "a\u{85}b", "a\u{2028}b"] {
            assert!(check_line(bad).is_err(), "{bad:?}");
        }
        assert!(check_lines("one\r\ntwo\tthree").is_ok());
        assert!(check_lines("one\0two").is_err());
    }

    #[test]
    fn default_ignorables_are_invisible() {
        for c in [
            '\u{FE0F}',
            '\u{E0041}',
            '\u{3164}',
            '\u{034F}',
            '\u{180B}',
            '\u{200D}',
        ] {
            assert!(is_invisible(c), "{c:?}");
        }
        for c in ['k', 'é', '\u{212A}', '한', ' '] {
            assert!(!is_invisible(c), "{c:?}");
        }
    }

    #[test]
    fn bounded_cuts_on_a_char_boundary_with_an_ellipsis() {
        assert_eq!(bounded("short", 10), "short");
        assert_eq!(bounded("abcdef", 6), "abcdef");
        assert_eq!(bounded("abcdefg", 6), "abcde…");
        let cut = bounded("ééééé", 3);
        assert_eq!(cut, "éé…");
        assert_eq!(cut.chars().count(), 3);
    }

    #[test]
    fn escaped_writes_what_was_typed_safely_and_briefly() {
        assert_eq!(escaped("a\0b@example.com", 254), "a\\u{0}b@example.com");
        assert_eq!(escaped("x\u{200B}y", 254), "x\\u{200b}y");
        let long = escaped(&"a".repeat(900_000), 254);
        assert_eq!(long.chars().count(), 254);
        assert!(long.ends_with('…'));
    }
}
