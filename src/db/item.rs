//! The example resource: items anyone can list, signed-in people can read,
//! a fresh sign-in can create and an admin can delete.

use diesel::prelude::*;
use serde::Serialize;

use super::schema::items;
use super::DbConn;
use crate::domain::now;
use crate::domain::text::{check_line, check_lines};
use crate::error::{Error, FieldErrors, Result};

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = items)]
pub struct Item {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub created_by: Option<i32>,
    pub created_at: i64,
}

impl Item {
    /// Checks a new item's fields; returns them trimmed.
    pub fn parse(name: &str, description: &str) -> Result<(String, String), FieldErrors> {
        let (name, description) = (name.trim(), description.trim());
        let mut errors = FieldErrors::new();
        if name.is_empty() {
            errors.add("name", "Give the item a name.");
        } else if name.chars().count() > 100 {
            errors.add("name", "Names are at most 100 characters.");
        }
        if let Err(message) = check_line(name) {
            errors.add("name", message);
        }
        if description.chars().count() > 2000 {
            errors.add("description", "Descriptions are at most 2000 characters.");
        } else if let Err(message) = check_lines(description) {
            errors.add("description", message);
        }
        if errors.is_empty() {
            Ok((name.to_owned(), description.to_owned()))
        } else {
            Err(errors)
        }
    }

    pub fn list(conn: &mut DbConn) -> Result<Vec<Item>> {
        Ok(items::table
            .order(items::id.desc())
            .limit(200)
            .select(Item::as_select())
            .load(conn)?)
    }

    pub fn find(conn: &mut DbConn, id: i32) -> Result<Option<Item>> {
        Ok(items::table
            .find(id)
            .select(Item::as_select())
            .first(conn)
            .optional()?)
    }

    pub fn create(conn: &mut DbConn, name: &str, description: &str, created_by: i32) -> Result<Item> {
        conn.write(|conn| {
            diesel::insert_into(items::table)
                .values((
                    items::name.eq(name),
                    items::description.eq(description),
                    items::created_by.eq(created_by),
                    items::created_at.eq(now()),
                ))
                .execute(conn)?;
            items::table
                .filter(items::created_by.eq(created_by))
                .order(items::id.desc())
                .select(Item::as_select())
                .first(conn)
                .map_err(Error::from)
        })
    }

    /// Deletes an item; returns whether it existed.
    pub fn delete(conn: &mut DbConn, id: i32) -> Result<bool> {
        Ok(diesel::delete(items::table.find(id)).execute(conn)? > 0)
    }
}
