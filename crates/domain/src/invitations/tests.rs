//! The Invitation aggregate's rules, without a database.

use super::*;
use crate::ports::Clock;
use crate::testing::FixedClock;
use crate::PhoneRegion;

struct Parties {
    sender: UserId,
    invitee: UserId,
    stranger: UserId,
}

fn parties() -> Parties {
    Parties {
        sender: UserId::generate(),
        invitee: UserId::generate(),
        stranger: UserId::generate(),
    }
}

fn sent(p: &Parties, now: DateTime<Utc>, ttl: InvitationTtl) -> Invitation {
    Invitation::new_pending(
        EventId::generate(),
        p.sender,
        p.invitee,
        "x@y.io".into(),
        now,
    )
    .expiring(ttl, &crate::rsvp::RsvpRules::default())
}

#[test]
fn invitation_ttl_reads_whole_seconds_minutes_hours_and_days_or_0_for_never() {
    let parsed = |raw| InvitationTtl::parse(raw).map(InvitationTtl::duration);
    assert_eq!(parsed("90s"), Ok(Some(Duration::seconds(90))));
    assert_eq!(parsed("15m"), Ok(Some(Duration::minutes(15))));
    assert_eq!(parsed("36h"), Ok(Some(Duration::hours(36))));
    assert_eq!(parsed("7d"), Ok(Some(Duration::days(7))));
    assert_eq!(parsed("3650d"), Ok(Some(Duration::days(3650))));
    assert_eq!(parsed("0"), Ok(None));
    assert_eq!(parsed("0s"), Ok(None));
    assert_eq!(
        InvitationTtl::default(),
        InvitationTtl::parse("7d").unwrap()
    );
    for bad in [
        "",
        "7",
        "d",
        "7D",
        "7 d",
        " 7d",
        "+7d",
        "-7d",
        "1.5h",
        "7w",
        "7dd",
        "1h30m",
        "٧d",
        "3651d",
        "99999999999999999999d",
        "9223372036854775807s",
    ] {
        assert_eq!(
            InvitationTtl::parse(bad),
            Err(InvitationTtlError),
            "{bad:?}"
        );
    }
}

#[test]
fn a_new_invitation_expires_one_ttl_after_it_was_sent_or_never() {
    let p = parties();
    let now = FixedClock::START;
    assert_eq!(
        sent(&p, now, InvitationTtl::DEFAULT).expires_at(),
        Some(now + Duration::days(7))
    );
    assert_eq!(sent(&p, now, InvitationTtl::NEVER).expires_at(), None);
}

#[test]
fn a_pending_invitation_is_expired_from_its_expiry_on_as_the_clock_moves() {
    let p = parties();
    let clock = FixedClock::default();
    let ttl = InvitationTtl::parse("2s").unwrap();
    let invitation = sent(&p, clock.now(), ttl);
    assert_eq!(invitation.status_at(clock.now()), InvitationStatus::Pending);
    clock.advance(Duration::milliseconds(1999));
    assert_eq!(invitation.status_at(clock.now()), InvitationStatus::Pending);
    clock.advance(Duration::milliseconds(1));
    assert_eq!(invitation.status_at(clock.now()), InvitationStatus::Expired);
    assert_eq!(invitation.status(), InvitationStatus::Pending, "as stored");
    let seen = invitation.clone().as_of(clock.now());
    assert_eq!(seen.status(), InvitationStatus::Expired);
    assert_eq!(seen.state(), InvitationState::Expired);
    // The clock going back does not revive what was marked expired.
    clock.advance(Duration::seconds(-10));
    assert_eq!(seen.status_at(clock.now()), InvitationStatus::Expired);
    assert_eq!(invitation.status_at(clock.now()), InvitationStatus::Pending);

    let never = sent(&p, clock.now(), InvitationTtl::NEVER);
    clock.advance(Duration::days(36_500));
    assert_eq!(never.status_at(clock.now()), InvitationStatus::Pending);
}

