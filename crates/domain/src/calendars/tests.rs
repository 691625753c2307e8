//! Calendar files as RFC 5545 writes them: times in the event's zone with its VTIMEZONE, a
//! stable UID, a SEQUENCE that follows the event's edits, the organizer and the attendee.

use chrono::{DateTime, Utc};

use super::*;
use crate::accounts::UserSummary;
use crate::events::EventDetails;
use crate::{EventId, Text, Version};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn event(zone: &str, starts: Option<&str>, title: &str) -> Event {
    let details = EventDetails::new(
        Text::from_stored(title.to_owned()),
        Some(Text::from_stored("Music, food;\nand friends".to_owned())),
        Some(Text::from_stored("Azadi Tower, 5th floor".to_owned())),
        starts.map(at),
        starts.map(|s| at(s) + chrono::Duration::hours(4)),
    )
    .unwrap()
    .with_time_zone(TimeZone::parse(zone).unwrap());
    Event {
        id: "01a3c6e2-0000-7000-8000-000000000001"
            .parse::<EventId>()
            .unwrap(),
        details,
        owner: UserSummary {
            id: "01a3c6e2-0000-7000-8000-0000000000aa".parse().unwrap(),
            name: Text::from_stored("Olivia \"Liv\" Doe".to_owned()),
        },
        members_count: 1,
        seats_taken: 0,
        created_at: at("2026-12-01T10:00:00Z"),
        version: Version::new(3),
    }
}

fn entry<'a>(event: &'a Event, attendee: Option<Attendee>) -> Entry<'a> {
    Entry {
        event,
        title: event.details.title().as_str(),
        attendee,
        url: Some("https://events.example.com/i/abc".to_owned()),
    }
}

const NOW: &str = "2026-12-06T12:00:00Z";

/// The file with folded lines joined, for searching.
fn unfolded(text: &str) -> String {
    text.replace("\r\n ", "")
}

