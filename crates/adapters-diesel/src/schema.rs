//! The tables, as diesel sees them. One query builds for PostgreSQL and for SQLite: columns have
//! the types both backends share, or a portable type of `crate::sql_types` (ids: [`Id`], PostgreSQL
//! `uuid`; times: [`Moment`], PostgreSQL `timestamptz`; both TEXT on SQLite).
//!
//! [`Id`]: crate::sql_types::Id
//! [`Moment`]: crate::sql_types::Moment

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{Id, Moment};

    users (id) {
        id -> Id,
        name -> Text,
        email -> Nullable<Text>,
        mobile -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        created_at -> Moment,
        email_verified_at -> Nullable<Moment>,
        mobile_verified_at -> Nullable<Moment>,
        pending_email -> Nullable<Text>,
        pending_mobile -> Nullable<Text>,
        locale -> Text,
        erased_at -> Nullable<Moment>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{Id, Moment};

    contact_codes (user_id, purpose) {
        user_id -> Id,
        purpose -> Text,
        contact -> Text,
        code_hash -> Binary,
        attempts -> Integer,
        created_at -> Moment,
        expires_at -> Moment,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{Id, Moment};

    calendar_feeds (user_id) {
        user_id -> Id,
        token_hash -> Binary,
        created_at -> Moment,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{Id, Moment};

    invitation_links (token_hash) {
        token_hash -> Binary,
        invitation_id -> Id,
        created_at -> Moment,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Moment;

    legacy_contacts (id) {
        id -> SmallInt,
        proven_at -> Moment,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{Id, Moment};

    messages (id) {
        id -> Id,
        channel -> Text,
        recipient -> Text,
        purpose -> Text,
        change_id -> Nullable<BigInt>,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        due_at -> Nullable<Moment>,
        claim -> Nullable<Id>,
        lease_until -> Nullable<Moment>,
        last_error -> Nullable<Text>,
        created_at -> Moment,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{Id, Moment};

    access_tokens (token_hash) {
        token_hash -> Binary,
        user_id -> Id,
        created_at -> Moment,
        expires_at -> Moment,
        revoked_at -> Nullable<Moment>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{Id, Moment};

    events (id) {
        id -> Id,
        owner_id -> Id,
        title -> Text,
        description -> Nullable<Text>,
        location -> Nullable<Text>,
        starts_at -> Nullable<Moment>,
        ends_at -> Nullable<Moment>,
        members_count -> BigInt,
        created_at -> Moment,
        version -> BigInt,
        capacity -> Nullable<Integer>,
        max_guests -> Integer,
        waitlist -> Bool,
        rsvp_deadline -> Nullable<Moment>,
        seats_taken -> Integer,
        time_zone -> Text,
        reminders -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{Id, Moment};

    event_members (id) {
        id -> Id,
        event_id -> Id,
        user_id -> Id,
        role -> Text,
        joined_at -> Moment,
        guests -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{Id, Moment};

    invitations (id) {
        id -> Id,
        event_id -> Id,
        sender_id -> Id,
        invitee_id -> Id,
        contact -> Text,
        status -> Text,
        created_at -> Moment,
        answered_at -> Nullable<Moment>,
        message -> Nullable<Text>,
        expires_at -> Nullable<Moment>,
        cancelled_at -> Nullable<Moment>,
        last_resent_at -> Nullable<Moment>,
        version -> BigInt,
        held_contact -> Nullable<Text>,
        guests -> Integer,
        comment -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Id;

    /// The title an invitation's invitee last saw, frozen when they no longer have access.
    invitation_titles (invitation_id) {
        invitation_id -> Id,
        title -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Moment;

    service_secrets (name) {
        name -> Text,
        value -> Text,
        created_at -> Moment,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{Id, Moment};

    idempotency_keys (user_id, key) {
        user_id -> Id,
        key -> Text,
        fingerprint -> Binary,
        claim -> Id,
        state -> Text,
        response_status -> Nullable<Integer>,
        response_headers -> Nullable<Text>,
        response_body -> Nullable<Binary>,
        created_at -> Moment,
        expires_at -> Moment,
        locked_until -> Nullable<Moment>,
    }
}

diesel::table! {
    change_sequence (id) {
        id -> Integer,
        last_id -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Moment;

    changes (id) {
        id -> BigInt,
        kind -> Text,
        occurred_at -> Moment,
        subject -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Moment;

    /// PostgreSQL only: changes committed by writers, not yet numbered by the sequencer.
    changes_staged (staged_id) {
        staged_id -> BigInt,
        kind -> Text,
        occurred_at -> Moment,
        subject -> Text,
        recipients -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Id;

    change_recipients (user_id, change_id) {
        user_id -> Id,
        change_id -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{Id, Moment};

    stream_tickets (ticket_hash) {
        ticket_hash -> Binary,
        user_id -> Id,
        expires_at -> Moment,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{Id, Moment};

    webhooks (id) {
        id -> Id,
        owner_id -> Id,
        url -> Text,
        events -> Nullable<Text>,
        secret -> Text,
        created_at -> Moment,
        starts_after -> BigInt,
        failing_since -> Nullable<Moment>,
        disabled_at -> Nullable<Moment>,
        disabled_reason -> Nullable<Text>,
        unanswered -> Integer,
        paused_until -> Nullable<Moment>,
        verified_at -> Nullable<Moment>,
        verify_attempts -> Integer,
        verify_due_at -> Nullable<Moment>,
        verify_claim -> Nullable<Id>,
        verify_lease_until -> Nullable<Moment>,
        verify_gave_up_at -> Nullable<Moment>,
    }
}

diesel::table! {
    delivery_dispatch (id) {
        id -> Integer,
        position -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{Id, Moment};

    deliveries (id) {
        id -> Id,
        change_id -> BigInt,
        kind -> Text,
        webhook_id -> Nullable<Id>,
        email_to -> Nullable<Text>,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        due_at -> Nullable<Moment>,
        claim -> Nullable<Id>,
        lease_until -> Nullable<Moment>,
        created_at -> Moment,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{Id, Moment};

    delivery_attempts (id) {
        id -> Id,
        delivery_id -> Id,
        webhook_id -> Nullable<Id>,
        change_id -> BigInt,
        kind -> Text,
        number -> Integer,
        attempted_at -> Moment,
        duration_ms -> Integer,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        response_body -> Nullable<Text>,
        verdict -> Text,
        retry_at -> Nullable<Moment>,
        disabled_reason -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{Id, Moment};

    /// The events deleted, with who managed each (owner, co-hosts) when it went.
    event_deletions (event_id, user_id) {
        event_id -> Id,
        user_id -> Id,
        role -> Text,
        deleted_at -> Moment,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{Id, Moment};

    /// When each reminder rule of an event with a start falls due.
    reminder_schedule (event_id, rule) {
        event_id -> Id,
        rule -> Text,
        audience -> Text,
        due_at -> Moment,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{Id, Moment};

    /// Each reminder sent, once per event, rule, person and start time.
    reminders_sent (event_id, rule, user_id, starts_at) {
        event_id -> Id,
        rule -> Text,
        user_id -> Id,
        starts_at -> Moment,
        sent_at -> Moment,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Moment;

    /// One payload per change, shared by its webhook deliveries (whose own is then '').
    change_payloads (change_id) {
        change_id -> BigInt,
        payload -> Text,
        created_at -> Moment,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Moment;

    /// Opt-outs from invitation messages: a contact and whose messages it stops (a sender's id,
    /// or `everyone`).
    opt_outs (contact, scope) {
        contact -> Text,
        scope -> Text,
        created_at -> Moment,
    }
}

diesel::joinable!(change_recipients -> changes (change_id));
diesel::joinable!(stream_tickets -> users (user_id));
diesel::joinable!(webhooks -> users (owner_id));
diesel::joinable!(deliveries -> webhooks (webhook_id));
diesel::joinable!(delivery_attempts -> deliveries (delivery_id));
diesel::joinable!(access_tokens -> users (user_id));
diesel::joinable!(events -> users (owner_id));
diesel::joinable!(event_deletions -> events (event_id));
diesel::joinable!(reminders_sent -> events (event_id));
diesel::joinable!(reminder_schedule -> events (event_id));
diesel::joinable!(invitations -> events (event_id));
diesel::joinable!(invitation_titles -> invitations (invitation_id));
diesel::joinable!(invitation_links -> invitations (invitation_id));
diesel::joinable!(calendar_feeds -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    opt_outs,
    change_payloads,
    users,
    contact_codes,
    messages,
    access_tokens,
    events,
    event_members,
    invitations,
    event_deletions,
    reminders_sent,
    reminder_schedule,
    invitation_titles,
    invitation_links,
    calendar_feeds,
    changes,
    change_recipients,
    changes_staged,
    stream_tickets,
    webhooks,
    delivery_dispatch,
    deliveries,
    delivery_attempts
);