#[test]
fn only_pending_invitations_expire() {
    let p = parties();
    let clock = FixedClock::default();
    let mut answered = sent(&p, clock.now(), InvitationTtl::parse("1h").unwrap());
    answered
        .answer(
            p.invitee,
            None,
            Reply::of(Answer::Reject),
            &RsvpRules::default(),
            clock.now(),
        )
        .unwrap();
    let mut cancelled = sent(&p, clock.now(), InvitationTtl::parse("1h").unwrap());
    cancelled
        .cancel(p.sender, Some(Role::Owner), clock.now())
        .unwrap();
    clock.advance(Duration::days(1));
    assert_eq!(answered.status_at(clock.now()), InvitationStatus::Rejected);
    assert_eq!(
        cancelled.status_at(clock.now()),
        InvitationStatus::Cancelled
    );
}

#[test]
fn r10_an_expired_invitation_cannot_be_answered_cancelled_or_resent() {
    let p = parties();
    let clock = FixedClock::default();
    let ttl = InvitationTtl::parse("1h").unwrap();
    let mut invitation = sent(&p, clock.now(), ttl);
    clock.advance(Duration::hours(1));
    let now = clock.now();
    assert_eq!(
        invitation.answer(
            p.invitee,
            None,
            Reply::of(Answer::Accept),
            &RsvpRules::default(),
            now
        ),
        Err(AnswerRefused::NotPending(NotPending::Expired))
    );
    assert_eq!(
        invitation.cancel(p.sender, Some(Role::Owner), now),
        Err(ManageRefused::NotPending(NotPending::Expired))
    );
    assert_eq!(
        invitation.resend(
            p.sender,
            Some(Role::Owner),
            ttl,
            &crate::rsvp::RsvpRules::default(),
            now
        ),
        Err(ManageRefused::NotPending(NotPending::Expired))
    );
    assert_eq!(invitation.state(), InvitationState::Pending, "unchanged");
}

#[test]
fn r12_the_sender_the_invitee_and_the_events_managers_see_an_invitation_nobody_else() {
    let p = parties();
    let invitation = sent(&p, FixedClock::START, InvitationTtl::DEFAULT);
    assert_eq!(
        invitation.standing_of(p.sender, Some(Role::Cohost)),
        Standing::Sender
    );
    // A sender's rights last as long as their management role.
    for lost in [None, Some(Role::Member)] {
        assert_eq!(invitation.standing_of(p.sender, lost), Standing::Outsider);
        assert!(!invitation.is_visible_to(p.sender, lost));
    }
    assert_eq!(invitation.standing_of(p.invitee, None), Standing::Invitee);
    assert_eq!(
        invitation.standing_of(p.stranger, Some(Role::Owner)),
        Standing::Manager
    );
    for role in [None, Some(Role::Member)] {
        assert_eq!(invitation.standing_of(p.stranger, role), Standing::Outsider);
        assert!(!invitation.is_visible_to(p.stranger, role));
    }
    for manager in [Role::Owner, Role::Cohost] {
        assert!(invitation.is_visible_to(p.stranger, Some(manager)));
    }
}

#[test]
fn the_sender_and_the_events_managers_cancel_the_invitee_may_not_and_others_see_nothing() {
    let p = parties();
    let now = FixedClock::START;
    let fresh = || sent(&p, now, InvitationTtl::DEFAULT);
    for (by, role) in [
        (p.sender, Some(Role::Cohost)),
        (p.stranger, Some(Role::Owner)),
        (p.stranger, Some(Role::Cohost)),
    ] {
        let mut invitation = fresh();
        invitation.cancel(by, role, now).unwrap();
        assert_eq!(invitation.status(), InvitationStatus::Cancelled);
        assert_eq!(invitation.cancelled_at(), Some(now));
        assert_eq!(invitation.answered_at(), None);
    }
    let mut invitation = fresh();
    assert_eq!(
        invitation.cancel(p.invitee, None, now),
        Err(ManageRefused::ByInvitee)
    );
    for role in [None, Some(Role::Member)] {
        assert_eq!(
            invitation.cancel(p.stranger, role, now),
            Err(ManageRefused::NotVisible)
        );
    }
    assert_eq!(invitation.state(), InvitationState::Pending);
}

