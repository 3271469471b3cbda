//! Schema assembly: merged roots, limits, and the SDL export.

use async_graphql::{MergedObject, SDLExportOptions, Schema, SchemaBuilder};

use super::{
    accounts::{AccountMutation, AccountQuery},
    auth::{ApiKeyMutation, ApiKeyQuery, SessionMutation, SessionQuery, UserMutation, UserQuery},
    channels::{ChannelMutation, ChannelQuery},
    fulfilment::FulfilmentMutation,
    introspection::RefuseIntrospection,
    labels::{LabelMutation, LabelQuery},
    limits::RequestLimits,
    node::NodeQuery,
    orders::{OrderMutation, OrderQuery},
    reports::ReportQuery,
    skus::{SkuMutation, SkuQuery},
    subscription::Subscription,
    warehouse::{WarehouseMutation, WarehouseQuery},
    waybills::{WaybillMutation, WaybillQuery},
};
use crate::{config::Limits, state::Services};

#[derive(MergedObject, Default)]
pub struct Query(
    SessionQuery,
    UserQuery,
    ApiKeyQuery,
    NodeQuery,
    AccountQuery,
    OrderQuery,
    ChannelQuery,
    WaybillQuery,
    SkuQuery,
    LabelQuery,
    ReportQuery,
    WarehouseQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    SessionMutation,
    UserMutation,
    ApiKeyMutation,
    AccountMutation,
    OrderMutation,
    ChannelMutation,
    FulfilmentMutation,
    WaybillMutation,
    SkuMutation,
    LabelMutation,
    WarehouseMutation,
);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

fn builder(limits: &Limits, prod: bool) -> SchemaBuilder<Query, Mutation, Subscription> {
    // RequestLimits first: it measures the text before the parser (or any other
    // extension) recurses into it.
    let b = Schema::build(Query::default(), Mutation::default(), Subscription)
        .extension(RequestLimits)
        .limit_depth(limits.depth)
        .limit_complexity(limits.complexity)
        .limit_recursive_depth(limits.recursive_depth)
        .limit_directives(limits.directives);
    if prod { b.disable_introspection().disable_suggestions().extension(RefuseIntrospection) } else { b }
}

/// The executable schema, with the services resolvers call.
pub fn build_schema(services: Services) -> AppSchema {
    let prod = services.settings.is_prod();
    let limits = services.settings.limits.clone();
    builder(&limits, prod).data(services).finish()
}

/// The schema without data, for SDL export.
pub fn build_schema_bare() -> AppSchema {
    builder(&Limits::default(), false).finish()
}

/// The sorted SDL committed as `schema.graphql`.
pub fn sdl() -> String {
    build_schema_bare().sdl_with_options(SDLExportOptions::new().sorted_fields().sorted_arguments().sorted_enum_items())
}

#[cfg(test)]
pub(crate) fn builder_for_tests(limits: &Limits, prod: bool) -> AppSchema {
    builder(limits, prod).finish()
}