#[test]
fn an_event_in_tehran_is_written_in_tehran_time_with_its_vtimezone() {
    let event = event("Asia/Tehran", Some("2027-01-15T14:30:00Z"), "Launch");
    let text = render(Method::Publish, &[entry(&event, None)], at(NOW)).unwrap();
    let text = unfolded(&text);
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n"), "{text}");
    assert!(
        text.contains("DTSTART;TZID=Asia/Tehran:20270115T180000\r\n"),
        "{text}"
    );
    assert!(
        text.contains("DTEND;TZID=Asia/Tehran:20270115T220000\r\n"),
        "{text}"
    );
    assert!(
        text.contains("BEGIN:VTIMEZONE\r\nTZID:Asia/Tehran\r\n"),
        "{text}"
    );
    assert!(text.contains("TZOFFSETTO:+0330\r\n"), "{text}");
    assert!(
        text.find("BEGIN:VTIMEZONE").unwrap() < text.find("BEGIN:VEVENT").unwrap(),
        "zones come first"
    );
    assert!(text.contains("UID:01a3c6e2-0000-7000-8000-000000000001@event-manager\r\n"));
    assert!(
        text.contains("SEQUENCE:2\r\n"),
        "version 3 is the third edit: {text}"
    );
    assert!(text.contains("DTSTAMP:20261206T120000Z\r\n"), "{text}");
    assert!(!text.contains("METHOD:"), "a plain copy has no method");
    assert!(
        text.contains(
            "ORGANIZER;CN=Olivia 'Liv' Doe:urn:uuid:01a3c6e2-0000-7000-8000-0000000000aa\r\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("URL:https://events.example.com/i/abc\r\n"),
        "{text}"
    );
}

#[test]
fn a_zone_with_summer_time_has_both_of_its_changes_that_year() {
    let event = event("Europe/Berlin", Some("2027-07-01T16:00:00Z"), "Summer");
    let text = unfolded(&render(Method::Publish, &[entry(&event, None)], at(NOW)).unwrap());
    assert!(
        text.contains("DTSTART;TZID=Europe/Berlin:20270701T180000\r\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "BEGIN:DAYLIGHT\r\nDTSTART:20270328T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nEND:DAYLIGHT\r\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "BEGIN:STANDARD\r\nDTSTART:20271031T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nEND:STANDARD\r\n"
        ),
        "{text}"
    );
}

#[test]
fn utc_events_are_written_in_utc_without_a_vtimezone() {
    let event = event("UTC", Some("2027-01-15T14:30:00Z"), "Launch");
    let text = unfolded(&render(Method::Publish, &[entry(&event, None)], at(NOW)).unwrap());
    assert!(text.contains("DTSTART:20270115T143000Z\r\n"), "{text}");
    assert!(!text.contains("VTIMEZONE"), "{text}");
}

#[test]
fn an_invitation_is_a_request_with_the_attendees_answer_and_a_cancel_says_so() {
    let event = event("Asia/Tehran", Some("2027-01-15T14:30:00Z"), "Launch");
    let sara = Attendee {
        address: Attendee::account("01a3c6e2-0000-7000-8000-0000000000bb".parse().unwrap()),
        name: "Sara".to_owned(),
        partstat: PartStat::of(InvitationStatus::Pending),
    };
    let request = unfolded(
        &render(
            Method::Request,
            &[entry(&event, Some(sara.clone()))],
            at(NOW),
        )
        .unwrap(),
    );
    assert!(request.contains("METHOD:REQUEST\r\n"), "{request}");
    assert!(request.contains("STATUS:CONFIRMED\r\n"), "{request}");
    assert!(request.contains("ATTENDEE;CN=Sara;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=FALSE:urn:uuid:01a3c6e2-0000-7000-8000-0000000000bb\r\n")
        || request.contains("PARTSTAT=NEEDS-ACTION"), "{request}");
    let cancel = unfolded(&render(Method::Cancel, &[entry(&event, Some(sara))], at(NOW)).unwrap());
    assert!(cancel.contains("METHOD:CANCEL\r\n"), "{cancel}");
    assert!(cancel.contains("STATUS:CANCELLED\r\n"), "{cancel}");
    assert_eq!(
        PartStat::of(InvitationStatus::Tentative),
        PartStat::Tentative
    );
    assert_eq!(
        PartStat::of(InvitationStatus::Waitlisted),
        PartStat::Accepted
    );
    assert_eq!(PartStat::of(InvitationStatus::Rejected), PartStat::Declined);
}

#[test]
fn text_is_escaped_and_events_without_a_start_are_left_out() {
    let timed = event(
        "UTC",
        Some("2027-01-15T14:30:00Z"),
        "Party, food; fun\nlate",
    );
    let untimed = event("UTC", None, "Someday");
    let text = unfolded(
        &render(
            Method::Publish,
            &[entry(&timed, None), entry(&untimed, None)],
            at(NOW),
        )
        .unwrap(),
    );
    assert!(
        text.contains("SUMMARY:Party\\, food\\; fun\\nlate\r\n"),
        "{text}"
    );
    assert!(
        text.contains("DESCRIPTION:Music\\, food\\;\\nand friends\r\n"),
        "{text}"
    );
    assert_eq!(text.matches("BEGIN:VEVENT").count(), 1);
    assert_eq!(
        render(Method::Publish, &[entry(&untimed, None)], at(NOW)),
        None
    );
}

#[test]
fn long_lines_are_folded_at_75_octets() {
    let event = event("UTC", Some("2027-01-15T14:30:00Z"), &"ش".repeat(120));
    let text = render(Method::Publish, &[entry(&event, None)], at(NOW)).unwrap();
    assert!(text.split("\r\n").all(|line| line.len() <= 75), "{text}");
}

mod feeds {
    use chrono::Duration;

    use crate::accounts::{RegisterCommand, User};
    use crate::events::EventDetails;
    use crate::invitations::{InvitationEntries, Reply, SendInvitations};
    use crate::ports::Clock as _;
    use crate::testing::Wiring;
    use crate::{Answer, Email, EventId, InvitationId, Password, PhoneRegion, Text};

    async fn user(w: &Wiring, name: &str) -> User {
        w.accounts()
            .register(
                RegisterCommand {
                    name: Text::from_stored(name.into()),
                    email: Some(Email::parse(&format!("{name}@example.com")).unwrap()),
                    mobile: None,
                    password: Some(Password::parse("correct horse".into()).unwrap()),
                    locale: Default::default(),
                },
                "192.0.2.1",
            )
            .await
            .unwrap()
            .user
    }

    async fn event(w: &Wiring, owner: &User, title: &str, days: Option<i64>) -> EventId {
        let details = EventDetails::new(
            Text::from_stored(title.into()),
            None,
            None,
            days.map(|d| w.clock.now() + Duration::days(d)),
            None,
        )
        .unwrap();
        w.events().create(owner, details).await.unwrap().event.id
    }

    async fn invite(w: &Wiring, from: &User, event: EventId, to: &str) -> InvitationId {
        w.invitations()
            .send(
                from,
                SendInvitations {
                    event_id: event,
                    entries: InvitationEntries::parse(&[to], PhoneRegion::default()).unwrap(),
                    message: None,
                    expires_in: None,
                },
            )
            .await
            .unwrap()
            .sent[0]
            .invitation
            .id()
    }

    fn token(url: &str) -> &str {
        url.rsplit('/')
            .next()
            .unwrap()
            .strip_suffix(".ics")
            .unwrap()
    }

    #[tokio::test]
    async fn a_feed_holds_the_events_one_is_in_or_said_maybe_to_and_a_new_one_replaces_it() {
        let w = Wiring::default();
        let (olivia, sara) = (user(&w, "olivia").await, user(&w, "sara").await);
        let owned = event(&w, &sara, "Own party", Some(3)).await;
        let joined = event(&w, &olivia, "Joined", Some(5)).await;
        let maybe = event(&w, &olivia, "Maybe", Some(7)).await;
        let pending = event(&w, &olivia, "Pending", Some(9)).await;
        let timeless = event(&w, &olivia, "Someday", None).await;
        for (event, answer) in [
            (joined, Some(Answer::Accept)),
            (maybe, Some(Answer::Tentative)),
            (pending, None),
            (timeless, Some(Answer::Accept)),
        ] {
            let id = invite(&w, &olivia, event, "sara@example.com").await;
            if let Some(answer) = answer {
                w.invitations()
                    .answer(&sara, id, Reply::of(answer), None)
                    .await
                    .unwrap();
            }
        }
        let calendars = w.calendars();
        let url = calendars.create_feed(&sara).await.unwrap();
        assert!(url.starts_with("http://127.0.0.1:8080/cal/"), "{url}");
        let text = calendars
            .feed(token(&url))
            .await
            .unwrap()
            .expect("the feed")
            .replace("\r\n ", "");
        for (id, partstat) in [
            (owned, "ACCEPTED"),
            (joined, "ACCEPTED"),
            (maybe, "TENTATIVE"),
        ] {
            assert!(text.contains(&format!("UID:{id}@event-manager")), "{text}");
            assert!(text.contains(&format!("PARTSTAT={partstat}")), "{text}");
        }
        assert!(
            !text.contains(&pending.to_string()),
            "a pending invitation is not in"
        );
        assert!(!text.contains("Someday"), "a timeless event is not in");
        assert_eq!(text.matches("BEGIN:VEVENT").count(), 3);

        let second = calendars.create_feed(&sara).await.unwrap();
        assert_ne!(second, url);
        assert_eq!(calendars.feed(token(&url)).await.unwrap(), None);
        assert!(calendars.feed(token(&second)).await.unwrap().is_some());
        assert!(calendars.delete_feed(&sara).await.unwrap());
        assert_eq!(calendars.feed(token(&second)).await.unwrap(), None);
        assert!(!calendars.delete_feed(&sara).await.unwrap());
        assert_eq!(calendars.feed("not a token").await.unwrap(), None);
    }
}
