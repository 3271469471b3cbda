//! Relay cursor connections over domain pages: opaque cursors, `pageInfo`, `totalCount`.

use async_graphql::{
    Context, OutputType, SimpleObject,
    connection::{Connection, CursorType, Edge},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::{
    domain::pagination::{Direction, Page, PageArgs, page_size},
    error::DomainError,
};

/// Default page size when `first` is omitted.
pub const DEFAULT_PAGE: u64 = 20;

/// Opaque cursor wrapping a time-ordered row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdCursor(pub Uuid);

impl CursorType for IdCursor {
    type Error = DomainError;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let bad = || DomainError::bad_input("after", "malformed cursor");
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let arr: [u8; 17] = bytes.try_into().map_err(|_| bad())?;
        if arr[0] != b'c' {
            return Err(bad());
        }
        let mut id = [0u8; 16];
        id.copy_from_slice(&arr[1..]);
        Ok(Self(Uuid::from_bytes(id)))
    }

    fn encode_cursor(&self) -> String {
        let mut bytes = Vec::with_capacity(17);
        bytes.push(b'c');
        bytes.extend_from_slice(self.0.as_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }
}

#[derive(SimpleObject)]
pub struct ConnectionFields {
    /// Number of objects matching the filter, across all pages.
    pub total_count: u64,
}

pub type Conn<N> = Connection<IdCursor, N, ConnectionFields>;

/// Parses Relay arguments into domain page arguments; `totalCount` is only counted when
/// the query selects it.
pub fn page_args(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    max: u64,
) -> Result<PageArgs, DomainError> {
    let first = page_size(first, DEFAULT_PAGE, max)?;
    let after = after.map(|a| IdCursor::decode_cursor(&a)).transpose()?.map(|c| c.0);
    let with_total = ctx.look_ahead().field("totalCount").exists();
    Ok(PageArgs { first, after, direction: Direction::Desc, with_total })
}

/// Builds a connection from a page; `id_of` gives the cursor id of each item.
pub fn connection<T, N: OutputType>(page: Page<T>, id_of: impl Fn(&T) -> Uuid, node: impl Fn(T) -> N) -> Conn<N> {
    let mut conn = Connection::with_additional_fields(
        page.has_previous_page,
        page.has_next_page,
        ConnectionFields { total_count: page.total_count.unwrap_or(0) },
    );
    conn.edges.extend(page.items.into_iter().map(|item| Edge::new(IdCursor(id_of(&item)), node(item))));
    conn
}