#[test]
fn an_answered_or_cancelled_invitation_cannot_be_cancelled_answered_or_resent() {
    let p = parties();
    let now = FixedClock::START;
    let ttl = InvitationTtl::DEFAULT;
    let mut accepted = sent(&p, now, ttl);
    accepted
        .answer(
            p.invitee,
            None,
            Reply::of(Answer::Accept),
            &RsvpRules::default(),
            now,
        )
        .unwrap();
    assert_eq!(
        accepted.cancel(p.sender, Some(Role::Owner), now),
        Err(ManageRefused::NotPending(NotPending::Answered))
    );
    assert_eq!(
        accepted.resend(
            p.sender,
            Some(Role::Owner),
            ttl,
            &crate::rsvp::RsvpRules::default(),
            now
        ),
        Err(ManageRefused::NotPending(NotPending::Answered))
    );
    let mut cancelled = sent(&p, now, ttl);
    cancelled.cancel(p.sender, Some(Role::Owner), now).unwrap();
    assert_eq!(
        cancelled.answer(
            p.invitee,
            None,
            Reply::of(Answer::Accept),
            &RsvpRules::default(),
            now
        ),
        Err(AnswerRefused::NotPending(NotPending::Cancelled))
    );
    assert_eq!(
        cancelled.cancel(p.sender, Some(Role::Owner), now),
        Err(ManageRefused::NotPending(NotPending::Cancelled))
    );
    assert_eq!(
        cancelled.resend(
            p.sender,
            Some(Role::Owner),
            ttl,
            &crate::rsvp::RsvpRules::default(),
            now
        ),
        Err(ManageRefused::NotPending(NotPending::Cancelled))
    );
}

#[test]
fn the_events_managers_may_see_but_not_answer_an_invitation() {
    let p = parties();
    let mut invitation = sent(&p, FixedClock::START, InvitationTtl::DEFAULT);
    assert_eq!(
        invitation.answer(
            p.stranger,
            Some(Role::Owner),
            Reply::of(Answer::Accept),
            &RsvpRules::default(),
            FixedClock::START
        ),
        Err(AnswerRefused::BySender)
    );
    assert_eq!(
        invitation.answer(
            p.stranger,
            Some(Role::Member),
            Reply::of(Answer::Accept),
            &RsvpRules::default(),
            FixedClock::START
        ),
        Err(AnswerRefused::NotVisible)
    );
}

#[test]
fn a_first_resend_may_follow_the_send_at_once_and_each_later_one_waits_ten_minutes() {
    let p = parties();
    let clock = FixedClock::default();
    let ttl = InvitationTtl::parse("1h").unwrap();
    let mut invitation = sent(&p, clock.now(), ttl);
    assert_eq!(invitation.next_resend_at(), None);

    clock.advance(Duration::seconds(1));
    invitation
        .resend(
            p.sender,
            Some(Role::Owner),
            ttl,
            &crate::rsvp::RsvpRules::default(),
            clock.now(),
        )
        .unwrap();
    let first = clock.now();
    assert_eq!(invitation.last_resent_at(), Some(first));
    assert_eq!(invitation.expires_at(), Some(first + Duration::hours(1)));
    assert_eq!(invitation.status(), InvitationStatus::Pending);

    clock.advance(Duration::minutes(9) + Duration::seconds(59));
    assert_eq!(
        invitation.resend(
            p.sender,
            Some(Role::Owner),
            ttl,
            &crate::rsvp::RsvpRules::default(),
            clock.now()
        ),
        Err(ManageRefused::TooSoon {
            retry_after: Duration::seconds(1)
        })
    );
    assert_eq!(invitation.last_resent_at(), Some(first), "unchanged");
    clock.advance(Duration::seconds(1));
    invitation
        .resend(
            p.stranger,
            Some(Role::Owner),
            ttl,
            &crate::rsvp::RsvpRules::default(),
            clock.now(),
        )
        .unwrap();
    assert_eq!(invitation.last_resent_at(), Some(clock.now()));
    assert_eq!(
        invitation.next_resend_at(),
        Some(clock.now() + Duration::minutes(10))
    );
    assert_eq!(
        invitation.resend(
            p.sender,
            Some(Role::Owner),
            ttl,
            &crate::rsvp::RsvpRules::default(),
            clock.now()
        ),
        Err(ManageRefused::TooSoon {
            retry_after: Duration::minutes(10)
        })
    );
}

