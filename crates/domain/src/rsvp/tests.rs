//! The seat rule, the promotion order and the deadlines (docs/api.md, "Capacity and the
//! waitlist").

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 10, hour, 0, 0).unwrap()
}

fn rules(capacity: Option<u32>, max_guests: u8, waitlist: bool) -> RsvpRules {
    RsvpSettings::new(capacity, max_guests, waitlist, None)
        .unwrap()
        .rules(None)
}

fn waiting(guests: &[u8]) -> Vec<Waiting> {
    guests
        .iter()
        .map(|&guests| Waiting {
            invitation: InvitationId::generate(),
            guests,
        })
        .collect()
}

#[test]
fn settings_keep_capacity_and_guests_in_range() {
    assert_eq!(
        RsvpSettings::new(Some(0), 0, true, None),
        Err(RsvpSettingsError::Capacity)
    );
    assert_eq!(
        RsvpSettings::new(Some(100_001), 0, true, None),
        Err(RsvpSettingsError::Capacity)
    );
    assert!(RsvpSettings::new(Some(100_000), 10, false, None).is_ok());
    assert_eq!(
        RsvpSettings::new(None, 11, true, None),
        Err(RsvpSettingsError::MaxGuests)
    );
    let default = RsvpSettings::default();
    assert_eq!(
        (default.capacity(), default.max_guests(), default.waitlist()),
        (None, 0, true)
    );
}

#[test]
fn answers_close_at_the_earlier_of_the_deadline_and_the_start() {
    let settings = RsvpSettings::new(None, 0, true, Some(at(12))).unwrap();
    assert_eq!(settings.rules(Some(at(18))).closes_at, Some(at(12)));
    assert_eq!(settings.rules(Some(at(9))).closes_at, Some(at(9)));
    assert_eq!(settings.rules(None).closes_at, Some(at(12)));
    assert_eq!(
        RsvpSettings::default().rules(Some(at(9))).closes_at,
        Some(at(9))
    );
    assert_eq!(RsvpSettings::default().rules(None).closes_at, None);

    let rules = settings.rules(Some(at(18)));
    assert_eq!(rules.check_open(at(11)), Ok(()));
    assert_eq!(rules.check_open(at(12)), Err(RsvpRefused::Closed(at(12))));
    assert_eq!(
        rules.admit(0, 0, at(13)),
        Err(RsvpRefused::Closed(at(12))),
        "no answer after the deadline, even with seats free"
    );
}

#[test]
fn an_invitation_expires_at_the_earliest_of_its_ttl_the_deadline_and_the_start() {
    let rules = RsvpSettings::new(None, 0, true, Some(at(12)))
        .unwrap()
        .rules(Some(at(18)));
    assert_eq!(rules.expiry(Some(at(10))), Some(at(10)));
    assert_eq!(rules.expiry(Some(at(20))), Some(at(12)));
    assert_eq!(rules.expiry(None), Some(at(12)), "never, but the deadline");
    assert_eq!(RsvpRules::default().expiry(None), None);
}

#[test]
fn a_party_is_seated_while_it_fits_then_waitlisted_or_refused() {
    let now = at(8);
    let with_waitlist = rules(Some(10), 3, true);
    assert_eq!(with_waitlist.admit(0, 3, now), Ok(Admission::Seated));
    assert_eq!(
        with_waitlist.admit(6, 3, now),
        Ok(Admission::Seated),
        "4 of 4 left"
    );
    assert_eq!(with_waitlist.admit(7, 3, now), Ok(Admission::Waitlisted));
    assert_eq!(with_waitlist.admit(10, 0, now), Ok(Admission::Waitlisted));
    assert_eq!(
        with_waitlist.admit(0, 4, now),
        Err(RsvpRefused::TooManyGuests { max: 3 })
    );

    let without = rules(Some(10), 3, false);
    assert_eq!(without.admit(9, 0, now), Ok(Admission::Seated));
    assert_eq!(without.admit(9, 1, now), Err(RsvpRefused::Full));

    let unlimited = rules(None, 10, false);
    assert_eq!(
        unlimited.admit(u32::MAX - 20, 10, now),
        Ok(Admission::Seated)
    );
    assert_eq!(unlimited.seats_remaining(5), None);
    assert_eq!(with_waitlist.seats_remaining(12), Some(0));
}

#[test]
fn promotion_is_first_come_first_served_skipping_parties_that_do_not_fit() {
    let rules = rules(Some(10), 5, true);
    let queue = waiting(&[2, 0, 4, 1]); // parties of 3, 1, 5, 2
                                        // 4 seats free: the first (3) fits, the second (1) too; the third (5) does not and keeps its
                                        // place; the fourth (2) does not fit in the 0 left.
    let promoted = rules.promote(6, &queue, at(8));
    assert_eq!(promoted, vec![queue[0], queue[1]]);
    // 3 free: the first (3) takes them all, nobody else.
    assert_eq!(rules.promote(7, &queue, at(8)), vec![queue[0]]);
    // 2 free: the first (3) is skipped, the second (1) is seated, the third (5) skipped, the
    // fourth (2) no longer fits in the 1 left.
    assert_eq!(rules.promote(8, &queue, at(8)), vec![queue[1]]);
    // Full: nobody.
    assert!(rules.promote(10, &queue, at(8)).is_empty());
    // Unlimited: everyone, in order.
    assert_eq!(
        self::rules(None, 5, true).promote(1_000, &queue, at(8)),
        queue
    );
}

#[test]
fn nobody_is_promoted_once_answers_have_closed() {
    let rules = RsvpSettings::new(Some(10), 0, true, Some(at(12)))
        .unwrap()
        .rules(Some(at(18)));
    let queue = waiting(&[0, 0]);
    assert_eq!(rules.promote(0, &queue, at(11)), queue);
    assert!(rules.promote(0, &queue, at(12)).is_empty());
    assert!(rules
        .promote(0, &queue, at(12) + Duration::days(1))
        .is_empty());
}

#[test]
fn members_shrink_their_party_freely_and_grow_it_within_the_seats_left() {
    let rules = rules(Some(10), 3, true);
    let now = at(8);
    assert_eq!(rules.change_party(10, 3, 0, now), Ok(()), "smaller: always");
    assert_eq!(rules.change_party(8, 1, 3, now), Ok(()), "2 more in 2 left");
    assert_eq!(rules.change_party(9, 1, 3, now), Err(RsvpRefused::Full));
    assert_eq!(
        rules.change_party(0, 1, 4, now),
        Err(RsvpRefused::TooManyGuests { max: 3 })
    );
    let closed = RsvpSettings::new(Some(10), 3, true, Some(at(6)))
        .unwrap()
        .rules(None);
    assert_eq!(
        closed.change_party(0, 0, 1, now),
        Err(RsvpRefused::Closed(at(6)))
    );
    assert_eq!(
        closed.change_party(5, 2, 1, now),
        Ok(()),
        "fewer after the deadline"
    );
}
