use std::net::IpAddr;

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::types::{Organization, User};
use crate::{
    domain::identity::{Session, UserView},
    graphql::{
        context::{actor, optional_actor, services},
        errors::{ApiResult, UserErrorObject, payload},
    },
};

/// The client's network address (the TCP peer), attached to each request by the HTTP and
/// WebSocket handlers; login attempts are throttled by it.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub IpAddr);

#[derive(InputObject)]
pub struct SignUpInput {
    pub organization_name: String,
    pub email: String,
    #[graphql(secret)]
    pub password: String,
}

#[derive(InputObject)]
pub struct LoginInput {
    pub email: String,
    #[graphql(secret)]
    pub password: String,
}

#[derive(InputObject)]
pub struct RefreshTokenInput {
    #[graphql(secret)]
    pub refresh_token: String,
}

#[derive(InputObject)]
pub struct LogoutInput {
    /// The session's refresh token; its whole rotation family is revoked.
    #[graphql(secret)]
    pub refresh_token: Option<String>,
    /// Also end every other session of the signed-in user (access tokens included).
    #[graphql(default)]
    pub all_sessions: bool,
}

/// A signed-in session. Tokens are null when `userErrors` is not empty.
#[derive(SimpleObject, Default)]
pub struct AuthPayload {
    /// JWT for `Authorization: Bearer …`; valid for 15 minutes.
    pub access_token: Option<String>,
    pub access_token_expires_at: Option<DateTime<Utc>>,
    /// Opaque, single-use: exchange it with `refreshToken` for a new pair.
    pub refresh_token: Option<String>,
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    pub user: Option<User>,
    pub user_errors: Vec<UserErrorObject>,
}

impl AuthPayload {
    fn from_result(result: (Option<Session>, Vec<UserErrorObject>)) -> Self {
        let (session, user_errors) = result;
        match session {
            Some(s) => Self {
                access_token: Some(s.access_token),
                access_token_expires_at: Some(s.access_token_expires_at),
                refresh_token: Some(s.refresh_token),
                refresh_token_expires_at: Some(s.refresh_token_expires_at),
                user: Some(User(UserView { user: s.user, membership: s.membership })),
                user_errors,
            },
            None => Self { user_errors, ..Self::default() },
        }
    }
}

#[derive(SimpleObject)]
pub struct LogoutPayload {
    pub ok: bool,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(Default)]
pub struct SessionQuery;

#[Object]
impl SessionQuery {
    /// The signed-in user (for API keys: UNAUTHENTICATED, as a key is not a user).
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<User> {
        let a = actor(ctx)?;
        let user_id = a.require_user()?;
        Ok(User(services(ctx)?.identity.user(a.tenant(), user_id).await?))
    }

    /// The caller's organization.
    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Organization> {
        let a = actor(ctx)?;
        Ok(Organization(services(ctx)?.identity.organization(a.tenant()).await?))
    }
}

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Creates an organization with the caller as its OWNER and signs them in.
    async fn sign_up(&self, ctx: &Context<'_>, input: SignUpInput) -> ApiResult<AuthPayload> {
        let s = services(ctx)?;
        let result = s.identity.sign_up(&input.organization_name, &input.email, &input.password).await;
        Ok(AuthPayload::from_result(payload(result)?))
    }

    // Failed attempts are throttled per account and client address: after a few failures
    // the next attempt must wait (1 s, then doubling, at most 15 minutes) and is answered
    // RATE_LIMITED with `extensions.retryAfter` until then (domain::identity::throttle).
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> ApiResult<AuthPayload> {
        let s = services(ctx)?;
        let client = ctx.data_opt::<ClientAddr>().map(|c| c.0);
        Ok(AuthPayload::from_result(payload(s.identity.login(&input.email, &input.password, client).await)?))
    }

    /// Exchanges a refresh token for a new pair. Each refresh token works once; reusing
    /// one revokes the session (UNAUTHENTICATED).
    async fn refresh_token(&self, ctx: &Context<'_>, input: RefreshTokenInput) -> ApiResult<AuthPayload> {
        let s = services(ctx)?;
        Ok(AuthPayload::from_result(payload(s.identity.refresh(&input.refresh_token).await)?))
    }

    async fn logout(&self, ctx: &Context<'_>, input: LogoutInput) -> ApiResult<LogoutPayload> {
        let s = services(ctx)?;
        let (ok, user_errors) =
            payload(s.identity.logout(optional_actor(ctx), input.refresh_token.as_deref(), input.all_sessions).await)?;
        Ok(LogoutPayload { ok: ok.is_some(), user_errors })
    }
}
