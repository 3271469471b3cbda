//! In production, introspection is refused with an error rather than answered with
//! `null` (async-graphql's behaviour when it is disabled), so scanners and clients get a
//! clear, coded answer and nothing of the schema.

use std::sync::Arc;

use async_graphql::{
    ServerError, ServerResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery},
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};

pub struct RefuseIntrospection;

impl ExtensionFactory for RefuseIntrospection {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RefuseIntrospectionExt)
    }
}

struct RefuseIntrospectionExt;

#[async_trait::async_trait]
impl Extension for RefuseIntrospectionExt {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let in_operations = doc.operations.iter().any(|(_, op)| selects_introspection(&op.node.selection_set.node));
        let in_fragments = doc.fragments.values().any(|f| selects_introspection(&f.node.selection_set.node));
        if in_operations || in_fragments {
            return Err(ServerError::new("Introspection is disabled.", None));
        }
        Ok(doc)
    }
}

fn selects_introspection(set: &SelectionSet) -> bool {
    set.items.iter().any(|item| match &item.node {
        Selection::Field(f) => {
            let name = f.node.name.node.as_str();
            name == "__schema" || name == "__type" || selects_introspection(&f.node.selection_set.node)
        }
        Selection::InlineFragment(f) => selects_introspection(&f.node.selection_set.node),
        Selection::FragmentSpread(_) => false,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::Limits;

    #[tokio::test]
    async fn prod_schema_refuses_introspection() {
        let schema = crate::graphql::schema::builder_for_tests(&Limits::default(), true);
        let resp = schema.execute("{ __schema { types { name } } }").await;
        assert!(!resp.errors.is_empty(), "{:?}", resp.data);
        let resp = schema.execute("{ a: __type(name: \"Query\") { name } }").await;
        assert!(!resp.errors.is_empty());
        let resp = schema.execute("{ __typename }").await;
        assert!(resp.errors.is_empty());
    }
}
