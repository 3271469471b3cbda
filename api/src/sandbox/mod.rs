//! Sandbox mode: fake providers that speak each real wire format, mounted under
//! `/sandbox/<provider>` when sandbox is on (and started on random ports by tests), and
//! the demo tenant a newcomer can log into.

pub mod demo;
pub mod ebay;
pub mod seed;

use std::sync::Arc;

use axum::Router;

/// Orders each fake marketplace starts with.
pub const SANDBOX_ORDERS: usize = 250;

#[derive(Clone)]
pub struct Sandbox {
    pub ebay: Arc<ebay::EbayFake>,
}

impl Sandbox {
    /// Builds the fakes for a server reachable at `public_url`, with the sandbox app
    /// registered and redirecting to this server's OAuth callbacks.
    pub fn new(public_url: &str) -> Self {
        let ebay = ebay::EbayFake::new(SANDBOX_ORDERS);
        ebay.register_app(
            ebay::SANDBOX_CLIENT_ID,
            ebay::FakeApp {
                client_secret: ebay::SANDBOX_CLIENT_SECRET.into(),
                ru_name: ebay::SANDBOX_RU_NAME.into(),
                accept_url: format!("{public_url}/oauth/callback/ebay"),
            },
        );
        if let Ok(mut base) = ebay.base_url.lock() {
            *base = format!("{public_url}/sandbox/ebay");
        }
        Self { ebay }
    }

    pub fn router(&self) -> Router {
        Router::new().nest("/sandbox/ebay", self.ebay.router())
    }
}
