//! Opt-outs from invitation messages (docs/api.md, "Stopping invitation messages"): one per
//! contact and scope, found by contact.

use domain::optouts::{OptOutScope, OptOuts};

use super::*;

contract!(an_opt_out_is_kept_once_per_contact_and_scope_and_found_by_contact);

async fn an_opt_out_is_kept_once_per_contact_and_scope_and_found_by_contact(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = subject.db.as_ref();
    let ann = user(db, "Ann", Some("ann@example.com"), None).await;
    let bob = user(db, "Bob", Some("bob@example.com"), None).await;
    let sara = "sara@example.com".to_owned();
    let reza = "+989121234567".to_owned();
    db.opt_out(&sara, OptOutScope::Sender(ann.id), now())
        .await
        .unwrap();
    // Again, later: still one, with its first time.
    db.opt_out(
        &sara,
        OptOutScope::Sender(ann.id),
        now() + Duration::hours(1),
    )
    .await
    .unwrap();
    db.opt_out(&reza, OptOutScope::Everyone, now())
        .await
        .unwrap();
    db.opt_out(&reza, OptOutScope::Everyone, now())
        .await
        .unwrap();

    let found = db
        .opt_outs_of(&[sara.clone(), reza.clone(), "nobody@example.com".into()])
        .await
        .unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    let sara_row = found.iter().find(|o| o.contact == sara).unwrap();
    assert_eq!(sara_row.at, now(), "the first time stays");
    let found = OptOuts::new(found);
    assert!(found.stops(&sara, ann.id));
    assert!(!found.stops(&sara, bob.id));
    assert!(found.stops(&reza, bob.id));
    assert!(db.opt_outs_of(&[]).await.unwrap().is_empty());
    assert!(db
        .opt_outs_of(&["nobody@example.com".into()])
        .await
        .unwrap()
        .is_empty());
}
