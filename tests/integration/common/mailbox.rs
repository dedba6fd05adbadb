//! Reading the mails Gatehouse sends: the `.eml` files of the `file`
//! transport, or what the loopback SMTP server received.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A mail the file transport wrote.
#[derive(Debug)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Mail {
    /// The confirmation link's path and query, if the mail has one (the
    /// link is under `public_url`: `http://localhost:8000` in tests).
    pub fn link(&self) -> Option<String> {
        self.link_under("http://localhost:8000")
    }

    pub fn link_under(&self, base: &str) -> Option<String> {
        self.link_to(base, "/register/confirm?token=")
    }

    /// The password-reset link's path and query, if the mail has one.
    pub fn reset_link(&self) -> Option<String> {
        self.link_to("http://localhost:8000", "/password/reset?token=")
    }

    /// The path and query of the link under `base` that starts with `path`.
    pub fn link_to(&self, base: &str, path: &str) -> Option<String> {
        let start = self.body.find(&format!("{base}{path}"))?;
        let url = self.body[start..].split_whitespace().next()?;
        Some(url[base.len()..].to_owned())
    }
}

/// Every mail written so far, with its file, in no particular order.
pub fn mail_files(dir: &Path) -> Vec<(PathBuf, Mail)> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| {
            let mail = Mail::parse(&std::fs::read_to_string(&p).unwrap());
            (p, mail)
        })
        .collect()
}

/// Every mail written so far, in no particular order.
pub fn mails(dir: &Path) -> Vec<Mail> {
    mail_files(dir).into_iter().map(|(_, m)| m).collect()
}

impl Mail {
    /// A message as sent: headers, then the body as a reader sees it.
    pub fn parse(raw: &str) -> Mail {
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        let header = |name: &str| {
            head.lines()
                .find_map(|l| l.strip_prefix(name))
                .unwrap_or_default()
                .trim()
                .to_owned()
        };
        let body = match header("Content-Transfer-Encoding:").as_str() {
            "quoted-printable" => decode_quoted_printable(body),
            "7bit" => body.to_owned(),
            other => panic!("unexpected encoding {other}"),
        };
        Mail {
            to: header("To:"),
            subject: header("Subject:"),
            body,
        }
    }
}

/// What a mail reader shows of a quoted-printable body (RFC 2045): soft
/// line breaks joined, `=XX` decoded.
fn decode_quoted_printable(body: &str) -> String {
    let joined = body.replace("=\r\n", "");
    let mut out = Vec::new();
    let mut bytes = joined.bytes();
    while let Some(b) = bytes.next() {
        if b == b'=' {
            let hex: String = [bytes.next().unwrap(), bytes.next().unwrap()]
                .iter()
                .map(|&c| c as char)
                .collect();
            out.push(u8::from_str_radix(&hex, 16).unwrap());
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).unwrap()
}
