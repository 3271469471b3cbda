//! Sandbox mode: fake providers that speak each real wire format, mounted under
//! `/sandbox/<provider>` when sandbox is on (and started on random ports by tests), and
//! the demo tenant a newcomer can log into.

pub mod aliexpress;
pub mod amazon;
pub mod demo;
pub mod ebay;
pub mod orangeconnex;
pub mod seed;
pub mod wish;

use std::sync::Arc;

use axum::Router;

/// Orders each fake marketplace starts with.
pub const SANDBOX_ORDERS: usize = 250;

#[derive(Clone)]
pub struct Sandbox {
    pub ebay: Arc<ebay::EbayFake>,
    pub aliexpress: Arc<aliexpress::AliExpressFake>,
    pub wish: Arc<wish::WishFake>,
    pub amazon: Arc<amazon::AmazonFake>,
    pub orangeconnex: Arc<orangeconnex::OcFake>,
}

impl Sandbox {
    /// Builds the fakes for a server reachable at `public_url`, with the sandbox app
    /// registered and redirecting to this server's OAuth callbacks. AliExpress and Wish
    /// sellers bring their own app (made on the fake's `/portal/apps`), so only eBay and
    /// Amazon get one here.
    pub fn new(public_url: &str, orders: usize) -> Self {
        let ebay = ebay::EbayFake::new(orders);
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

        let aliexpress = aliexpress::AliExpressFake::new(orders);
        if let Ok(mut base) = aliexpress.base_url.lock() {
            *base = format!("{public_url}/sandbox/aliexpress");
        }

        let wish = wish::WishFake::new(orders);
        if let Ok(mut base) = wish.base_url.lock() {
            *base = format!("{public_url}/sandbox/wish");
        }

        let amazon = amazon::AmazonFake::new(orders);
        amazon.register_app(
            amazon::SANDBOX_CLIENT_ID,
            amazon::FakeApp {
                application_id: amazon::SANDBOX_APPLICATION_ID.into(),
                client_secret: amazon::SANDBOX_CLIENT_SECRET.into(),
                redirect_uri: format!("{public_url}/oauth/callback/amazon"),
            },
        );
        if let Ok(mut base) = amazon.base_url.lock() {
            *base = format!("{public_url}/sandbox/amazon");
        }

        // OrangeConnex: the sandbox app, and time moving on its own so a newcomer sees
        // SKUs approved and orders advance in GraphiQL.
        let orangeconnex = orangeconnex::OcFake::new();
        orangeconnex.register_app(
            orangeconnex::SANDBOX_CLIENT_KEY,
            orangeconnex::FakeApp {
                secret_key: orangeconnex::SANDBOX_SECRET_KEY.into(),
                redirect_uri: format!("{public_url}/oauth/callback/orangeconnex"),
            },
        );
        orangeconnex.set_outbound_step(Some(chrono::Duration::seconds(15)));
        orangeconnex.set_inbound_step(Some(chrono::Duration::seconds(20)));
        orangeconnex.set_sku_review_delay(Some(chrono::Duration::seconds(20)));

        Self { ebay, aliexpress, wish, amazon, orangeconnex }
    }

    pub fn router(&self) -> Router {
        Router::new()
            .nest("/sandbox/ebay", self.ebay.router())
            .nest("/sandbox/aliexpress", self.aliexpress.router())
            .nest("/sandbox/wish", self.wish.router())
            .nest("/sandbox/amazon", self.amazon.router())
            .nest("/sandbox/orangeconnex", self.orangeconnex.router())
    }
}
