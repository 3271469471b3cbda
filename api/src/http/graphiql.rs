//! `GET /graphql`: the GraphiQL IDE (dev only). Operations over GET are refused with 405:
//! queries and mutations are POST-only, so a link or image tag can never run one.
//!
//! GraphiQL and its React peers are vendored under `api/assets/graphiql/` (pinned npm
//! releases, see the README there), embedded in the binary and served from
//! `/graphiql/assets/{package}/{file}`: the page loads nothing from another host, every
//! `<script>`/`<link>` carries the Subresource Integrity hash of its pinned file, and the
//! page's Content-Security-Policy lets scripts come only from this server (plus the one
//! inline bootstrap, by hash), so neither a CDN nor an injected tag can run script in a
//! page where the user pastes access tokens.

use std::sync::LazyLock;

use axum::{
    extract::{Path, RawQuery, State},
    http::{HeaderName, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use sha2::{Digest, Sha256};

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
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            (header::CONTENT_SECURITY_POLICY, CSP.clone()),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        PAGE.as_str(),
    )
        .into_response()
}

/// `GET /graphiql/assets/{package}/{file}`: one vendored file, from the binary. The package
/// directory names its pinned version, so a URL's content never changes: cached for a year.
pub async fn get_asset(State(state): State<AppState>, Path((package, file)): Path<(String, String)>) -> Response {
    let asset = ASSETS.iter().find(|a| a.package == package && a.file == file);
    let Some(asset) = asset.filter(|_| !state.services.settings.is_prod()) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (HeaderName::from_static("cross-origin-resource-policy"), HeaderValue::from_static("same-origin")),
        ],
        asset.bytes,
    )
        .into_response()
}

/// A vendored file: where it is served, its bytes and the SRI hash of the pinned release
/// (written here, not computed: a file changed without its hash is refused by the browser,
/// and `tests/api/supply.rs` fails).
struct Asset {
    package: &'static str,
    file: &'static str,
    content_type: &'static str,
    integrity: &'static str,
    bytes: &'static [u8],
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// In the order the page loads them (React before GraphiQL's UMD bundle).
static ASSETS: [Asset; 4] = [
    Asset {
        package: "react-18.3.1",
        file: "react.production.min.js",
        content_type: JS,
        integrity: "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
        bytes: include_bytes!("../../assets/graphiql/react-18.3.1/react.production.min.js"),
    },
    Asset {
        package: "react-dom-18.3.1",
        file: "react-dom.production.min.js",
        content_type: JS,
        integrity: "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
        bytes: include_bytes!("../../assets/graphiql/react-dom-18.3.1/react-dom.production.min.js"),
    },
    Asset {
        package: "graphiql-3.8.3",
        file: "graphiql.min.js",
        content_type: JS,
        integrity: "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
        bytes: include_bytes!("../../assets/graphiql/graphiql-3.8.3/graphiql.min.js"),
    },
    Asset {
        package: "graphiql-3.8.3",
        file: "graphiql.min.css",
        content_type: CSS,
        integrity: "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
        bytes: include_bytes!("../../assets/graphiql/graphiql-3.8.3/graphiql.min.css"),
    },
];

/// The page's own styles and bootstrap, inline and allowed by their hashes in the CSP.
const INLINE_STYLE: &str = "body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }";
const BOOTSTRAP: &str = r#"
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
  "#;

fn tag(asset: &Asset) -> String {
    let url = format!("/graphiql/assets/{}/{}", asset.package, asset.file);
    if asset.content_type == CSS {
        format!(r#"<link rel="stylesheet" href="{url}" integrity="{}" crossorigin="anonymous" />"#, asset.integrity)
    } else {
        format!(r#"<script src="{url}" integrity="{}" crossorigin="anonymous"></script>"#, asset.integrity)
    }
}

static PAGE: LazyLock<String> = LazyLock::new(|| {
    let styles: String = ASSETS.iter().filter(|a| a.content_type == CSS).map(tag).collect();
    let scripts: Vec<String> = ASSETS.iter().filter(|a| a.content_type == JS).map(tag).collect();
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>Shipgate GraphiQL</title>
  <style>{INLINE_STYLE}</style>
  {styles}
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  {}
  <script>{BOOTSTRAP}</script>
</body>
</html>
"#,
        scripts.join("\n  ")
    )
});

fn csp_hash(inline: &str) -> String {
    format!("'sha256-{}'", STANDARD.encode(Sha256::digest(inline.as_bytes())))
}

/// Same origin only: scripts and styles from `/graphiql/assets` plus the page's own inline
/// bootstrap and style by hash; `connect-src 'self'` covers `/graphql` and (CSP Level 3)
/// `ws(s)://` to the same host for `/graphql/ws`. GraphiQL's stylesheet embeds its fonts and
/// icons as `data:` URLs. React and CodeMirror set element styles through the CSSOM, which
/// `style-src` does not govern.
static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    let policy = format!(
        "default-src 'none'; script-src 'self' {}; style-src 'self' {}; font-src 'self' data:; \
         img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        csp_hash(BOOTSTRAP),
        csp_hash(INLINE_STYLE)
    );
    HeaderValue::from_str(&policy).unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
});
