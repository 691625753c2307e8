//! Deliveries of changes to the outside (docs/api.md, "Webhooks" and "Email to invitees"): one per
//! change and webhook (or invitee's email), made from the change feed, then attempted until done,
//! with the retry rules of this module.
//!
//! The rules are the domain's: which answer counts as delivered, when to try again (the schedule,
//! its jitter, a receiver's `Retry-After`), when to give up, and when an endpoint is disabled.
//! Sending is the `WebhookSender` and `Mailer` ports'; claiming and storing, the `DeliveryQueue`'s.

use chrono::{DateTime, Duration, Utc};

pub(crate) use super::messages::{shorten, MessageOccasion};
pub use super::messages::{EventNotice, InvitationEmail, InvitationSms};

use crate::changes::{ChangeId, ChangeKind};
use crate::duration::whole_duration;
use crate::links::NewLink;
use crate::webhooks::{DisableReason, Webhook};
use crate::{AttemptId, DeliveryId, Email, Mobile, WebhookId};

/// Where a delivery goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryTarget {
    /// A webhook endpoint.
    Webhook(WebhookId),
    /// An invitee's email address.
    Email(Email),
    /// An invitee's mobile: a text, stored with the outbox's messages (docs/operations.md,
    /// "Messages") and sent by the message worker.
    Sms(Mobile),
}

/// A delivery to store: made once per change and target, when the change is dispatched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDelivery {
    /// Its id.
    pub id: DeliveryId,
    /// The change delivered.
    pub change_id: ChangeId,
    /// Its kind.
    pub kind: ChangeKind,
    /// Where it goes.
    pub target: DeliveryTarget,
    /// What is sent, made once so that every attempt sends the same: the change's JSON as the
    /// feed shows it (webhooks), or the composed message (email).
    pub payload: String,
    /// When it was made; also when its first attempt is due.
    pub created_at: DateTime<Utc>,
    /// The one-click link the message carries (docs/api.md, "Answering from a message"), stored
    /// with it; `None` for webhooks and messages without one.
    pub link: Option<NewLink>,
}

/// What a claimed delivery goes to.
#[derive(Clone, Debug)]
pub enum ClaimedTarget {
    /// The webhook, as stored when claimed.
    Webhook(Webhook),
    /// The address.
    Email(Email),
}

/// A delivery claimed for one attempt: no other worker, in any process, attempts it until the
/// claim is recorded or its lease runs out.
#[derive(Clone, Debug)]
pub struct ClaimedDelivery {
    /// Its id.
    pub id: DeliveryId,
    /// The claim: recording the attempt needs it still to hold.
    pub claim: uuid::Uuid,
    /// The change delivered.
    pub change_id: ChangeId,
    /// Its kind.
    pub kind: ChangeKind,
    /// Attempts made before this one.
    pub attempts: u32,
    /// What is sent.
    pub payload: String,
    /// Where.
    pub target: ClaimedTarget,
}

/// How an attempt ended, as far as the rules care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done: a `2xx`, or the mail server took the message.
    Success,
    /// The endpoint answered `410 Gone`: it wants no more.
    Gone,
    /// Failed; worth trying again, no sooner than `not_before` when the receiver said so
    /// (`Retry-After` on a `429` or `503`).
    Retry {
        /// The receiver's own wait.
        not_before: Option<Duration>,
    },
    /// Refused for good (a mail server's permanent `5xx`).
    Permanent,
}

impl Outcome {
    /// The outcome of an HTTP answer: `2xx` done; `410` gone; `429` and `503` retried, honouring
    /// `Retry-After`; anything else retried on the schedule.
    pub fn of_status(status: u16, retry_after: Option<Duration>) -> Self {
        match status {
            200..=299 => Self::Success,
            410 => Self::Gone,
            429 | 503 => Self::Retry {
                not_before: retry_after,
            },
            _ => Self::Retry { not_before: None },
        }
    }
}

/// Which deliveries a claim takes: webhooks and emails are claimed into pools of their own, so
/// that webhooks that never answer cannot hold up invitation emails (docs/operations.md, "Webhook
/// and email delivery").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimKind {
    /// Webhook deliveries.
    Webhooks,
    /// Invitation emails.
    Emails,
}

