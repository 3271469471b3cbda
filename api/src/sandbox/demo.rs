//! On an empty database with sandbox on, create a demo organization and OWNER so a
//! newcomer can open GraphiQL and sign in at once. The password is random and printed
//! once by the binary; it is never stored in clear.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use entity::enums::Role;

use sea_orm::{ActiveModelTrait, EntityTrait, Set};

use crate::{
    domain::{fulfilment::snapshot::Recipient, identity::OrgChoice},
    error::{DomainError, DomainResult},
    state::Services,
};

pub const DEMO_EMAIL: &str = "demo@shipgate.local";
pub const DEMO_ORGANIZATION: &str = "Demo Seller";

pub struct DemoLogin {
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for DemoLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoLogin").field("email", &self.email).finish_non_exhaustive()
    }
}

pub async fn seed(services: &Services) -> DomainResult<Option<DemoLogin>> {
    let s = &services.settings;
    if !s.sandbox || !s.seed_demo || services.identity.has_users().await? {
        return Ok(None);
    }
    let mut bytes = [0u8; 12];
    rand::fill(&mut bytes);
    let password = URL_SAFE_NO_PAD.encode(bytes);
    let view = services
        .identity
        .create_user_cli(DEMO_EMAIL, &password, Role::Owner, true, OrgChoice::New(DEMO_ORGANIZATION.into()))
        .await?;
    // A sender address, so labels print at once (a real tenant sets its own).
    let sender = Recipient {
        name: "Demo Seller Ltd".into(),
        phone: Some("+86 755 8888 0000".into()),
        line1: "Bldg 3, 18 Keji South Road, Nanshan".into(),
        city: Some("Shenzhen".into()),
        state: Some("Guangdong".into()),
        postal_code: Some("518057".into()),
        country_code: "CN".into(),
        ..Default::default()
    };
    let org = entity::organization::Entity::find_by_id(view.membership.organization_id).one(&services.db).await?;
    if let Some(org) = org {
        let mut a: entity::organization::ActiveModel = org.into();
        a.sender_address = Set(Some(serde_json::to_value(&sender).map_err(DomainError::internal)?));
        a.update(&services.db).await?;
    }
    Ok(Some(DemoLogin { email: DEMO_EMAIL.into(), password }))
}
