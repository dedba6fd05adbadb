//! The example resource, as pages and as JSON, one guard per kind of access:
//! the list is open to everyone (names only when anonymous), reading one
//! needs sign-in, creating one needs a fresh sign-in, deleting one needs the
//! admin role.

use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::serde::json::Json;
use rocket::{delete, get, post, routes, uri, Route, State};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::db::item::Item;
use crate::error::Error;
use crate::state::Gatehouse;
use crate::web::csrf::csrf_form;
use crate::web::json::ApiResult;
use crate::web::json_body::JsonBody;
use crate::web::page::{FormOutcome, Page, PageContext};
use crate::web::{AdminUser, CsrfForm, CurrentUser, FreshLogin, JwtOptional};

pub fn routes() -> Vec<Route> {
    routes![list_page, item_page, create_page, delete_page]
}

pub fn api_routes() -> Vec<Route> {
    routes![list_json, item_json, create_json, delete_json]
}

/// What an anonymous visitor sees of an item.
#[derive(Serialize)]
struct ItemName<'a> {
    id: i32,
    name: &'a str,
}

fn list_view(items: &[Item], signed_in: bool) -> Value {
    if signed_in {
        json!(items)
    } else {
        json!(items
            .iter()
            .map(|i| ItemName {
                id: i.id,
                name: &i.name
            })
            .collect::<Vec<_>>())
    }
}

/// The items page's context; `errors` and `form` for the new-item form.
async fn list_context(
    app: &Gatehouse,
    user: Option<&CurrentUser>,
    errors: Value,
    form: Value,
) -> Result<Value, Error> {
    let items = app.db.run(Item::list).await?;
    Ok(json!({
        "items": list_view(&items, user.is_some()),
        "full": user.is_some(),
        "fresh": user.is_some_and(|u| u.claims.fresh),
        "errors": errors,
        "form": form,
    }))
}

#[get("/items")]
async fn list_page(
    user: Option<CurrentUser>,
    page: PageContext,
    app: &State<Gatehouse>,
) -> Result<Page, Error> {
    let context = list_context(app, user.as_ref(), json!({}), json!({})).await?;
    Ok(page.render("items", context))
}

#[get("/items/<id>")]
async fn item_page(
    id: i32,
    user: CurrentUser,
    page: PageContext,
    app: &State<Gatehouse>,
) -> Result<Page, Error> {
    let item = app
        .db
        .run(move |conn| Item::find(conn, id))
        .await?
        .ok_or(Error::NotFound)?;
    Ok(page.render(
        "item",
        json!({ "item": item, "can_delete": user.user.is_admin() }),
    ))
}

csrf_form!(ItemForm {
    name: String,
    description: String
});

#[post("/items", data = "<form>")]
async fn create_page(
    form: CsrfForm<ItemForm>,
    user: FreshLogin,
    page: PageContext,
    app: &State<Gatehouse>,
) -> Result<FormOutcome, Error> {
    let (name, description) = match Item::parse(&form.name, &form.description) {
        Ok(fields) => fields,
        Err(errors) => {
            let typed = json!({ "name": form.name, "description": form.description });
            let context = list_context(app, Some(&user), Value::Object(errors.to_map()), typed).await?;
            return Ok(FormOutcome::Invalid((
                Status::UnprocessableEntity,
                page.render("items", context),
            )));
        }
    };
    let by = user.user.id;
    let item = app
        .db
        .run(move |conn| Item::create(conn, &name, &description, by))
        .await?;
    Ok(FormOutcome::Done(Flash::success(
        Redirect::to(uri!(item_page(item.id))),
        "Item created.",
    )))
}

csrf_form!(DeleteForm {});

#[post("/items/<id>/delete", data = "<_form>")]
async fn delete_page(
    id: i32,
    _form: CsrfForm<DeleteForm>,
    _admin: AdminUser,
    app: &State<Gatehouse>,
) -> Result<Flash<Redirect>, Error> {
    if !app.db.run(move |conn| Item::delete(conn, id)).await? {
        return Err(Error::NotFound);
    }
    Ok(Flash::success(Redirect::to(uri!(list_page)), "Item deleted."))
}

/// Names for everyone; whole items for a signed-in caller.
#[utoipa::path(tag = "items", responses((status = 200, description = "The items: names only when anonymous", body = super::api_views::ItemList)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ()))]
#[get("/items")]
async fn list_json(user: JwtOptional, app: &State<Gatehouse>) -> ApiResult<Json<Value>> {
    let items = app.db.run(Item::list).await?;
    Ok(Json(json!({ "items": list_view(&items, user.0.is_some()) })))
}

#[utoipa::path(tag = "items", responses((status = 200, description = "The item", body = Item)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[get("/items/<id>")]
async fn item_json(id: i32, _user: CurrentUser, app: &State<Gatehouse>) -> ApiResult<Json<Item>> {
    let item = app.db.run(move |conn| Item::find(conn, id)).await?;
    Ok(item.map(Json).ok_or(Error::NotFound)?)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewItem {
    name: String,
    #[serde(default)]
    description: String,
}

#[utoipa::path(tag = "items", request_body = NewItem, responses((status = 201, description = "Created", body = Item)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[post("/items", data = "<body>")]
async fn create_json(
    body: JsonBody<NewItem>,
    user: FreshLogin,
    app: &State<Gatehouse>,
) -> ApiResult<(Status, Json<Item>)> {
    let (name, description) = Item::parse(&body.name, &body.description).map_err(Error::Fields)?;
    let by = user.user.id;
    let item = app
        .db
        .run(move |conn| Item::create(conn, &name, &description, by))
        .await?;
    Ok((Status::Created, Json(item)))
}

#[utoipa::path(tag = "items", responses((status = 204, description = "Deleted")), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[delete("/items/<id>")]
async fn delete_json(id: i32, _admin: AdminUser, app: &State<Gatehouse>) -> ApiResult<Status> {
    if app.db.run(move |conn| Item::delete(conn, id)).await? {
        Ok(Status::NoContent)
    } else {
        Err(Error::NotFound.into())
    }
}