/// The most of the in-flight deliveries one target or one owner may hold, across claims and
/// processes: no endpoint, and no user with many webhooks, takes every slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimShares {
    /// Per target: one webhook, or email as a whole.
    pub per_target: u32,
    /// Per owner, over all of their webhooks.
    pub per_owner: u32,
}

/// The circuit breaker of an endpoint (docs/operations.md, "Webhook and email delivery"): after
/// [`CircuitBreaker::AFTER`] attempts in a row that got no answer (a timeout, a refused or
/// failed connection), the webhook's deliveries are not claimed for a pause, doubling with every
/// further one up to [`CircuitBreaker::LONGEST`]; any answer closes it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CircuitBreaker;

impl CircuitBreaker {
    /// Unanswered attempts in a row that open the breaker.
    pub const AFTER: u32 = 5;
    /// The first pause.
    pub const FIRST: Duration = Duration::seconds(30);
    /// The longest pause.
    pub const LONGEST: Duration = Duration::hours(1);

    /// How long an endpoint pauses after `unanswered` unanswered attempts in a row; `None` below
    /// [`CircuitBreaker::AFTER`].
    pub fn pause(unanswered: u32) -> Option<Duration> {
        let over = unanswered.checked_sub(Self::AFTER)?;
        let factor = 1_i32 << over.min(16);
        Some((Self::FIRST * factor).min(Self::LONGEST))
    }
}

/// What the rules decided after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Delivered; nothing more to do.
    Delivered,
    /// Try again at this time.
    RetryAt(DateTime<Utc>),
    /// No more attempts: the schedule ran out, or the refusal was permanent.
    GaveUp,
    /// Disable the endpoint: it receives nothing more, and its pending deliveries end.
    Disable(DisableReason),
}

/// One attempt as stored and listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRecord {
    /// Its id.
    pub id: AttemptId,
    /// 1 for the first attempt of its delivery.
    pub number: u32,
    /// When it started.
    pub at: DateTime<Utc>,
    /// How long it took, in milliseconds.
    pub duration_ms: u32,
    /// The HTTP status answered, if any.
    pub status_code: Option<u16>,
    /// Why it failed without an answer (timeout, refused connection, destination not allowed),
    /// or the mail server's refusal.
    pub error: Option<String>,
    /// The start of the answer's body ([`AttemptRecord::BODY_MAX`] bytes at most).
    pub response_body: Option<String>,
}

impl AttemptRecord {
    /// The most of an answer's body kept, in bytes.
    pub const BODY_MAX: usize = 1024;

    /// `body` cut to [`AttemptRecord::BODY_MAX`] bytes at a character boundary.
    pub fn truncate_body(body: &str) -> String {
        let mut end = body.len().min(Self::BODY_MAX);
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        body[..end].to_owned()
    }
}

/// A stored attempt of one webhook's delivery, for its owner's list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The delivery it was for.
    pub delivery: DeliveryId,
    /// The change delivered.
    pub change_id: ChangeId,
    /// Its kind.
    pub kind: ChangeKind,
    /// The attempt.
    pub record: AttemptRecord,
    /// What was decided after it.
    pub verdict: Verdict,
}

/// Why a retry schedule could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expected durations such as 5s,5m,30m,2h separated by commas, each at most 7d, at most 20")]
pub struct RetryScheduleError;

/// When deliveries are tried again and when endpoints are disabled (docs/api.md, "Webhooks").
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// The waits before the second, third, ... attempt; past the last, the delivery gives up.
    pub schedule: Vec<Duration>,
    /// Each wait is moved by up to this share of it, either way (0.2: ±20 %).
    pub jitter: f64,
    /// An endpoint whose deliveries have failed this long without a success is disabled.
    pub disable_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            schedule: [
                Duration::seconds(5),
                Duration::minutes(5),
                Duration::minutes(30),
                Duration::hours(2),
                Duration::hours(5),
                Duration::hours(10),
                Duration::hours(10),
            ]
            .to_vec(),
            jitter: 0.2,
            disable_after: Duration::days(5),
        }
    }
}

