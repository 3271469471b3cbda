//! Operations endpoints: health, readiness, metrics.

use serde_json::{Value, json};

use crate::{db_tests, helpers::TestApp};

db_tests!(health_ready_metrics);

async fn health_ready_metrics(app: TestApp) {
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["migrations"], true);

    app.gql("query Ping { __typename }", json!({}), None).await;
    app.gql("query Ping { __typename }", json!({}), None).await;
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("shipgate_graphql_requests_total{operation=\"Ping\",outcome=\"ok\"} 2"), "{text}");
    assert!(text.contains("shipgate_graphql_request_duration_seconds_count{operation=\"Ping\",outcome=\"ok\"} 2"));
}
