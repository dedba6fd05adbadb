//! What every page's layout needs, gathered once by a request guard.

use std::borrow::Cow;

use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::{self, FlashMessage, FromRequest, Request};
use rocket::response::{self, content::RawHtml, Responder};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::web::assets::Assets;

use crate::state::Gatehouse;
use crate::web::csrf::CsrfToken;
use crate::web::guards::authenticate;

/// What a form gets: a redirect with a message, or a page (the form again
/// with its errors next to their fields and what was typed kept, or a
/// result shown once).
#[derive(rocket::Responder)]
#[allow(clippy::large_enum_variant)] // one per response, moved once
pub enum FormOutcome {
    Done(rocket::response::Flash<rocket::response::Redirect>),
    Shown(Page),
    Invalid((rocket::http::Status, Page)),
}

/// A template to render with its context: Gatehouse's own (`login`,
/// `admin/users`...) or one of the app's in its `template_dir`.
#[derive(Debug)]
pub struct Page {
    name: Cow<'static, str>,
    context: Value,
}

impl Page {
    /// A page without the layout's context (see [`PageContext::render`]).
    pub fn new(name: impl Into<Cow<'static, str>>, context: Value) -> Self {
        Page {
            name: name.into(),
            context,
        }
    }
}

impl<'r> Responder<'r, 'static> for Page {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let Some(assets) = req.rocket().state::<Assets>() else {
            log::error!(
                "page {}: no templates (a Rocket without gatehouse::stage)",
                self.name
            );
            return Err(Status::InternalServerError);
        };
        let html = tera::Context::from_value(self.context)
            .map_err(|e| e.to_string())
            .and_then(|context| assets.render(&self.name, &context))
            .map_err(|e| {
                log::error!("page {}: {e}", self.name);
                Status::InternalServerError
            })?;
        RawHtml(html).respond_to(req)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SignedInView {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct FlashView {
    pub kind: String,
    pub message: String,
}

/// The layout's context: site name, who is signed in (if anyone), the CSRF
/// value for forms, and a flash message. Always succeeds.
#[derive(Debug, Clone, Serialize)]
pub struct PageContext {
    pub site_name: String,
    pub current_user: Option<SignedInView>,
    pub csrf_token: String,
    pub flash: Option<FlashView>,
    /// The path of this page, for marking the navigation.
    pub path: String,
    /// Whether `/register` is open (for a link to it).
    pub registration: bool,
    /// Whether `/password/forgot` is open (for a link to it).
    pub password_reset: bool,
}

impl PageContext {
    /// Renders a template with the layout's context and the page's own.
    pub fn render(&self, name: impl Into<Cow<'static, str>>, page: impl Serialize) -> Page {
        let mut context = match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        if let Ok(Value::Object(extra)) = serde_json::to_value(page) {
            context.extend(extra);
        }
        Page::new(name, Value::Object(context))
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for PageContext {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let app = req.rocket().state::<Gatehouse>();
        let site_name = app
            .map(|app| app.config.site_name.clone())
            .unwrap_or_else(|| "Gatehouse".into());
        let registration = app.is_some_and(|app| app.config.registration);
        let password_reset = app.is_some_and(|app| app.config.password_reset);
        let current_user = authenticate(req).await.as_ref().ok().map(|u| SignedInView {
            id: u.user.id,
            name: u.user.display_name().to_owned(),
            email: u.user.email.clone(),
            is_admin: u.user.is_admin(),
        });
        let csrf_token = match req.guard::<CsrfToken>().await {
            Outcome::Success(token) => token.0,
            _ => String::new(),
        };
        let flash = match req.guard::<Option<FlashMessage<'_>>>().await {
            Outcome::Success(Some(flash)) => Some(FlashView {
                kind: flash.kind().to_owned(),
                message: flash.message().to_owned(),
            }),
            _ => None,
        };
        Outcome::Success(PageContext {
            site_name,
            current_user,
            csrf_token,
            flash,
            path: req.uri().path().to_string(),
            registration,
            password_reset,
        })
    }
}

/// A page whose URL holds a mailed link's token (registration, password
/// reset): sent with no referrer, so the token never leaks to another site.
#[derive(rocket::Responder)]
pub struct WithToken {
    page: (Status, Page),
    referrer: rocket::http::Header<'static>,
}

impl WithToken {
    pub fn new(status: Status, page: Page) -> Self {
        WithToken {
            page: (status, page),
            referrer: rocket::http::Header::new("Referrer-Policy", "no-referrer"),
        }
    }
}
