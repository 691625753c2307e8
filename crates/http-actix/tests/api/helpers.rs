//! One [`Api`] per test: the real routes and extractors over the domain's real services, over the
//! shared in-memory fakes of `domain::testing`. Seed data through the services ([`Api::register`],
//! [`Api::event`], [`Api::invite`], [`Api::answer`]), then [`Api::send`] requests; every request
//! sees what the earlier ones stored. To inject a failure, replace one port with a mockall mock
//! ([`Api::with_users`] and the like).

use std::sync::Arc;

use actix_web::http::header::{HeaderMap, AUTHORIZATION};
use actix_web::middleware::from_fn;
use actix_web::test::{self, TestRequest};
use actix_web::App;
use chrono::{DateTime, Utc};
use domain::accounts::ports::{TokenRepository, UserRepository};
use domain::accounts::RegisterCommand;
use domain::accounts::User;
use domain::events::ports::EventRepository;
use domain::events::{Event, EventDetails};
use domain::idempotency::IdempotencyPolicy;
use domain::idempotency::IdempotencyService;
use domain::invitations::SendInvitations;
use domain::invitations::{InvitationDetails, InvitationEntries};
use domain::ports::{HealthCheck, PortError};
use domain::testing::{FakeHasher, FakeSender, FixedClock, IdempotencyKeys, Store, Wiring};
use domain::{Answer, Email, EventId, InvitationId, Mobile, Password, PhoneRegion, Text};
use http_actix::{AppState, RateLimiter, RateLimits};
use secrecy::ExposeSecret;
use serde_json::Value;

/// The password of every user [`Api::register`] makes.
pub(crate) const PASSWORD: &str = "correct horse";

/// The time every test starts at: 2026-11-26T10:00:00Z.
pub(crate) fn now() -> DateTime<Utc> {
    FixedClock::START
}

/// The app's ports: the fakes, unless a test replaced one.
pub(crate) struct Api {
    /// The data behind every repository port (unless replaced).
    pub store: Arc<Store>,
    /// The services' clock; tests may move it.
    pub clock: Arc<FixedClock>,
    /// The password hasher, which counts verifications without a hash.
    pub hasher: Arc<FakeHasher>,
    /// The idempotency keys.
    pub idempotency: Arc<IdempotencyKeys>,
    /// The webhook sender (which only checks destinations here: nothing delivers in these tests).
    pub sender: Arc<FakeSender>,
    wiring: Wiring,
    health: Arc<dyn HealthCheck>,
    limiter: Arc<RateLimiter>,
}

/// A registered user and their bearer token.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub user: User,
    pub token: String,
}

impl Caller {
    /// `req` carrying this caller's bearer token.
    pub(crate) fn authed(&self, req: TestRequest) -> TestRequest {
        req.insert_header((AUTHORIZATION, format!("Bearer {}", self.token)))
    }
}

/// A response, its body read as JSON (`Null` when empty, a string when not JSON).
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The `Content-Type` header.
    pub(crate) fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .map_or("", |value| value.to_str().unwrap())
    }
}

impl Default for Api {
    fn default() -> Self {
        Self::new()
    }
}

impl Api {
    /// An app over empty fakes.
    pub(crate) fn new() -> Self {
        let wiring = Wiring::default();
        Self {
            store: wiring.store.clone(),
            clock: wiring.clock.clone(),
            hasher: wiring.hasher.clone(),
            sender: wiring.sender.clone(),
            idempotency: Arc::new(IdempotencyKeys::default()),
            health: wiring.store.clone(),
            // The per-user quotas have tests of their own; here they would only get in the way
            // of the loops.
            limiter: Arc::new(RateLimiter::new(RateLimits {
                events_per_user_per_day: 0,
                event_edits_per_user: 0,
                stream_tickets_per_user: 0,
                webhook_creations_per_user: 0,
                event_notices_per_user_per_hour: 0,
                ..RateLimits::default()
            })),
            wiring,
        }
    }

    /// Replaces the user repository, e.g. with a mock that fails.
    pub(crate) fn with_users(mut self, users: impl UserRepository + 'static) -> Self {
        self.wiring.users = Arc::new(users);
        self
    }

    /// Replaces the token repository.
    pub(crate) fn with_tokens(mut self, tokens: impl TokenRepository + 'static) -> Self {
        self.wiring.tokens = Arc::new(tokens);
        self
    }

