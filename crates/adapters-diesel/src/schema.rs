//! The tables, as diesel sees them. Column types are the ones both backends share, so that one
//! query builds for PostgreSQL and for SQLite.

diesel::table! {
    users (id) {
        id -> Text,
        name -> Text,
        email -> Nullable<Text>,
        mobile -> Nullable<Text>,
        password_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    access_tokens (token_hash) {
        token_hash -> Binary,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        owner_id -> Text,
        title -> Text,
        description -> Nullable<Text>,
        location -> Nullable<Text>,
        starts_at -> Nullable<Timestamp>,
        ends_at -> Nullable<Timestamp>,
        members_count -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    event_members (id) {
        id -> Text,
        event_id -> Text,
        user_id -> Text,
        role -> Text,
        joined_at -> Timestamp,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        event_id -> Text,
        sender_id -> Text,
        invitee_id -> Text,
        contact -> Text,
        status -> Text,
        created_at -> Timestamp,
        answered_at -> Nullable<Timestamp>,
        message -> Nullable<Text>,
        expires_at -> Nullable<Timestamp>,
        cancelled_at -> Nullable<Timestamp>,
        last_resent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    service_secrets (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Text,
        key -> Text,
        fingerprint -> Binary,
        claim -> Text,
        state -> Text,
        response_status -> Nullable<Integer>,
        response_headers -> Nullable<Text>,
        response_body -> Nullable<Binary>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    domain_event_sequence (id) {
        id -> Integer,
        last_id -> BigInt,
    }
}

diesel::table! {
    domain_events (id) {
        id -> BigInt,
        kind -> Text,
        occurred_at -> Timestamp,
        subject -> Text,
    }
}

diesel::table! {
    /// PostgreSQL only: changes committed by writers, not yet numbered by the sequencer.
    domain_events_staged (staged_id) {
        staged_id -> BigInt,
        kind -> Text,
        occurred_at -> Timestamp,
        subject -> Text,
        recipients -> Text,
    }
}

diesel::table! {
    domain_event_recipients (user_id, event_id) {
        user_id -> Text,
        event_id -> BigInt,
    }
}

diesel::table! {
    stream_tickets (ticket_hash) {
        ticket_hash -> Binary,
        user_id -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        owner_id -> Text,
        url -> Text,
        events -> Nullable<Text>,
        secret -> Text,
        created_at -> Timestamp,
        starts_after -> BigInt,
        failing_since -> Nullable<Timestamp>,
        disabled_at -> Nullable<Timestamp>,
        disabled_reason -> Nullable<Text>,
    }
}

diesel::table! {
    delivery_dispatch (id) {
        id -> Integer,
        position -> BigInt,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Text,
        change_id -> BigInt,
        kind -> Text,
        webhook_id -> Nullable<Text>,
        email_to -> Nullable<Text>,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        due_at -> Nullable<Timestamp>,
        claim -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    delivery_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        webhook_id -> Nullable<Text>,
        change_id -> BigInt,
        kind -> Text,
        number -> Integer,
        attempted_at -> Timestamp,
        duration_ms -> Integer,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        response_body -> Nullable<Text>,
        verdict -> Text,
        retry_at -> Nullable<Timestamp>,
        disabled_reason -> Nullable<Text>,
    }
}

diesel::joinable!(domain_event_recipients -> domain_events (event_id));
diesel::joinable!(stream_tickets -> users (user_id));
diesel::joinable!(webhooks -> users (owner_id));
diesel::joinable!(deliveries -> webhooks (webhook_id));
diesel::joinable!(delivery_attempts -> deliveries (delivery_id));
diesel::joinable!(access_tokens -> users (user_id));
diesel::joinable!(events -> users (owner_id));
diesel::joinable!(invitations -> events (event_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    access_tokens,
    events,
    event_members,
    invitations,
    domain_events,
    domain_event_recipients,
    domain_events_staged,
    stream_tickets,
    webhooks,
    delivery_dispatch,
    deliveries,
    delivery_attempts
);
