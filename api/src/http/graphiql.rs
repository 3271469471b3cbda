//! `GET /graphql`: the GraphiQL IDE (dev only). Operations over GET are refused with 405:
//! queries and mutations are POST-only, so a link or image tag can never run one.

use axum::{
    extract::{RawQuery, State},
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};

use crate::app::AppState;

pub async fn get_graphql(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let has_operation = query.as_deref().is_some_and(|q| {
        q.split('&')
            .any(|kv| kv.starts_with("query=") || kv.starts_with("extensions=") || kv.starts_with("operationName="))
    });
    if has_operation {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "POST")],
            axum::Json(crate::graphql::errors::error_body(
                crate::error::ErrorCode::BadUserInput,
                "GraphQL operations must be sent with POST and Content-Type: application/json.",
            )),
        )
            .into_response();
    }
    if state.services.settings.is_prod() {
        return (StatusCode::NOT_FOUND, "GraphiQL is disabled in production").into_response();
    }
    Html(PAGE).into_response()
}

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>Shipgate GraphiQL</title>
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
  <link rel="stylesheet" href="https://unpkg.com/graphiql@3.8.3/graphiql.min.css" />
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script crossorigin src="https://unpkg.com/react@18.3.1/umd/react.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/graphiql@3.8.3/graphiql.min.js"></script>
  <script>
    const wsUrl = location.origin.replace(/^http/, 'ws') + '/graphql/ws';
    const fetcher = GraphiQL.createFetcher({ url: '/graphql', subscriptionUrl: wsUrl });
    const defaultQuery = `# Sign in (the demo login is printed in the server log on first start),
# then put the access token in the Headers tab:
#   { "Authorization": "Bearer <accessToken>" }
mutation Login {
  login(input: { email: "demo@shipgate.local", password: "<printed password>" }) {
    accessToken refreshToken accessTokenExpiresAt
    user { id email role }
    userErrors { code field message }
  }
}

query Me {
  me { id email role organization { id name } }
}
`;
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, { fetcher, defaultQuery, shouldPersistHeaders: true })
    );
  </script>
</body>
</html>
"#;