    /// Replaces the event repository.
    pub(crate) fn with_events(mut self, events: impl EventRepository + 'static) -> Self {
        self.wiring.events = Arc::new(events);
        self
    }

    /// Replaces the readiness check.
    pub(crate) fn with_health(mut self, health: impl HealthCheck + 'static) -> Self {
        self.health = Arc::new(health);
        self
    }

    /// The services over the current ports, as the app gets them.
    pub(crate) fn state(&self) -> AppState {
        AppState {
            accounts: self.wiring.accounts(),
            events: self.wiring.events(),
            invitations: self.wiring.invitations(),
            health: self.health.clone(),
            phone_region: PhoneRegion::default(),
            limiter: self.limiter.clone(),
            trusted_proxies: http_actix::TrustedProxies::default(),
            hashing: Arc::new(http_actix::HashingGate::default()),
            cursors: http_actix::CursorKey::new(&[7; 32]).unwrap(),
            idempotency: IdempotencyService::new(
                self.idempotency.clone(),
                self.clock.clone(),
                IdempotencyPolicy::default(),
            ),
            changes: self.wiring.changes(),
            streams: http_actix::api::changes::hub::StreamHub::new(
                self.store.clone(),
                http_actix::api::changes::hub::HubConfig::default(),
            ),
            webhooks: self.wiring.webhooks(),
            links: self.wiring.links(),
            opt_outs: domain::optouts::OptOutService::new(
                self.store.clone(),
                self.store.clone(),
                domain::optouts::UnsubscribeKey::new(&[9; 32]),
                self.clock.clone(),
            ),
            sms_inbound_secret: None,
            public_url: domain::links::PublicUrl::default(),
            calendars: self.wiring.calendars(),
        }
    }

    /// Sends one request through the whole app, under the app's edge middleware.
    pub(crate) async fn send(&self, req: TestRequest) -> Reply {
        let app = test::init_service(
            App::new()
                .wrap(from_fn(http_actix::response_headers))
                .configure(http_actix::configure(self.state())),
        )
        .await;
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

    /// Registers a user with [`PASSWORD`] through the account service.
    pub(crate) async fn register(
        &self,
        name: &str,
        email: Option<&str>,
        mobile: Option<&str>,
    ) -> Caller {
        let command = RegisterCommand {
            name: Text::from_stored(name.into()),
            email: email.map(|e| Email::parse(e).unwrap()),
            mobile: mobile.map(|m| Mobile::parse(m, PhoneRegion::default()).unwrap()),
            password: Some(Password::parse(PASSWORD.into()).unwrap()),
            locale: Default::default(),
        };
        let session = self
            .state()
            .accounts
            .register(command, "192.0.2.1")
            .await
            .unwrap();
        Caller {
            user: session.user,
            token: session.token.expose_secret().to_owned(),
        }
    }

    /// Creates an event with only a title, owned by `owner`.
    pub(crate) async fn event(&self, owner: &Caller, title: &str) -> Event {
        let details =
            EventDetails::new(Text::from_stored(title.into()), None, None, None, None).unwrap();
        self.state()
            .events
            .create(&owner.user, details)
            .await
            .unwrap()
            .event
    }

    /// Sends one invitation, which must be sent (not ignored).
    pub(crate) async fn invite(
        &self,
        sender: &Caller,
        event: EventId,
        contact: &str,
    ) -> InvitationDetails {
        let entries = InvitationEntries::parse(&[contact], PhoneRegion::default()).unwrap();
        let command = SendInvitations {
            event_id: event,
            entries,
            message: None,
            expires_in: None,
        };
        let mut report = self
            .state()
            .invitations
            .send(&sender.user, command)
            .await
            .unwrap();
        assert_eq!(report.sent.len(), 1, "{:?}", report.ignored);
        report.sent.remove(0)
    }

    /// Answers an invitation as `invitee`.
    pub(crate) async fn answer(&self, invitee: &Caller, invitation: InvitationId, answer: Answer) {
        self.state()
            .invitations
            .answer(
                &invitee.user,
                invitation,
                domain::invitations::Reply::of(answer),
                None,
            )
            .await
            .unwrap();
    }
}

/// A port failure the database would report when it is down.
pub(crate) fn unavailable() -> PortError {
    PortError::Unavailable(Box::new(std::io::Error::other("connection refused")))
}