impl RetryPolicy {
    /// The longest `Retry-After` honoured; a receiver asking for more gets this.
    pub const RETRY_AFTER_MAX: Duration = Duration::days(1);

    /// Reads a schedule: durations in the grammar of every duration setting (`5s`, `5m`, `2h`,
    /// `1d`), separated by commas; `none` for no retries.
    ///
    /// # Errors
    /// [`RetryScheduleError`] for anything else, a wait over 7 days, or more than 20 waits.
    pub fn parse_schedule(raw: &str) -> Result<Vec<Duration>, RetryScheduleError> {
        if raw == "none" {
            return Ok(Vec::new());
        }
        let schedule = raw
            .split(',')
            .map(|part| {
                whole_duration(part.trim())
                    .filter(|d| *d > Duration::zero() && *d <= Duration::days(7))
                    .ok_or(RetryScheduleError)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if schedule.len() > 20 {
            return Err(RetryScheduleError);
        }
        Ok(schedule)
    }

    /// What follows attempt `number` (1 for the first) that ended with `outcome` at `now`.
    ///
    /// `failing_since` is when the endpoint's current run of failures began (`None` after a
    /// success, and always for email); `jitter` is a sample in `[-1, 1]` that moves the wait by
    /// that share of [`RetryPolicy::jitter`].
    pub fn decide(
        &self,
        number: u32,
        outcome: Outcome,
        now: DateTime<Utc>,
        failing_since: Option<DateTime<Utc>>,
        endpoint: bool,
        jitter: f64,
    ) -> Verdict {
        let not_before = match outcome {
            Outcome::Success => return Verdict::Delivered,
            Outcome::Gone if endpoint => return Verdict::Disable(DisableReason::Gone),
            Outcome::Gone | Outcome::Permanent => return Verdict::GaveUp,
            Outcome::Retry { not_before } => not_before,
        };
        if endpoint && now - failing_since.unwrap_or(now) >= self.disable_after {
            return Verdict::Disable(DisableReason::Failing);
        }
        let Some(wait) = self.schedule.get(number.saturating_sub(1) as usize) else {
            return Verdict::GaveUp;
        };
        let share = 1.0 + self.jitter * jitter.clamp(-1.0, 1.0);
        let jittered = Duration::milliseconds((wait.num_milliseconds() as f64 * share) as i64);
        let asked = not_before.map_or(Duration::zero(), |d| d.min(Self::RETRY_AFTER_MAX));
        Verdict::RetryAt(now + jittered.max(asked))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        crate::testing::FixedClock::START + Duration::seconds(seconds)
    }

    #[test]
    fn answers_map_to_outcomes() {
        assert_eq!(Outcome::of_status(200, None), Outcome::Success);
        assert_eq!(Outcome::of_status(204, None), Outcome::Success);
        assert_eq!(Outcome::of_status(410, None), Outcome::Gone);
        let wait = Some(Duration::seconds(30));
        assert_eq!(
            Outcome::of_status(429, wait),
            Outcome::Retry { not_before: wait }
        );
        assert_eq!(
            Outcome::of_status(503, wait),
            Outcome::Retry { not_before: wait }
        );
        assert_eq!(
            Outcome::of_status(500, wait),
            Outcome::Retry { not_before: None }
        );
        assert_eq!(
            Outcome::of_status(301, None),
            Outcome::Retry { not_before: None }
        );
    }

    #[test]
    fn failures_follow_the_schedule_then_give_up() {
        let policy = RetryPolicy::default();
        let retry = Outcome::Retry { not_before: None };
        let expected = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];
        for (number, wait) in (1..).zip(expected) {
            assert_eq!(
                policy.decide(number, retry, at(0), Some(at(0)), true, 0.0),
                Verdict::RetryAt(at(wait)),
                "attempt {number}"
            );
        }
        assert_eq!(
            policy.decide(8, retry, at(0), Some(at(0)), true, 0.0),
            Verdict::GaveUp
        );
        assert_eq!(
            policy.decide(1, Outcome::Success, at(0), Some(at(0)), true, 0.0),
            Verdict::Delivered
        );
    }

    #[test]
    fn jitter_moves_a_wait_by_at_most_a_fifth_either_way() {
        let policy = RetryPolicy::default();
        let retry = Outcome::Retry { not_before: None };
        assert_eq!(
            policy.decide(2, retry, at(0), None, true, 1.0),
            Verdict::RetryAt(at(360))
        );
        assert_eq!(
            policy.decide(2, retry, at(0), None, true, -1.0),
            Verdict::RetryAt(at(240))
        );
        assert_eq!(
            policy.decide(2, retry, at(0), None, true, 7.0),
            Verdict::RetryAt(at(360))
        );
    }

    #[test]
    fn a_receivers_retry_after_is_honoured_up_to_a_day() {
        let policy = RetryPolicy::default();
        let asked = |d| Outcome::Retry {
            not_before: Some(d),
        };
        assert_eq!(
            policy.decide(1, asked(Duration::minutes(10)), at(0), None, true, 0.0),
            Verdict::RetryAt(at(600))
        );
        // Sooner than the schedule: the schedule's wait stands.
        assert_eq!(
            policy.decide(2, asked(Duration::seconds(1)), at(0), None, true, 0.0),
            Verdict::RetryAt(at(300))
        );
        assert_eq!(
            policy.decide(1, asked(Duration::days(30)), at(0), None, true, 0.0),
            Verdict::RetryAt(at(86_400))
        );
    }

    #[test]
    fn an_endpoint_is_disabled_when_gone_or_failing_for_the_whole_period() {
        let policy = RetryPolicy::default();
        let retry = Outcome::Retry { not_before: None };
        assert_eq!(
            policy.decide(1, Outcome::Gone, at(0), None, true, 0.0),
            Verdict::Disable(DisableReason::Gone)
        );
        let five_days = 5 * 86_400;
        assert_eq!(
            policy.decide(3, retry, at(five_days), Some(at(0)), true, 0.0),
            Verdict::Disable(DisableReason::Failing)
        );
        assert_eq!(
            policy.decide(3, retry, at(five_days - 1), Some(at(0)), true, 0.0),
            Verdict::RetryAt(at(five_days - 1 + 1800))
        );
        // Email has no endpoint to disable: a permanent refusal or a 410-like end just stops.
        assert_eq!(
            policy.decide(1, Outcome::Permanent, at(0), None, false, 0.0),
            Verdict::GaveUp
        );
        assert_eq!(
            policy.decide(1, Outcome::Gone, at(0), None, false, 0.0),
            Verdict::GaveUp
        );
        assert_eq!(
            policy.decide(1, retry, at(five_days), Some(at(0)), false, 0.0),
            Verdict::RetryAt(at(five_days + 5))
        );
    }

    #[test]
    fn schedules_read_durations_separated_by_commas() {
        assert_eq!(
            RetryPolicy::parse_schedule("1s, 2s,1m").unwrap(),
            [
                Duration::seconds(1),
                Duration::seconds(2),
                Duration::minutes(1)
            ]
        );
        assert_eq!(RetryPolicy::parse_schedule("none").unwrap(), []);
        for bad in ["", "1s,", "0s", "8d", "1x", "-1s", "1.5s"] {
            assert_eq!(
                RetryPolicy::parse_schedule(bad),
                Err(RetryScheduleError),
                "{bad}"
            );
        }
        assert!(RetryPolicy::parse_schedule(&vec!["1s"; 21].join(",")).is_err());
    }

    #[test]
    fn bodies_are_cut_at_a_character_boundary() {
        let body = "é".repeat(AttemptRecord::BODY_MAX);
        let cut = AttemptRecord::truncate_body(&body);
        assert_eq!(cut.len(), AttemptRecord::BODY_MAX);
        let odd = format!("a{body}");
        assert_eq!(
            AttemptRecord::truncate_body(&odd).len(),
            AttemptRecord::BODY_MAX - 1
        );
        assert_eq!(AttemptRecord::truncate_body("ok"), "ok");
    }
}
