//! Supply chain (issue 17 item 11): GraphiQL is served by Shipgate itself — no other host in
//! the page, every script and stylesheet pinned by its Subresource Integrity hash, and a
//! Content-Security-Policy that lets only this server (and the page's own inline bootstrap,
//! by hash) run script.

use base64::{Engine, engine::general_purpose::STANDARD};
use sha2::{Digest, Sha256, Sha384};

use crate::{
    db_tests,
    helpers::{Backend, TestApp, spawn_with},
};

db_tests!(graphiql_is_self_hosted_pinned_and_locked_down);

/// The values of `attr="…"` in every tag of `html` that starts with `<tag`.
fn tags<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    html.match_indices(&format!("<{tag}"))
        .filter_map(|(i, _)| html[i..].find('>').map(|end| &html[i..i + end + 1]))
        .collect()
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

/// The text between `<tag…>` and `</tag>` of each such element.
fn inline_bodies<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    let close = format!("</{tag}>");
    tags(html, tag)
        .into_iter()
        .filter(|t| attr(t, "src").is_none())
        .filter_map(|t| {
            let start = html.find(t)? + t.len();
            let len = html[start..].find(&close)?;
            Some(&html[start..start + len])
        })
        .collect()
}

fn directive<'a>(csp: &'a str, name: &str) -> Vec<&'a str> {
    csp.split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix(name).filter(|rest| rest.starts_with(' ')))
        .map(|rest| rest.split_whitespace().collect())
        .unwrap_or_default()
}

async fn graphiql_is_self_hosted_pinned_and_locked_down(app: TestApp) {
    let c = &app.client;
    let r = c.get(app.url("/graphql")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = r
        .headers()
        .get("content-security-policy")
        .expect("GraphiQL page carries a Content-Security-Policy")
        .to_str()
        .unwrap()
        .to_owned();
    let page = r.text().await.unwrap();

    // No other host anywhere in the page: no absolute or protocol-relative URL at all.
    for needle in ["http://", "https://", "//unpkg", "cdn", "src=\"//", "href=\"//"] {
        assert!(!page.contains(needle), "page references {needle:?}:\n{page}");
    }

    // CSP: nothing but this origin; inline code only by hash; no eval.
    assert_eq!(directive(&csp, "default-src"), ["'none'"], "{csp}");
    for name in ["script-src", "style-src"] {
        let sources = directive(&csp, name);
        assert!(sources.contains(&"'self'"), "{name} in {csp}");
        for s in &sources {
            assert!(*s == "'self'" || s.starts_with("'sha256-"), "{name} allows {s}: {csp}");
        }
    }
    assert_eq!(directive(&csp, "connect-src"), ["'self'"], "{csp}");
    assert_eq!(directive(&csp, "frame-ancestors"), ["'none'"], "{csp}");
    assert!(!csp.contains("unsafe-eval") && !csp.contains("unsafe-inline") && !csp.contains("*"), "{csp}");

    // The inline bootstrap and style are exactly what the policy's hashes allow, and the
    // bootstrap still wires subscriptions to /graphql/ws and keeps the headers editor's
    // content across reloads.
    let inline_scripts = inline_bodies(&page, "script");
    let inline_styles = inline_bodies(&page, "style");
    assert_eq!(inline_scripts.len(), 1, "{page}");
    assert_eq!(inline_styles.len(), 1, "{page}");
    for (body, name) in
        inline_scripts.iter().map(|b| (b, "script-src")).chain(inline_styles.iter().map(|b| (b, "style-src")))
    {
        let hash = format!("'sha256-{}'", STANDARD.encode(Sha256::digest(body.as_bytes())));
        assert!(directive(&csp, name).contains(&hash.as_str()), "inline {name} body not allowed by {csp}");
    }
    let bootstrap = inline_scripts[0];
    assert!(bootstrap.contains("'/graphql/ws'") && bootstrap.contains("subscriptionUrl"), "{bootstrap}");
    assert!(bootstrap.contains("shouldPersistHeaders: true"), "{bootstrap}");

    // Every external script and stylesheet is ours, pinned by integrity, and the bytes served
    // hash to it.
    let mut assets: Vec<(String, String, &str)> = Vec::new();
    for t in tags(&page, "script") {
        if let Some(src) = attr(t, "src") {
            let integrity = attr(t, "integrity").unwrap_or_else(|| panic!("no integrity on {t}"));
            assets.push((src.to_owned(), integrity.to_owned(), "text/javascript"));
        }
    }
    for t in tags(&page, "link") {
        let href = attr(t, "href").unwrap_or_else(|| panic!("link without href: {t}"));
        assert_eq!(attr(t, "rel"), Some("stylesheet"), "{t}");
        let integrity = attr(t, "integrity").unwrap_or_else(|| panic!("no integrity on {t}"));
        assets.push((href.to_owned(), integrity.to_owned(), "text/css"));
    }
    let scripts = assets.iter().filter(|a| a.2 == "text/javascript").count();
    assert_eq!((scripts, assets.len() - scripts), (3, 1), "React, ReactDOM, GraphiQL and its CSS: {assets:?}");
    for (url, integrity, content_type) in &assets {
        assert!(url.starts_with("/graphiql/assets/"), "{url}");
        let r = c.get(app.url(url)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        let h = r.headers().clone();
        assert!(h["content-type"].to_str().unwrap().starts_with(content_type), "{url}: {:?}", h["content-type"]);
        let cache = h["cache-control"].to_str().unwrap();
        assert!(cache.contains("max-age=31536000") && cache.contains("immutable"), "{url}: {cache}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{url}");
        let body = r.bytes().await.unwrap();
        let served = format!("sha384-{}", STANDARD.encode(Sha384::digest(&body)));
        assert_eq!(&served, integrity, "{url}: served bytes do not match the page's integrity hash");
        // The vendored copy in the repository is the one served, with its licence beside it.
        let on_disk = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("api/assets/graphiql")
            .join(&url["/graphiql/assets/".len()..]);
        assert_eq!(std::fs::read(&on_disk).unwrap(), body.as_ref(), "{}", on_disk.display());
        assert!(on_disk.with_file_name("LICENSE").is_file(), "no LICENSE beside {}", on_disk.display());
    }

    // Anything else under the asset route is a 404, traversal included.
    for path in [
        "/graphiql/assets/graphiql-3.8.3/nope.js",
        "/graphiql/assets/graphiql-3.8.3/LICENSE",
        "/graphiql/assets/..%2F..%2Fsrc/lib.rs",
        "/graphiql/assets/react-18.3.1/..%2F..%2F..%2FCargo.toml",
    ] {
        assert_eq!(c.get(app.url(path)).send().await.unwrap().status(), 404, "{path}");
    }

    // Production serves neither the page nor its assets.
    let prod = spawn_with(Backend::Sqlite, |s| s.env = api::config::Environment::Prod).await;
    assert_eq!(prod.client.get(prod.url(&assets[0].0)).send().await.unwrap().status(), 404);
}