#[test]
fn a_resend_pushes_the_expiry_a_full_ttl_out_and_never_stays_never() {
    let p = parties();
    let clock = FixedClock::default();
    let ttl = InvitationTtl::parse("1h").unwrap();
    let mut invitation = sent(&p, clock.now(), ttl);
    clock.advance(Duration::minutes(59));
    invitation
        .resend(
            p.sender,
            Some(Role::Owner),
            ttl,
            &crate::rsvp::RsvpRules::default(),
            clock.now(),
        )
        .unwrap();
    clock.advance(Duration::minutes(30));
    assert_eq!(invitation.status_at(clock.now()), InvitationStatus::Pending);

    let mut never = sent(&p, clock.now(), InvitationTtl::NEVER);
    never
        .resend(
            p.sender,
            Some(Role::Owner),
            InvitationTtl::NEVER,
            &crate::rsvp::RsvpRules::default(),
            clock.now(),
        )
        .unwrap();
    assert_eq!(never.expires_at(), None);
}

#[test]
fn the_invitee_and_outsiders_may_not_resend() {
    let p = parties();
    let mut invitation = sent(&p, FixedClock::START, InvitationTtl::DEFAULT);
    let ttl = InvitationTtl::DEFAULT;
    assert_eq!(
        invitation.resend(
            p.invitee,
            None,
            ttl,
            &crate::rsvp::RsvpRules::default(),
            FixedClock::START
        ),
        Err(ManageRefused::ByInvitee)
    );
    assert_eq!(
        invitation.resend(
            p.stranger,
            Some(Role::Member),
            ttl,
            &crate::rsvp::RsvpRules::default(),
            FixedClock::START
        ),
        Err(ManageRefused::NotVisible)
    );
    assert_eq!(invitation.last_resent_at(), None);
}

#[test]
fn r7_and_r8_a_cancelled_or_expired_latest_invitation_blocks_nothing() {
    let sender = UserId::generate();
    let bob = crate::accounts::Reached {
        user: UserSummary {
            id: UserId::generate(),
            name: Text::from_stored("Bob".into()),
        },
        held: false,
    };
    let entries = InvitationEntries::parse(&["bob@example.com"], PhoneRegion::default()).unwrap();
    let plan = |latest| {
        entries.plan(
            sender,
            |_| false,
            |_| Some(&bob),
            |_| InviteeState {
                is_member: false,
                latest,
            },
        )
    };
    for latest in [
        None,
        Some(InvitationStatus::Accepted),
        Some(InvitationStatus::Cancelled),
        Some(InvitationStatus::Expired),
    ] {
        assert!(
            matches!(plan(latest)[..], [Planned::Invite(_)]),
            "{latest:?}"
        );
    }
    let ignored = |latest| match &plan(Some(latest))[..] {
        [Planned::Ignore(ignored)] => ignored.reason,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        ignored(InvitationStatus::Pending),
        IgnoreReason::AlreadyInvited
    );
    assert_eq!(
        ignored(InvitationStatus::Rejected),
        IgnoreReason::RejectedLastInvitation
    );
}

#[test]
fn a_status_read_alone_expires_by_the_same_rule() {
    let now = FixedClock::START;
    let past = Some(now - Duration::seconds(1));
    assert_eq!(
        status_at(InvitationStatus::Pending, past, now),
        InvitationStatus::Expired
    );
    assert_eq!(
        status_at(InvitationStatus::Pending, Some(now), now),
        InvitationStatus::Expired
    );
    assert_eq!(
        status_at(
            InvitationStatus::Pending,
            Some(now + Duration::seconds(1)),
            now
        ),
        InvitationStatus::Pending
    );
    assert_eq!(
        status_at(InvitationStatus::Pending, None, now),
        InvitationStatus::Pending
    );
    assert_eq!(
        status_at(InvitationStatus::Accepted, past, now),
        InvitationStatus::Accepted
    );
}
