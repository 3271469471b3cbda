//! Database connection (SQLite or PostgreSQL from the URL) and migrations.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

pub fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut opt = ConnectOptions::new(url.to_owned());
    opt.sqlx_logging(false).connect_timeout(Duration::from_secs(10)).acquire_timeout(Duration::from_secs(10));
    // A pooled connection is pinged only after 30 s idle, not on every checkout: the ping
    // is a round trip to the server before each statement outside a transaction.
    opt.test_before_acquire_if_idle_for(Duration::from_secs(30));
    if is_sqlite(url) {
        // WAL lets readers run beside the single writer; busy_timeout makes writers queue
        // instead of failing; foreign keys are off by default in SQLite.
        opt.max_connections(8).min_connections(1).map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    } else {
        opt.max_connections(32).min_connections(2);
    }
    Database::connect(opt).await
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// True when every known migration has been applied.
pub async fn migrations_current(db: &DatabaseConnection) -> Result<bool, DbErr> {
    Ok(Migrator::get_pending_migrations(db).await?.is_empty())
}

/// Begins a transaction that will write: `BEGIN IMMEDIATE` on SQLite (takes the write
/// lock up front, so a read-then-write transaction cannot fail with SQLITE_BUSY halfway),
/// a plain `BEGIN` on PostgreSQL.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        isolation_level: None,
        access_mode: None,
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
    })
    .await
}

/// Runs `f` in a write transaction ([`begin_write`]): commit on `Ok`, roll back on `Err`.
pub async fn write_transaction<F, T, E>(db: &DatabaseConnection, f: F) -> Result<T, E>
where
    F: for<'c> FnOnce(
            &'c DatabaseTransaction,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, E>> + Send + 'c>>
        + Send,
    T: Send,
    E: From<DbErr> + Send,
{
    let txn = begin_write(db).await?;
    match f(&txn).await {
        Ok(v) => {
            txn.commit().await?;
            Ok(v)
        }
        Err(e) => {
            txn.rollback().await?;
            Err(e)
        }
    }
}
