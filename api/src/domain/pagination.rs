//! Keyset pagination over time-ordered ids (UUIDv7), independent of GraphQL: stable under
//! concurrent inserts and O(page) at any depth, unlike OFFSET.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use crate::error::{DomainError, DomainResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Newest first (the default for lists a person reads).
    #[default]
    Desc,
    Asc,
}

#[derive(Debug, Clone, Copy)]
pub struct PageArgs {
    pub first: u64,
    pub after: Option<Uuid>,
    pub direction: Direction,
    /// Whether to run the COUNT query (only when the client asked for `totalCount`).
    pub with_total: bool,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub total_count: Option<u64>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
            total_count: self.total_count,
        }
    }
}

/// Validates a requested page size against the configured maximum.
pub fn page_size(first: Option<i32>, default: u64, max: u64) -> DomainResult<u64> {
    match first {
        None => Ok(default.min(max)),
        Some(n) if n < 0 => Err(DomainError::bad_input("first", "must not be negative")),
        Some(n) if u64::try_from(n).unwrap_or(u64::MAX) > max => {
            Err(DomainError::bad_input("first", format!("must be at most {max}")))
        }
        Some(n) => Ok(u64::try_from(n).unwrap_or(0)),
    }
}

/// Fetches one page of `select`, ordered by `id_col`, after the cursor id.
pub async fn fetch<E, C>(db: &C, select: Select<E>, id_col: E::Column, args: PageArgs) -> DomainResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let total_count = if args.with_total { Some(select.clone().count(db).await?) } else { None };
    let mut q = select;
    if let Some(after) = args.after {
        q = match args.direction {
            Direction::Desc => q.filter(id_col.lt(after)),
            Direction::Asc => q.filter(id_col.gt(after)),
        };
    }
    q = match args.direction {
        Direction::Desc => q.order_by_desc(id_col),
        Direction::Asc => q.order_by_asc(id_col),
    };
    let mut items = q.limit(args.first + 1).all(db).await?;
    let has_next_page = items.len() as u64 > args.first;
    items.truncate(usize::try_from(args.first).unwrap_or(usize::MAX));
    Ok(Page { items, has_next_page, has_previous_page: args.after.is_some(), total_count })
}
