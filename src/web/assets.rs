//! Templates and static files: Gatehouse's own are compiled in
//! ([`embedded`](super::embedded)), and a file of the same name in the app's
//! `template_dir` or `static_dir` replaces one of them, so an app can restyle
//! the sign-in page without copying the rest. Templates of the app's own are
//! loaded from `template_dir` too, and can extend Gatehouse's `base`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use rocket::http::ContentType;
use tera::Tera;

use super::embedded::{STATIC, TEMPLATES};
use crate::error::chain;

/// The template engine and where static files may be overridden; managed
/// state, made at ignite.
pub struct Assets {
    engine: RwLock<Engine>,
    template_dir: Option<PathBuf>,
    static_dir: Option<PathBuf>,
    /// When `template_dir` was last looked at (debug builds re-read it when a
    /// file there changes, at most once a second, as Rocket's templates did).
    checked: Mutex<Instant>,
}

struct Engine {
    tera: Tera,
    /// The templates that came from the app's folder (names), for the log.
    overridden: Vec<String>,
    /// The app's files and their times, to see a change.
    seen: Vec<(PathBuf, Option<SystemTime>)>,
}

impl fmt::Debug for Assets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Assets")
            .field("from_template_dir", &self.overridden())
            .field("static_dir", &self.static_dir)
            .finish()
    }
}

/// A static file's bytes and type.
pub enum StaticFile {
    Embedded(ContentType, &'static [u8]),
    /// A file in the app's `static_dir`.
    File(PathBuf),
}

impl Engine {
    /// Gatehouse's templates, then every `*.tera` file under `template_dir`
    /// (same name: it wins).
    fn load(template_dir: Option<&Path>) -> Result<Self, String> {
        let mut tera = Tera::default();
        // Every template is HTML: escape everything (a name has no suffix).
        tera.autoescape_on(vec![""]);
        tera.register_filter("when", super::when::When);
        tera.add_raw_templates(TEMPLATES.iter().copied())
            .map_err(|e| format!("Gatehouse's own templates: {}", chain(&e)))?;
        let mut engine = Engine {
            tera,
            overridden: Vec::new(),
            seen: Vec::new(),
        };
        if let Some(dir) = template_dir {
            let files = template_files(dir)?;
            engine.overridden = files.iter().map(|(_, name)| name.clone()).collect();
            engine.seen = modified(&files);
            engine
                .tera
                .add_template_files(files.iter().map(|(path, name)| (path, Some(name.as_str()))))
                .map_err(|e| format!("template_dir {}: {}", dir.display(), chain(&e)))?;
        }
        Ok(engine)
    }
}

fn modified(files: &[(PathBuf, String)]) -> Vec<(PathBuf, Option<SystemTime>)> {
    files
        .iter()
        .map(|(path, _)| {
            (
                path.clone(),
                std::fs::metadata(path).and_then(|m| m.modified()).ok(),
            )
        })
        .collect()
}

impl Assets {
    /// The engine, and where static files may be overridden. A template
    /// that doesn't parse, or extends one that doesn't exist, is an error
    /// naming the folder.
    pub fn load(template_dir: Option<&Path>, static_dir: Option<&Path>) -> Result<Self, String> {
        Ok(Assets {
            engine: RwLock::new(Engine::load(template_dir)?),
            template_dir: template_dir.map(Path::to_path_buf),
            static_dir: static_dir.map(Path::to_path_buf),
            checked: Mutex::new(Instant::now()),
        })
    }

    /// Renders a template by name (`login`, `admin/users`, or an app's own).
    pub fn render(&self, name: &str, context: &tera::Context) -> Result<String, String> {
        if cfg!(debug_assertions) {
            self.reload_if_changed();
        }
        let engine = self.engine.read().unwrap_or_else(|e| e.into_inner());
        engine.tera.render(name, context).map_err(|e| chain(&e))
    }

    /// The names of templates that came from `template_dir`.
    pub fn overridden(&self) -> Vec<String> {
        let engine = self.engine.read().unwrap_or_else(|e| e.into_inner());
        engine.overridden.clone()
    }

    /// Re-reads `template_dir` if a file there was added, removed or
    /// changed; a broken file is logged and the templates before it kept.
    fn reload_if_changed(&self) {
        let Some(dir) = &self.template_dir else { return };
        let Ok(mut checked) = self.checked.try_lock() else {
            return;
        };
        if checked.elapsed() < Duration::from_secs(1) {
            return;
        }
        *checked = Instant::now();
        let now = template_files(dir)
            .map(|files| modified(&files))
            .unwrap_or_default();
        if now == self.engine.read().unwrap_or_else(|e| e.into_inner()).seen {
            return;
        }
        match Engine::load(Some(dir)) {
            Ok(engine) => {
                *self.engine.write().unwrap_or_else(|e| e.into_inner()) = engine;
                log::info!("templates reloaded from {}", dir.display());
            }
            Err(e) => log::error!("templates not reloaded: {e}"),
        }
    }

