//! Proving contacts with codes (docs/api.md, "Proving contacts"): sending a code within the resend
//! limits, and confirming it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::accounts::codes::{CodeKey, CodePolicy, OneTimeCode};
use crate::accounts::ports::{CodePurpose, CodeRepository, NewCode, ProveContactError};
use crate::accounts::{Channel, User};
use crate::messages::OutgoingMessage;
use crate::ports::{AbuseCounters, Clock, CountError, CounterLimit, PortError, SecretSource};
use crate::{Contact, PhoneRegion};

/// Whether contacts must be proven (`CONTACT_VERIFICATION`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ContactVerification {
    /// A contact counts once its owner entered a code sent to it (the default).
    #[default]
    Required,
    /// Every contact counts as proven at once, as before proofs existed (closed deployments).
    Off,
}

/// A code on its way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeSent {
    /// The channel it went to.
    pub channel: Channel,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Why no code was sent.
#[derive(Debug, thiserror::Error)]
pub enum SendCodeError {
    /// The channel's contact is already proven, or the account has none.
    #[error("nothing to prove on this channel")]
    NothingToProve,
    /// Codes by SMS go only to numbers of the allowed regions (`SMS_ALLOWED_REGIONS`).
    #[error("codes are not sent by SMS to this number's region")]
    RegionNotAllowed,
    /// Another account has proven this contact: no code is sent to pester its owner.
    #[error("another account has proven this contact")]
    ProvenElsewhere,
    /// Too many codes: for the contact (one a minute, 5 an hour), the account or the client
    /// address (per day).
    #[error("too many codes; retry after {0:?}")]
    TooMany(Duration),
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

impl From<CountError> for SendCodeError {
    fn from(error: CountError) -> Self {
        match error {
            CountError::LimitReached { retry_after, .. } => Self::TooMany(retry_after),
            CountError::Port(error) => Self::Port(error),
        }
    }
}

/// Why a code did not prove the contact.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmCodeError {
    /// Wrong, expired, used, void after too many tries, or never sent: one answer for all.
    #[error("the code is wrong or expired")]
    Invalid,
    /// Another account proved the contact first.
    #[error("another account has proven this contact")]
    Taken,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Sends codes and checks them.
#[derive(Clone)]
pub struct VerificationService {
    codes: Arc<dyn CodeRepository>,
    counters: Arc<dyn AbuseCounters>,
    secrets: Arc<dyn SecretSource>,
    clock: Arc<dyn Clock>,
    key: CodeKey,
    policy: CodePolicy,
    sms_regions: Vec<PhoneRegion>,
}

impl std::fmt::Debug for VerificationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationService")
            .field("policy", &self.policy)
            .field("sms_regions", &self.sms_regions)
            .finish_non_exhaustive()
    }
}

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

impl VerificationService {
    /// Assembles the service. Codes go by SMS only to numbers of `sms_regions`.
    pub fn new(
        codes: Arc<dyn CodeRepository>,
        counters: Arc<dyn AbuseCounters>,
        secrets: Arc<dyn SecretSource>,
        clock: Arc<dyn Clock>,
        key: CodeKey,
        policy: CodePolicy,
        sms_regions: Vec<PhoneRegion>,
    ) -> Self {
        Self {
            codes,
            counters,
            secrets,
            clock,
            key,
            policy,
            sms_regions,
        }
    }

    /// The rules codes follow.
    pub fn policy(&self) -> CodePolicy {
        self.policy
    }

    /// Sends a code that proves the account's unproven contact of `channel` (its pending
    /// replacement, else its current one), asked for from client `address`.
    ///
    /// # Errors
    /// [`SendCodeError::NothingToProve`], [`SendCodeError::RegionNotAllowed`],
    /// [`SendCodeError::TooMany`] (nothing sent then), [`SendCodeError::Port`].
    pub async fn send_proof(
        &self,
        user: &User,
        channel: Channel,
        address: &str,
    ) -> Result<CodeSent, SendCodeError> {
        let contact = user
            .unproven(channel)
            .ok_or(SendCodeError::NothingToProve)?;
        if self.codes.proven_by_another(user.id, &contact).await? {
            return Err(SendCodeError::ProvenElsewhere);
        }
        let expires_at = self
            .send(user, CodePurpose::Prove(channel), contact, address)
            .await?;
        Ok(CodeSent {
            channel,
            expires_at,
        })
    }

