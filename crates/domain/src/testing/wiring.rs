//! [`Wiring`]: the services built over the fakes the way the app builds them over the database, so
//! that every test suite (this crate's and the HTTP adapter's) wires them in one place.

use std::sync::Arc;

use super::{FakeCounters, FakeHasher, FakeIssuer, FakeSender, FixedClock, Store};
use crate::accounts::codes::{CodeKey, CodePolicy};
use crate::accounts::ports::{CodeRepository, TokenRepository, UserRepository};
use crate::accounts::{
    AccountService, ContactVerification, Proofs, TokenPolicy, VerificationService,
};
use crate::changes::ChangeService;
use crate::events::ports::EventRepository;
use crate::events::EventService;
use crate::invitations::ports::InvitationRepository;
use crate::invitations::{InvitationService, InvitationTtl};
use crate::webhooks::{DestinationPolicy, WebhookService};
use crate::PhoneRegion;

/// The ports of every service: the fakes over one [`Store`] and one [`FixedClock`], unless a test
/// replaced a repository (e.g. with a mock that stages a race) before building the services.
///
/// ```
/// use domain::testing::Wiring;
///
/// let wiring = Wiring::default();
/// let (events, invitations) = (wiring.events(), wiring.invitations());
/// wiring.clock.advance(chrono::Duration::days(1));
/// # let _ = (events, invitations);
/// ```
#[derive(Clone)]
pub struct Wiring {
    /// The data behind every repository port that no test replaced.
    pub store: Arc<Store>,
    /// The services' clock; tests may move it.
    pub clock: Arc<FixedClock>,
    /// The password hasher.
    pub hasher: Arc<FakeHasher>,
    /// The token issuer, also the source of webhook secrets.
    pub issuer: Arc<FakeIssuer>,
    /// The webhook sender.
    pub sender: Arc<FakeSender>,
    /// The user repository.
    pub users: Arc<dyn UserRepository>,
    /// The token repository.
    pub tokens: Arc<dyn TokenRepository>,
    /// The event repository.
    pub events: Arc<dyn EventRepository>,
    /// The invitation repository.
    pub invitations: Arc<dyn InvitationRepository>,
    /// The code repository.
    pub codes: Arc<dyn CodeRepository>,
    /// The abuse counters, on [`Wiring::clock`].
    pub counters: Arc<FakeCounters>,
    /// How long new invitations stay answerable.
    pub ttl: InvitationTtl,
    /// Whether contacts must be proven. [`ContactVerification::Off`] by default: the suites of
    /// the other rules register users whose contacts count at once; the proofs' suite sets
    /// [`ContactVerification::Required`].
    pub verification: ContactVerification,
}

impl Default for Wiring {
    fn default() -> Self {
        let store = Arc::new(Store::default());
        let clock = Arc::new(FixedClock::default());
        Self {
            codes: store.clone(),
            counters: Arc::new(FakeCounters::new(clock.clone())),
            verification: ContactVerification::Off,
            users: store.clone(),
            tokens: store.clone(),
            events: store.clone(),
            invitations: store.clone(),
            store,
            clock,
            hasher: Arc::new(FakeHasher::default()),
            issuer: Arc::new(FakeIssuer::default()),
            sender: Arc::new(FakeSender::default()),
            ttl: InvitationTtl::default(),
        }
    }
}

impl Wiring {
    /// Registration, login and tokens, with the default token policy.
    pub fn accounts(&self) -> AccountService {
        AccountService::new(
            self.users.clone(),
            self.tokens.clone(),
            self.hasher.clone(),
            self.issuer.clone(),
            self.clock.clone(),
            TokenPolicy::default(),
            Proofs {
                verification: self.verification,
                codes: self.verification_codes(),
            },
        )
    }

    /// Codes: the default policy, a fixed key, SMS to Iranian numbers.
    pub fn verification_codes(&self) -> VerificationService {
        VerificationService::new(
            self.codes.clone(),
            self.counters.clone(),
            self.issuer.clone(),
            self.clock.clone(),
            CodeKey::new([42; 32]),
            CodePolicy::default(),
            vec![PhoneRegion::default()],
        )
    }

    /// Events, members and roles.
    pub fn events(&self) -> EventService {
        EventService::new(self.events.clone(), self.clock.clone())
    }

    /// Sending, answering and managing invitations, with [`Wiring::ttl`].
    pub fn invitations(&self) -> InvitationService {
        InvitationService::new(
            self.users.clone(),
            self.events.clone(),
            self.invitations.clone(),
            self.clock.clone(),
        )
        .with_ttl(self.ttl)
    }

    /// The change feed and stream tickets.
    pub fn changes(&self) -> ChangeService {
        ChangeService::new(
            self.store.clone(),
            self.store.clone(),
            self.issuer.clone(),
            self.clock.clone(),
        )
    }

    /// One-click links, answering through [`Wiring::invitations`].
    pub fn links(&self) -> crate::links::LinkService {
        crate::links::LinkService::new(
            self.store.clone(),
            self.users.clone(),
            self.invitations(),
            self.clock.clone(),
        )
    }

    /// Calendar feeds, under the default `PUBLIC_URL`.
    pub fn calendars(&self) -> crate::calendars::CalendarService {
        crate::calendars::CalendarService::new(
            self.store.clone(),
            self.issuer.clone(),
            self.clock.clone(),
            crate::links::PublicUrl::default(),
        )
    }

    /// Webhooks, to public destinations only.
    pub fn webhooks(&self) -> WebhookService {
        WebhookService::new(
            self.store.clone(),
            self.store.clone(),
            self.sender.clone(),
            self.issuer.clone(),
            self.clock.clone(),
            DestinationPolicy::PublicOnly,
        )
    }
}

impl std::fmt::Debug for Wiring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wiring")
            .field("clock", &self.clock)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}
