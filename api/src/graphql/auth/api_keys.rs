use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::types::{ApiKey, Role};
use crate::graphql::{
    connection::{Conn, connection, page_args},
    context::{actor, services},
    errors::{ApiResult, UserErrorObject, payload},
    ids::{Kind, decode},
};

#[derive(InputObject)]
pub struct CreateApiKeyInput {
    pub name: String,
    /// What the key may do; at most the creator's own role. Reporting tools use VIEWER.
    pub role: Role,
}

#[derive(InputObject)]
pub struct RevokeApiKeyInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct CreateApiKeyPayload {
    pub api_key: Option<ApiKey>,
    /// The key itself, shown this once. Send it as `Authorization: Bearer <secret>`.
    pub secret: Option<String>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(SimpleObject)]
pub struct RevokeApiKeyPayload {
    pub api_key: Option<ApiKey>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(Default)]
pub struct ApiKeyQuery;

#[Object]
impl ApiKeyQuery {
    /// The organization's API keys, newest first (ADMIN and above).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn api_keys(&self, ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> ApiResult<Conn<ApiKey>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let page = s.identity.api_keys(a, page_args(ctx, first, after, s.settings.limits.page_size)?).await?;
        Ok(connection(page, |k| k.id, ApiKey::from))
    }
}

#[derive(Default)]
pub struct ApiKeyMutation;

#[Object]
impl ApiKeyMutation {
    async fn create_api_key(&self, ctx: &Context<'_>, input: CreateApiKeyInput) -> ApiResult<CreateApiKeyPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let (created, user_errors) = payload(s.identity.create_api_key(a, &input.name, input.role.into()).await)?;
        Ok(match created {
            Some(c) => CreateApiKeyPayload { api_key: Some(c.api_key.into()), secret: Some(c.secret), user_errors },
            None => CreateApiKeyPayload { api_key: None, secret: None, user_errors },
        })
    }

    async fn revoke_api_key(&self, ctx: &Context<'_>, input: RevokeApiKeyInput) -> ApiResult<RevokeApiKeyPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let id = decode(Kind::ApiKey, &input.id)?;
        let (key, user_errors) = payload(s.identity.revoke_api_key(a, id).await)?;
        Ok(RevokeApiKeyPayload { api_key: key.map(ApiKey::from), user_errors })
    }
}
