//! The admin users list at scale: seeds a database with N users (100,000 by
//! default) and reports the median time of the list's queries (the count and
//! one page, as `User::search` makes them for the page and the API).
//!
//!   cargo run --release --example users_bench -- DATABASE_URL [USERS] [ROUNDS]
//!
//! `bench/users.sh` runs it on a fresh SQLite file and on a PostgreSQL
//! schema of its own.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use gatehouse::config::DatabaseUrl;
use gatehouse::db::user::{SortColumn, User, UserFilter, UserSort};
use gatehouse::db::{Db, DbConn};
use gatehouse::domain::Role;

const PER_PAGE: i64 = 25;

fn seed(conn: &mut DbConn, n: i64) -> Result<(), gatehouse::Error> {
    // Names from a few first and last names (so a common word matches about
    // one user in eleven), numbered emails over 50 domains, one in ten linked
    // to Google, one in fifty disabled, one in a thousand an admin, a third
    // never signed in.
    let select = "'user' || i || '@example' || (i % 50) || '.com',
       (CASE i % 7 WHEN 0 THEN 'Ada' WHEN 1 THEN 'Grace' WHEN 2 THEN 'Alan' WHEN 3 THEN 'Edsger'
                   WHEN 4 THEN 'Barbara' WHEN 5 THEN 'Donald' ELSE 'Frances' END) || ' ' ||
       (CASE i % 11 WHEN 0 THEN 'Lovelace' WHEN 1 THEN 'Hopper' WHEN 2 THEN 'Turing' WHEN 3 THEN 'Dijkstra'
                    WHEN 4 THEN 'Liskov' WHEN 5 THEN 'Knuth' WHEN 6 THEN 'Allen' WHEN 7 THEN 'Smith'
                    WHEN 8 THEN 'Jones' WHEN 9 THEN 'Garcia' ELSE 'Nguyen' END) || ' ' || i,
       '$2b$12$benchbenchbenchbenchbenchbenchbenchbenchbenchbenchbench',
       CASE WHEN i % 10 = 0 THEN 'sub' || i END,
       CASE WHEN i % 1000 = 0 THEN 'admin' ELSE 'user' END,
       i % 50 = 0, 1700000000 + i * 60, 1700000000 + i * 60,
       CASE WHEN i % 3 = 0 THEN NULL ELSE 1790000000 + (i * 7919) % 5000000 END";
    let columns =
        "email, name, password_hash, google_sub, role, disabled, created_at, updated_at, last_sign_in_at";
    match conn {
        DbConn::Sqlite(c) => c.batch_execute(&format!(
            "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
             INSERT INTO users ({columns}) SELECT {select} FROM n; COMMIT; ANALYZE;"
        ))?,
        DbConn::Postgres(c) => {
            c.batch_execute(&format!(
                "INSERT INTO users ({columns}) SELECT {select} FROM generate_series(1, {n}) AS i"
            ))?;
            // On its own: VACUUM can't run in the implicit transaction of a batch.
            c.batch_execute("VACUUM ANALYZE users")?;
        }
    }
    Ok(())
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .expect("usage: users_bench DATABASE_URL [USERS] [ROUNDS]");
    let n: i64 = args
        .get(2)
        .map_or(100_000, |s| s.parse().expect("USERS is a number"));
    let rounds: usize = args.get(3).map_or(21, |s| s.parse().expect("ROUNDS is a number"));
    let url = DatabaseUrl::parse(url).expect("a database URL");
    let db = Db::connect(&url, 1).expect("the database answers");
    db.migrate().expect("migrations apply");
    let existing = db.run_blocking(User::counts).expect("count").0;
    if existing == 0 {
        let started = Instant::now();
        db.run_blocking(|conn| seed(conn, n)).expect("seeding");
        eprintln!("seeded {n} users in {:.1} s", started.elapsed().as_secs_f64());
    }
    let total = db.run_blocking(User::counts).expect("count").0;
    let last_page = (total + PER_PAGE - 1) / PER_PAGE;
    let sort = |column, descending| UserSort { column, descending };
    let q = |s: &str| Some(s.to_owned());
    let cases: Vec<(&str, UserFilter, i64)> = vec![
        ("first page (by email)", UserFilter::default(), 1),
        ("last page (by email)", UserFilter::default(), last_page),
        (
            "search 'smith' (1 in 11)",
            UserFilter {
                q: q("smith"),
                ..Default::default()
            },
            1,
        ),
        (
            "search 'user12345' (1 user)",
            UserFilter {
                q: q("user12345"),
                ..Default::default()
            },
            1,
        ),
        (
            "search 'example7.com' (1 in 50)",
            UserFilter {
                q: q("example7.com"),
                ..Default::default()
            },
            1,
        ),
        (
            "search 'zz' (2 letters, none)",
            UserFilter {
                q: q("zz"),
                ..Default::default()
            },
            1,
        ),
        (
            "Google-linked",
            UserFilter {
                google: Some(true),
                ..Default::default()
            },
            1,
        ),
        (
            "admins",
            UserFilter {
                role: Some(Role::Admin),
                ..Default::default()
            },
            1,
        ),
        (
            "disabled",
            UserFilter {
                disabled: Some(true),
                ..Default::default()
            },
            1,
        ),
        (
            "by last sign-in, newest",
            UserFilter {
                sort: sort(SortColumn::LastSignIn, true),
                ..Default::default()
            },
            1,
        ),
        (
            "by last sign-in, oldest",
            UserFilter {
                sort: sort(SortColumn::LastSignIn, false),
                ..Default::default()
            },
            1,
        ),
        (
            "by name, page 2000",
            UserFilter {
                sort: sort(SortColumn::Name, false),
                ..Default::default()
            },
            2000,
        ),
        (
            "by created, newest",
            UserFilter {
                sort: sort(SortColumn::Created, true),
                ..Default::default()
            },
            1,
        ),
        (
            "'smith' + Google + last sign-in",
            UserFilter {
                q: q("smith"),
                google: Some(true),
                sort: sort(SortColumn::LastSignIn, true),
                ..Default::default()
            },
            1,
        ),
    ];
    println!(
        "{} users, {}, median of {rounds} runs (count + one page of {PER_PAGE})",
        total,
        url.backend()
    );
    println!(
        "{:<36} {:>8} {:>9} {:>9}",
        "query", "matches", "median ms", "max ms"
    );
    for (label, filter, page) in cases {
        let mut times = Vec::with_capacity(rounds);
        let mut matches = 0;
        for _ in 0..rounds {
            let started = Instant::now();
            let (users, count) = db
                .run_blocking(|conn| User::search(conn, &filter, page, PER_PAGE))
                .expect("the query runs");
            times.push(started.elapsed());
            assert!(!users.is_empty() || count == 0 || page > 1);
            matches = count;
        }
        let max = *times.iter().max().unwrap();
        println!(
            "{label:<36} {matches:>8} {:>9.2} {:>9.2}",
            median(times).as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3
        );
    }
}
