//! Unsubscribe links and the stop words, and the service over the shared fakes.

use std::sync::Arc;

use super::*;
use crate::testing::{FixedClock, Store};

fn link(contact: &str) -> UnsubscribeLink {
    UnsubscribeLink {
        contact: contact.into(),
        sender: UserId::generate(),
    }
}

#[test]
fn a_token_reads_back_as_its_link_and_any_change_or_other_key_is_refused() {
    let key = UnsubscribeKey::new(b"a shared secret of the service");
    let made = link("sara@example.com");
    let token = key.token(&made);
    assert_eq!(key.read(&token), Some(made.clone()));
    // Every single character changed makes it no link.
    for at in 0..token.len() {
        let mut bytes = token.clone().into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(bytes).unwrap();
        if changed != token {
            assert_eq!(key.read(&changed), None, "{changed}");
        }
    }
    let other = UnsubscribeKey::new(b"another secret");
    assert_eq!(other.read(&token), None);
    for junk in ["", ".", "abc", "abc.def", &"A".repeat(5000)] {
        assert_eq!(key.read(junk), None, "{junk}");
    }
    // A mobile too, and a contact with non-ASCII bytes.
    for contact in ["+989121234567", "ünï@exämple.com"] {
        let made = link(contact);
        assert_eq!(key.read(&key.token(&made)), Some(made));
    }
}

#[test]
fn stop_words_are_alone_on_the_text_in_any_case() {
    for text in ["STOP", "stop", " Stop. ", "UNSUBSCRIBE", "لغو", "end"] {
        assert!(asks_to_stop(text), "{text}");
    }
    for text in ["", "stop it", "please stop", "yes", "STOPP"] {
        assert!(!asks_to_stop(text), "{text}");
    }
}

#[test]
fn an_opt_out_stops_its_sender_or_everyone_for_its_contact_only() {
    let (ann, bob) = (UserId::generate(), UserId::generate());
    let at = FixedClock::START;
    let found = OptOuts::new(vec![
        OptOut {
            contact: "sara@example.com".into(),
            scope: OptOutScope::Sender(ann),
            at,
        },
        OptOut {
            contact: "+989121234567".into(),
            scope: OptOutScope::Everyone,
            at,
        },
    ]);
    assert!(found.stops("sara@example.com", ann));
    assert!(!found.stops("sara@example.com", bob));
    assert!(found.stops("+989121234567", bob));
    assert!(!found.stops("reza@example.com", ann));
    assert!(found.stops_everyone("+989121234567"));
    assert!(!found.stops_everyone("sara@example.com"));
}

#[tokio::test]
async fn a_link_stops_its_sender_then_everyone_and_a_stop_text_stops_everyone() {
    let store = Arc::new(Store::default());
    let clock = Arc::new(FixedClock::default());
    let key = UnsubscribeKey::new(b"secret");
    let service = OptOutService::new(store.clone(), store.clone(), key.clone(), clock);
    let token = key.token(&link("sara@example.com"));
    let before = service.describe(&token).await.unwrap();
    assert!(!before.sender_stopped && !before.everyone_stopped);
    assert_eq!(before.sender, None, "an unknown sender shows as nobody");
    let after = service.unsubscribe(&token, false).await.unwrap();
    assert!(after.sender_stopped && !after.everyone_stopped);
    let again = service.unsubscribe(&token, false).await.unwrap();
    assert_eq!(again, after, "doing it again changes nothing");
    let all = service.unsubscribe(&token, true).await.unwrap();
    assert!(all.sender_stopped && all.everyone_stopped);
    assert!(matches!(
        service.unsubscribe("forged.token", true).await,
        Err(UnsubscribeError::InvalidLink)
    ));

    let reza = crate::Mobile::parse("09121234567", crate::PhoneRegion::default()).unwrap();
    assert!(!service.text_received(&reza, "yes please").await.unwrap());
    assert!(service.text_received(&reza, "STOP").await.unwrap());
    let reza_link = key.token(&link(reza.as_str()));
    assert!(service.describe(&reza_link).await.unwrap().everyone_stopped);
}
