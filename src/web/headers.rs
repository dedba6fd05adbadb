//! The security headers every response carries.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{ContentType, Header};
use rocket::{Request, Response};

use crate::state::Gatehouse;

/// Security headers on every response; pages are never cached, so the back
/// button after sign-out shows no protected content. The policy allows no
/// inline script or style and nothing from other origins.
pub struct SecurityHeaders;

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "Security headers",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        res.set_header(Header::new(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ));
        if !res.headers().contains("Referrer-Policy") {
            res.set_header(Header::new("Referrer-Policy", "same-origin"));
        }
        res.set_header(Header::new("X-Frame-Options", "DENY"));
        res.set_header(Header::new("X-Content-Type-Options", "nosniff"));
        res.set_header(Header::new("Cross-Origin-Opener-Policy", "same-origin"));
        res.set_header(Header::new(
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        ));
        // Where cookies are `Secure`, the site is served over HTTPS: keep
        // browsers on it.
        let secure = req
            .rocket()
            .state::<Gatehouse>()
            .is_some_and(|app| app.config.jwt.cookie_secure);
        if secure {
            res.set_header(Header::new("Strict-Transport-Security", "max-age=31536000"));
        }
        let is_page = res
            .content_type()
            .is_none_or(|ct| ct == ContentType::HTML || ct.is_json());
        if is_page && !res.headers().contains("Cache-Control") {
            res.set_header(Header::new("Cache-Control", "no-store"));
        }
    }
}
