//! The per-address sign-in limits on PostgreSQL, shared by every instance
//! on the database: the generic cell rate algorithm (GCRA, what the
//! in-memory limiter of SQLite, `governor`, runs) over one row per address
//! and kind, one statement per attempt, on the database's clock.

#[cfg(feature = "postgres")]
use diesel::RunQueryDsl;

use super::DbConn;
use crate::error::Result;

/// One kind of limited request and its quota.
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    /// `attempt` or `start`.
    pub kind: &'static str,
    /// Requests allowed per minute (and at once, after a quiet minute).
    pub per_minute: u32,
}

impl Quota {
    /// Microseconds between two requests at the sustained rate.
    pub fn interval(self) -> i64 {
        (60_000_000 / i64::from(self.per_minute.max(1))).max(1)
    }
}

/// Takes one request of `quota` for `ip`: whether it is allowed. A refused
/// one changes nothing. PostgreSQL only (`None` on SQLite, which keeps its
/// limits in memory).
///
/// The row holds the time at which the address's quota is whole again (its
/// "theoretical arrival time"): each request moves it one interval later,
/// and is allowed as long as it lands at most a minute's worth of requests
/// ahead of now. `EXCLUDED.tat` is now plus one interval.
#[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
pub fn take(conn: &mut DbConn, quota: Quota, ip: &str) -> Result<Option<bool>> {
    #[cfg(feature = "postgres")]
    if let DbConn::Postgres(pg) = conn {
        use diesel::sql_types::{BigInt, Text};
        let interval = quota.interval();
        let burst = interval * i64::from(quota.per_minute.max(1));
        let taken = diesel::sql_query(
            "INSERT INTO sign_in_limits AS l (kind, ip, tat) \
             VALUES ($1, $2, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint + $3) \
             ON CONFLICT (kind, ip) DO UPDATE SET tat = GREATEST(l.tat + $3, EXCLUDED.tat) \
             WHERE GREATEST(l.tat + $3, EXCLUDED.tat) <= EXCLUDED.tat - $3 + $4",
        )
        .bind::<Text, _>(quota.kind)
        .bind::<Text, _>(ip)
        .bind::<BigInt, _>(interval)
        .bind::<BigInt, _>(burst)
        .execute(pg)?;
        return Ok(Some(taken == 1));
    }
    Ok(None)
}

/// Deletes the rows whose time has passed (they mean the same as none).
#[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
pub fn sweep(conn: &mut DbConn) -> Result<usize> {
    #[cfg(feature = "postgres")]
    if let DbConn::Postgres(pg) = conn {
        return Ok(diesel::sql_query(
            "DELETE FROM sign_in_limits WHERE tat < (extract(epoch FROM clock_timestamp()) * 1000000)::bigint",
        )
        .execute(pg)?);
    }
    Ok(0)
}