    /// Sends a code for `purpose` to `contact` of `user`, within the limits: one a minute per
    /// purpose and 5 an hour per contact of the account (counted per account, so that an account claiming someone
    /// else's contact cannot use up the real owner's codes), the daily caps per account and per
    /// client address. Returns its expiry.
    ///
    /// # Errors
    /// As [`VerificationService::send_proof`].
    pub async fn send(
        &self,
        user: &User,
        purpose: CodePurpose,
        contact: Contact,
        address: &str,
    ) -> Result<DateTime<Utc>, SendCodeError> {
        if let Contact::Mobile(mobile) = &contact {
            if !mobile.in_regions(&self.sms_regions) {
                return Err(SendCodeError::RegionNotAllowed);
            }
        }
        self.count(user, purpose, &contact, address).await?;
        let now = self.clock.now();
        let ttl = chrono::Duration::from_std(self.policy.ttl).unwrap_or(chrono::Duration::MAX);
        let expires_at = now + ttl;
        let code = OneTimeCode::generate(self.secrets.as_ref());
        let digest = self
            .key
            .digest(&code, purpose.as_str(), contact_key(&contact));
        let message = OutgoingMessage::code(
            contact.clone(),
            &code,
            purpose,
            ttl.num_minutes(),
            user.locale,
            now,
        );
        self.codes
            .store_code(
                NewCode {
                    user_id: user.id,
                    purpose,
                    contact,
                    digest,
                    created_at: now,
                    expires_at,
                },
                message,
            )
            .await?;
        Ok(expires_at)
    }

    /// Counts one code under each limit, or none when one is full.
    async fn count(
        &self,
        user: &User,
        purpose: CodePurpose,
        contact: &Contact,
        address: &str,
    ) -> Result<(), SendCodeError> {
        let contact = contact_key(contact);
        let policy = &self.policy;
        let windows = [
            (
                vec![CounterLimit::new(
                    format!(
                        "code-contact-minute:{}:{}:{contact}",
                        user.id,
                        purpose.as_str()
                    ),
                    1,
                )],
                policy.resend_after,
            ),
            (
                vec![CounterLimit::new(
                    format!("code-contact-hour:{}:{contact}", user.id),
                    policy.per_contact_hourly,
                )],
                HOUR,
            ),
            (
                vec![
                    CounterLimit::new(
                        format!("code-account-day:{}", user.id),
                        policy.per_account_daily,
                    ),
                    CounterLimit::new(
                        format!("code-address-day:{address}"),
                        policy.per_address_daily,
                    ),
                ],
                DAY,
            ),
        ];
        let mut kept = Vec::new();
        for (counters, window) in windows {
            match self.counters.reserve(&counters, window).await {
                Ok(reservation) => kept.push(reservation),
                Err(error) => {
                    for reservation in kept {
                        // Best effort: a failure leaves the event counted, which errs on the safe side.
                        let _ = self.counters.give_back(reservation).await;
                    }
                    return Err(error.into());
                }
            }
        }
        Ok(())
    }

    /// Checks `code` against the account's code for `channel` and, when it matches, proves the
    /// contact it was sent to.
    ///
    /// # Errors
    /// [`ConfirmCodeError::Invalid`] for a wrong, expired, used or void code (each try counts);
    /// [`ConfirmCodeError::Taken`] when another account proved the contact first.
    pub async fn confirm(
        &self,
        user: &User,
        channel: Channel,
        code: &OneTimeCode,
    ) -> Result<User, ConfirmCodeError> {
        let purpose = CodePurpose::Prove(channel);
        let now = self.clock.now();
        let stored = self
            .codes
            .try_code(user.id, purpose, self.policy.max_attempts, now)
            .await?
            .ok_or(ConfirmCodeError::Invalid)?;
        let contact = contact_key(&stored.contact);
        if !self
            .key
            .matches(code, purpose.as_str(), contact, &stored.digest)
        {
            return Err(ConfirmCodeError::Invalid);
        }
        self.codes
            .prove_contact(user.id, purpose, stored.contact, stored.digest, now)
            .await
            .map_err(|error| match error {
                ProveContactError::CodeGone | ProveContactError::NotClaimed => {
                    ConfirmCodeError::Invalid
                }
                ProveContactError::Taken => ConfirmCodeError::Taken,
                ProveContactError::Port(error) => ConfirmCodeError::Port(error),
            })
    }

    /// Checks a `Login` code of `user` and consumes it: whether it was right.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn check_login_code(
        &self,
        user: &User,
        code: &OneTimeCode,
    ) -> Result<bool, PortError> {
        let purpose = CodePurpose::Login;
        let now = self.clock.now();
        let Some(stored) = self
            .codes
            .try_code(user.id, purpose, self.policy.max_attempts, now)
            .await?
        else {
            return Ok(false);
        };
        // The code was sent to a contact proven then: it must still be the account's.
        let still_owned = user.owns(&stored.contact);
        let matches = self.key.matches(
            code,
            purpose.as_str(),
            contact_key(&stored.contact),
            &stored.digest,
        );
        if !(matches && still_owned) {
            return Ok(false);
        }
        self.codes
            .consume_code(user.id, purpose, stored.digest)
            .await
    }
}

/// The normalized text of a contact: what codes are bound to and counted by.
pub fn contact_key(contact: &Contact) -> &str {
    match contact {
        Contact::Email(email) => email.as_str(),
        Contact::Mobile(mobile) => mobile.as_str(),
    }
}