    /// The static file at `path` (already checked by Rocket's segments
    /// guard: no `..`, no hidden files): the app's, or Gatehouse's own.
    pub fn static_file(&self, path: &Path) -> Option<StaticFile> {
        if let Some(dir) = &self.static_dir {
            // A link may not lead out of the folder.
            let inside = dir
                .join(path)
                .canonicalize()
                .ok()
                .filter(|file| file.is_file() && dir.canonicalize().is_ok_and(|d| file.starts_with(d)));
            if let Some(file) = inside {
                return Some(StaticFile::File(file));
            }
        }
        let wanted = path.to_str()?;
        STATIC
            .iter()
            .find(|(name, _)| *name == wanted)
            .map(|(name, bytes)| {
                let kind = Path::new(name)
                    .extension()
                    .and_then(|e| e.to_str())
                    .and_then(ContentType::from_extension)
                    .unwrap_or(ContentType::Binary);
                StaticFile::Embedded(kind, bytes)
            })
    }
}

/// `(path, name)` for every `*.html.tera` file under `dir`; the name is the
/// path under `dir` without `.html.tera` (`admin/users.html.tera` is
/// `admin/users`), as Gatehouse's own.
fn template_files(dir: &Path) -> Result<Vec<(PathBuf, String)>, String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let entries = std::fs::read_dir(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", folder.display()))?;
            let path = entry.path();
            // A linked folder is not followed (no loops); a linked file is.
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(path);
            } else if let Some(name) = template_name(dir, &path) {
                found.push((path, name));
            }
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(found)
}

/// Pages are HTML: only `*.html.tera` files are templates (so a
/// `login.txt.tera` can't replace the sign-in page).
fn template_name(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?.to_str()?.replace('\\', "/");
    relative.strip_suffix(".html.tera").map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files_under(dir: &str) -> Vec<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut out = Vec::new();
        let mut pending = vec![root.clone()];
        while let Some(folder) = pending.pop() {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    out.push(path.strip_prefix(&root).unwrap().to_str().unwrap().to_owned());
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn every_file_is_compiled_in() {
        let templates: Vec<String> = TEMPLATES.iter().map(|(n, _)| format!("{n}.html.tera")).collect();
        assert_eq!(
            templates,
            files_under("templates"),
            "src/web/embedded.rs lists templates/"
        );
        let statics: Vec<String> = STATIC.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(
            statics,
            files_under("static"),
            "src/web/embedded.rs lists static/"
        );
    }

    #[test]
    fn an_app_file_replaces_one_template_and_adds_its_own() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("login.html.tera"),
            r#"{% extends "base" %}{% block content %}<p id="mine">{{ who }}</p>{% endblock %}"#,
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("app")).unwrap();
        std::fs::write(dir.path().join("app/hello.html.tera"), "hi {{ who }}").unwrap();
        let assets = Assets::load(Some(dir.path()), None).unwrap();
        let mut ctx = tera::Context::new();
        ctx.insert("who", "<b>");
        for (key, value) in [
            ("site_name", "Site"),
            ("path", "/"),
            ("csrf_token", "t"),
            ("title", "T"),
            ("message", "M"),
        ] {
            ctx.insert(key, value);
        }
        ctx.insert("registration", &false);
        ctx.insert("password_reset", &false);
        ctx.insert("status", &404);
        let login = assets.render("login", &ctx).unwrap();
        assert!(login.contains(r#"<p id="mine">&lt;b&gt;</p>"#), "{login}");
        assert_eq!(assets.render("app/hello", &ctx).unwrap(), "hi &lt;b&gt;");
        // The rest are Gatehouse's own.
        assert!(assets.render("error", &ctx).is_ok());
        assert_eq!(assets.overridden(), ["app/hello", "login"]);
        // Debug builds see a changed file (checked at most once a second).
        if cfg!(debug_assertions) {
            std::fs::write(dir.path().join("app/hello.html.tera"), "bye {{ who }}").unwrap();
            *assets.checked.lock().unwrap() -= Duration::from_secs(2);
            assert_eq!(assets.render("app/hello", &ctx).unwrap(), "bye &lt;b&gt;");
        }
    }

    #[test]
    fn a_broken_app_template_names_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.html.tera"), r#"{% extends "nope" %}"#).unwrap();
        let err = Assets::load(Some(dir.path()), None).unwrap_err();
        assert!(err.contains("template_dir") && err.contains("nope"), "{err}");
    }

    #[test]
    fn static_files_come_from_the_app_first() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("style.css"), "body{}").unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "no").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), dir.path().join("leak.css")).unwrap();
        let assets = Assets::load(None, Some(dir.path())).unwrap();
        assert!(matches!(
            assets.static_file(Path::new("style.css")),
            Some(StaticFile::File(_))
        ));
        match assets.static_file(Path::new("favicon.svg")) {
            Some(StaticFile::Embedded(kind, bytes)) => {
                assert_eq!(kind, ContentType::SVG);
                assert!(!bytes.is_empty());
            }
            _ => panic!("favicon.svg is compiled in"),
        }
        assert!(assets.static_file(Path::new("nope.js")).is_none());
        assert!(
            assets.static_file(Path::new("leak.css")).is_none(),
            "a link out of the folder"
        );
    }
}
