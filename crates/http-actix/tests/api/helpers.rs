//! One [`Ports`] per test: set the mocks' expectations, then [`Ports::send`] one request through
//! the whole app.

use std::sync::Arc;

use actix_web::http::header::{HeaderMap, AUTHORIZATION};
use actix_web::test::{self, TestRequest};
use actix_web::App;
use chrono::{DateTime, TimeZone, Utc};
use domain::ports::{
    Clock, IssuedToken, MockEventRepository, MockHealthCheck, MockInvitationRepository,
    MockPasswordHasher, MockTokenRepository, MockUserRepository, PortError, TokenHash, TokenIssuer,
};
use domain::services::{AccountService, EventService, InvitationService, TokenPolicy};
use domain::{
    Email, Event, EventDetails, EventId, Invitation, InvitationDetails, InvitationId,
    InvitationState, Mobile, PhoneRegion, Text, User, UserId,
};
use http_actix::AppState;
use serde_json::Value;

/// The bearer token that [`Ports::sign_in`] accepts.
pub const TOKEN: &str = "valid-token";

/// The time every test runs at.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap()
}

struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        now()
    }
}

/// Issues `new-token`; a token's digest is its bytes.
struct PlainIssuer;

impl TokenIssuer for PlainIssuer {
    fn issue(&self) -> IssuedToken {
        IssuedToken {
            secret: "new-token".into(),
            hash: self.digest("new-token"),
        }
    }

    fn digest(&self, secret: &str) -> TokenHash {
        TokenHash(secret.as_bytes().to_vec())
    }
}

/// The mocked ports behind the app.
#[derive(Default)]
pub struct Ports {
    pub users: MockUserRepository,
    pub tokens: MockTokenRepository,
    pub events: MockEventRepository,
    pub invitations: MockInvitationRepository,
    pub hasher: MockPasswordHasher,
    pub health: MockHealthCheck,
}

/// A response, its body read as JSON (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The `Content-Type` header.
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .map_or("", |value| value.to_str().unwrap())
    }
}

impl Ports {
    /// [`TOKEN`] belongs to `user`; any other token is unknown.
    pub fn sign_in(mut self, user: &User) -> Self {
        let user = user.clone();
        self.tokens
            .expect_find_user()
            .returning(move |hash, _| Ok((hash.0 == TOKEN.as_bytes()).then(|| user.clone())));
        self
    }

    /// Every token is unknown.
    pub fn signed_out(mut self) -> Self {
        self.tokens.expect_find_user().returning(|_, _| Ok(None));
        self
    }

    /// Sends one request through the app built over these ports.
    pub async fn send(self, req: TestRequest) -> Reply {
        let clock: Arc<dyn Clock> = Arc::new(FixedClock);
        let users = Arc::new(self.users);
        let events = Arc::new(self.events);
        let state = AppState {
            accounts: AccountService::new(
                users.clone(),
                Arc::new(self.tokens),
                Arc::new(self.hasher),
                Arc::new(PlainIssuer),
                clock.clone(),
                TokenPolicy::default(),
            ),
            events: EventService::new(events.clone(), clock.clone()),
            invitations: InvitationService::new(users, events, Arc::new(self.invitations), clock),
            health: Arc::new(self.health),
            phone_region: PhoneRegion::default(),
            limiter: Arc::new(http_actix::RateLimiter::new(
                http_actix::RateLimits::default(),
            )),
        };
        let app = test::init_service(App::new().configure(http_actix::configure(state))).await;
        let response = test::call_service(&app, req.to_request()).await;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = test::read_body(response).await;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }
}

/// A request carrying [`TOKEN`].
pub fn authed(req: TestRequest) -> TestRequest {
    req.insert_header((AUTHORIZATION, format!("Bearer {TOKEN}")))
}

/// A port failure the database would report when it is down.
pub fn unavailable() -> PortError {
    PortError::Unavailable(Box::new(std::io::Error::other("connection refused")))
}

/// A user with an email and a mobile.
pub fn user(name: &str) -> User {
    User {
        id: UserId::generate(),
        name: Text::from_stored(name.into()),
        email: Some(Email::parse(&format!("{}@example.com", name.to_lowercase())).unwrap()),
        mobile: Some(Mobile::parse("09352864812", PhoneRegion::default()).unwrap()),
        created_at: now(),
    }
}

/// An event owned by `owner`, with only a title.
pub fn event(owner: &User) -> Event {
    let title = Text::parse("title", "Launch party", 200, false).unwrap();
    Event {
        id: EventId::generate(),
        details: EventDetails::new(title, None, None, None, None).unwrap(),
        owner: owner.summary(),
        members_count: 1,
        created_at: now(),
    }
}

/// A pending invitation from `sender` to `invitee` for `event`.
pub fn invitation(event: &Event, sender: &User, invitee: &User) -> InvitationDetails {
    InvitationDetails {
        invitation: Invitation::restore(
            InvitationId::generate(),
            event.id,
            sender.id,
            invitee.id,
            "09352864812".into(),
            now(),
            InvitationState::Pending,
        ),
        event_title: event.details.title().clone(),
        sender: sender.summary(),
        invitee: invitee.summary(),
    }
}
