//! Gatehouse's own templates and static files, compiled into the crate.
//! [`super::assets`] serves them, each one overridable by a file of the same
//! name in the app's folders.

/// `(name, source)`: the name is the file's path under `templates/`
/// without `.html.tera`, as handlers and `{% extends %}` use it.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("account", include_str!("../../templates/account.html.tera")),
    (
        "account_passkeys",
        include_str!("../../templates/account_passkeys.html.tera"),
    ),
    (
        "admin/audit",
        include_str!("../../templates/admin/audit.html.tera"),
    ),
    (
        "admin/dashboard",
        include_str!("../../templates/admin/dashboard.html.tera"),
    ),
    (
        "admin/delete_user",
        include_str!("../../templates/admin/delete_user.html.tera"),
    ),
    (
        "admin/edit_user",
        include_str!("../../templates/admin/edit_user.html.tera"),
    ),
    ("admin/nav", include_str!("../../templates/admin/nav.html.tera")),
    (
        "admin/new_user",
        include_str!("../../templates/admin/new_user.html.tera"),
    ),
    (
        "admin/temporary_password",
        include_str!("../../templates/admin/temporary_password.html.tera"),
    ),
    ("admin/user", include_str!("../../templates/admin/user.html.tera")),
    (
        "admin/users",
        include_str!("../../templates/admin/users.html.tera"),
    ),
    ("base", include_str!("../../templates/base.html.tera")),
    ("error", include_str!("../../templates/error.html.tera")),
    (
        "google_error",
        include_str!("../../templates/google_error.html.tera"),
    ),
    (
        "google_onward",
        include_str!("../../templates/google_onward.html.tera"),
    ),
    ("index", include_str!("../../templates/index.html.tera")),
    ("item", include_str!("../../templates/item.html.tera")),
    ("items", include_str!("../../templates/items.html.tera")),
    ("login", include_str!("../../templates/login.html.tera")),
    (
        "login_two_factor",
        include_str!("../../templates/login_two_factor.html.tera"),
    ),
    (
        "partials/event_kind",
        include_str!("../../templates/partials/event_kind.html.tera"),
    ),
    (
        "partials/flash",
        include_str!("../../templates/partials/flash.html.tera"),
    ),
    (
        "partials/footer",
        include_str!("../../templates/partials/footer.html.tera"),
    ),
    (
        "partials/header",
        include_str!("../../templates/partials/header.html.tera"),
    ),
    (
        "password_forgot",
        include_str!("../../templates/password_forgot.html.tera"),
    ),
    (
        "password_forgot_sent",
        include_str!("../../templates/password_forgot_sent.html.tera"),
    ),
    (
        "password_reset",
        include_str!("../../templates/password_reset.html.tera"),
    ),
    ("protected", include_str!("../../templates/protected.html.tera")),
    ("register", include_str!("../../templates/register.html.tera")),
    (
        "register_confirm",
        include_str!("../../templates/register_confirm.html.tera"),
    ),
    (
        "register_sent",
        include_str!("../../templates/register_sent.html.tera"),
    ),
    ("two_factor", include_str!("../../templates/two_factor.html.tera")),
    (
        "two_factor_codes",
        include_str!("../../templates/two_factor_codes.html.tera"),
    ),
];

/// `(path under /static, bytes)`.
pub const STATIC: &[(&str, &[u8])] = &[
    ("favicon.svg", include_bytes!("../../static/favicon.svg")),
    ("google-g.svg", include_bytes!("../../static/google-g.svg")),
    ("passkeys.js", include_bytes!("../../static/passkeys.js")),
    ("style.css", include_bytes!("../../static/style.css")),
];
