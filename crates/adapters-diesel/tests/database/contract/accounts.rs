//! Users and tokens: found by their contacts, each contact held by one user; tokens resolve until
//! revoked or expired.

use super::*;

contract!(
    users_are_found_by_email_or_mobile_and_contacts_are_unique,
    tokens_resolve_until_revoked_or_expired
);

async fn users_are_found_by_email_or_mobile_and_contacts_are_unique(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let ann = user(db, "Ann", Some("ann@example.com"), Some("09352864812")).await;
    let bob = user(db, "Bob", Some("bob@example.com"), None).await;

    let by_email = db
        .find_credentials(&Login::Email(Email::parse("ANN@example.com").unwrap()))
        .await
        .unwrap();
    let (found, hash) = by_email.into_iter().next().unwrap();
    assert_eq!(found, ann);
    assert_eq!(hash.unwrap().0, "$argon2id$fake$Ann");
    let mobile = Mobile::parse("+98 935 286 4812", PhoneRegion::default()).unwrap();
    assert_eq!(
        db.find_credentials(&Login::Mobile(mobile.clone()))
            .await
            .unwrap()[0]
            .0
            .id,
        ann.id
    );
    assert!(db
        .find_credentials(&Login::Email(Email::parse("x@example.com").unwrap()))
        .await
        .unwrap()
        .is_empty());

    let taken_email = UserRepository::create(
        db,
        NewUser {
            id: UserId::generate(),
            name: Text::from_stored("A2".into()),
            email: Some(Email::parse("Ann@Example.com").unwrap()),
            mobile: None,
            password_hash: Some(PasswordHash("h".into())),
            proven: true,
            locale: Default::default(),
            created_at: now(),
        },
    )
    .await;
    assert!(matches!(taken_email, Err(CreateUserError::EmailTaken)));
    let taken_mobile = UserRepository::create(
        db,
        NewUser {
            id: UserId::generate(),
            name: Text::from_stored("A3".into()),
            email: None,
            mobile: Some(mobile.clone()),
            password_hash: Some(PasswordHash("h".into())),
            proven: true,
            locale: Default::default(),
            created_at: now(),
        },
    )
    .await;
    assert!(matches!(taken_mobile, Err(CreateUserError::MobileTaken)));

    let emails = [
        Email::parse("bob@example.com").unwrap(),
        Email::parse("nobody@example.com").unwrap(),
    ];
    let mut found: Vec<_> = db
        .find_by_contacts(&emails, &[mobile])
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    found.sort();
    let mut expected = vec![ann.id, bob.id];
    expected.sort();
    assert_eq!(found, expected);
    assert!(db.find_by_contacts(&[], &[]).await.unwrap().is_empty());
}

async fn tokens_resolve_until_revoked_or_expired(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let ann = user(db, "Ann", Some("ann@example.com"), None).await;
    let issued = RandomTokenIssuer.issue();
    db.store(NewToken {
        hash: issued.hash.clone(),
        user_id: ann.id,
        created_at: now(),
        expires_at: now() + Duration::days(1),
    })
    .await
    .unwrap();

    assert_eq!(
        db.find_user(&issued.hash, now())
            .await
            .unwrap()
            .map(|u| u.id),
        Some(ann.id)
    );
    assert_eq!(
        db.find_user(&issued.hash, now() + Duration::days(1))
            .await
            .unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        db.find_user(&RandomTokenIssuer.digest("other"), now())
            .await
            .unwrap(),
        None
    );
    db.revoke(&issued.hash, now()).await.unwrap();
    db.revoke(&issued.hash, now()).await.unwrap();
    assert_eq!(
        db.find_user(&issued.hash, now()).await.unwrap(),
        None,
        "revoked"
    );
}
