//! The change feed's handlers: the feed, stream tickets and the live stream.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{CacheControl, CacheDirective, ContentEncoding, LOCATION};
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_lab::sse;
use domain::accounts::User;
use domain::changes::ChangeId;
use domain::changes::ChangeService;
use domain::ports::PortError;
use domain::Limit;
use futures_util::stream::{self, Stream};
use secrecy::ExposeSecret;

use super::hub::{Push, SharedConnectionSlots, SubscribeError, Subscription};
use super::requests::{after_message, change_id, FeedQuery, StreamQuery, LAST_EVENT_ID};
use super::responses::{ChangeBody, FeedBody, FeedMetaBody, RenderedChange, StreamTicketBody};
use crate::auth::AuthenticatedUser;
use crate::error::{
    ApiError, Credentials, QueryErrors, ServerErrors, TooManyRequests, UnauthenticatedResponse,
};
use crate::json::Data;
use crate::rate_limit::RetryAfter;
use crate::AppState;

/// The comment a stream sends when it has nothing else to send (docs/api.md, "Live stream").
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// How long an `EventSource` waits before reconnecting (the stream's `retry:`).
const RECONNECT: Duration = Duration::from_secs(2);
/// How long a client refused for too many streams is asked to wait.
const TOO_MANY_STREAMS_WAIT: Duration = Duration::from_secs(5);

/// Read the caller's change feed.
///
/// The changes the caller receives (R12), oldest first, after `after`.
#[utoipa::path(
    get,
    path = "/api/v1/me/events",
    tag = "changes",
    security(("bearer" = [])),
    params(FeedQuery),
    responses(
        (status = 200, description = "The caller's changes after `after`, oldest first.", body = FeedBody),
        UnauthenticatedResponse,
        QueryErrors,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn list_changes(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    query: FeedQuery,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .changes
        .list(&auth.user, query.after, query.limit)
        .await?;
    Ok(HttpResponse::Ok().json(FeedBody {
        data: page.changes.into_iter().map(ChangeBody::from).collect(),
        meta: FeedMetaBody {
            limit: query.limit.get(),
            next_after: page.next_after.0,
        },
    }))
}

/// Get a stream ticket.
///
/// A single-use ticket, valid 60 seconds, for `GET /api/v1/me/stream?ticket=…`, so that a
/// browser's `EventSource` (which cannot send headers) never puts a long-lived token in a URL. Each
/// user gets at most `STREAM_TICKETS_PER_USER_PER_MINUTE` tickets (30) a minute; past that, `429`
/// with `Retry-After`.
#[utoipa::path(
    post,
    path = "/api/v1/stream-tickets",
    tag = "changes",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The ticket, shown once.", body = Data<StreamTicketBody>,
            headers(("Location" = String, description = "`/api/v1/me/stream`, which the ticket opens (a ticket has no URL of its own)."))),
        UnauthenticatedResponse,
        TooManyRequests,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn issue_stream_ticket(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
) -> Result<HttpResponse, ApiError> {
    state
        .limiter
        .hit_stream_ticket(&auth.user.id.to_string())
        .await
        .report_to(&req)?;
    let ticket = state.changes.issue_ticket(&auth.user).await?;
    // The stream the ticket opens; the ticket itself has no URL (docs/api.md, "Conventions").
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, "/api/v1/me/stream"))
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(Data::new(StreamTicketBody {
            ticket: ticket.secret.expose_secret().to_owned(),
            expires_at: ticket.expires_at,
        })))
}

/// Stream the caller's changes live.
///
/// `text/event-stream`: each change as `id:` (its number), `event:` (its type) and `data:` (the
/// change as the feed shows it), within a second of its commit, whichever server process made it;
/// a `: keep-alive` comment when it opens and every 15 seconds after. Resumes after `Last-Event-ID` (sent by a
/// reconnecting `EventSource`) or `?after=`, with nothing lost or repeated; with neither, only new
/// changes. Authenticate with the `Authorization` header or `?ticket=`.
#[utoipa::path(
    get,
    path = "/api/v1/me/stream",
    tag = "changes",
    security(("bearer" = []), ()),
    params(
        StreamQuery,
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this change id; wins over `after`."),
    ),
    responses(
        (status = 200, description = "The live stream.", content_type = "text/event-stream", body = String,
            example = json!("retry: 2000\n\nid: 42\nevent: invitation.created\ndata: {\"id\":42,\"type\":\"invitation.created\",...}\n\n: keep-alive\n\n")),
        UnauthenticatedResponse,
        QueryErrors,
        TooManyRequests,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all)]
pub async fn stream_changes(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: StreamQuery,
) -> Result<HttpResponse, ApiError> {
    let user = match &query.ticket {
        Some(ticket) => state
            .changes
            .redeem_ticket(ticket)
            .await?
            .ok_or(ApiError::Unauthenticated(Credentials::InvalidToken))?,
        None => AuthenticatedUser::authenticate(&req).await?.user,
    };
    let last_event_id =
        match req.headers().get(LAST_EVENT_ID) {
            None => None,
            Some(value) => Some(value.to_str().ok().and_then(change_id).ok_or_else(|| {
                ApiError::invalid("Last-Event-ID", after_message("Last-Event-ID"))
            })?),
        };
    let resume = last_event_id.or(query.after);
    let subscription = state
        .streams
        .subscribe(user.id)
        .await
        .map_err(|refused| match refused {
            SubscribeError::TooMany => ApiError::TooManyRequests(RetryAfter(TOO_MANY_STREAMS_WAIT)),
            SubscribeError::Full | SubscribeError::Unavailable => {
                ApiError::Unavailable(PortError::Unavailable(Box::new(refused)))
            }
        })?;
    // The slot outlives the response: freed when the connection is gone (`crate::on_connect`).
    let connection = req.conn_data::<SharedConnectionSlots>().cloned();
    tracing::info!(user_id = %user.id, from = subscription.from.0, resume = resume.map(|r| r.0), "live stream opened");
    let body = sse::Sse::from_stream(live(
        state.changes.clone(),
        user,
        resume,
        subscription,
        connection,
    ))
    .with_keep_alive(HEARTBEAT)
    .with_retry_duration(RECONNECT);
    // The connection closes with the stream, so that a graceful shutdown, which ends every stream,
    // is not held up by idle connections left behind.
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(ContentEncoding::Identity)
        .insert_header(CacheControl(vec![CacheDirective::NoCache]))
        .force_close()
        .body(body))
}

/// A stream's state: what it sent last, up to where it replays from the feed, what it holds.
struct Live {
    feed: ChangeService,
    user: User,
    sent: ChangeId,
    replay_until: ChangeId,
    held: VecDeque<Arc<RenderedChange>>,
    subscription: Subscription,
    connection: Option<SharedConnectionSlots>,
}

impl Drop for Live {
    /// The stream's slot stays taken until its connection is gone: a client that stops reading
    /// keeps its connection, with the end of the stream unread in it, and must not open streams
    /// past its bound meanwhile.
    fn drop(&mut self) {
        if let Some(connection) = &self.connection {
            self.subscription.hold_slot_in(connection);
        }
    }
}

/// The stream: replays the feed from `resume` up to the hub's position at subscription, then
/// forwards live changes newer than the last sent. Ends when the hub ends the subscription
/// (shutdown, or the client fell behind) or the feed cannot be read; the client then reconnects
/// with `Last-Event-ID`.
fn live(
    feed: ChangeService,
    user: User,
    resume: Option<ChangeId>,
    subscription: Subscription,
    connection: Option<SharedConnectionSlots>,
) -> impl Stream<Item = Result<sse::Event, Infallible>> {
    let from = subscription.from;
    let state = Live {
        feed,
        user,
        sent: resume.unwrap_or(from),
        replay_until: from,
        held: VecDeque::new(),
        subscription,
        connection,
    };
    stream::unfold(state, |mut s| async move {
        loop {
            // Fallen behind: nothing more, not even what is buffered; the client resumes from
            // its Last-Event-ID.
            if s.subscription.fell_behind() {
                return None;
            }
            if let Some(change) = s.held.pop_front() {
                s.sent = change.id;
                return Some((Ok(event(&change)), s));
            }
            if s.sent < s.replay_until {
                let page = s
                    .feed
                    .list(&s.user, s.sent, Limit::new(100).unwrap_or_default())
                    .await;
                match page {
                    Ok(page) => {
                        let until = s.replay_until;
                        s.held.extend(
                            page.changes
                                .into_iter()
                                .filter(|c| c.id <= until)
                                .map(|c| Arc::new(RenderedChange::from(c))),
                        );
                        if s.held.is_empty() {
                            // Nothing readable up to where the page read, or nothing at all.
                            s.sent = if page.next_after > s.sent {
                                page.next_after.min(until)
                            } else {
                                until
                            };
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "a live stream could not replay; ended");
                        return None;
                    }
                }
                continue;
            }
            match s.subscription.changes.recv().await {
                Some(Push::Change(change)) if change.id > s.sent => {
                    s.held.push_back(change);
                }
                Some(Push::Change(_)) => {}
                Some(Push::Probe) => {
                    return Some((Ok(sse::Event::Comment("probe".into())), s));
                }
                None => return None,
            }
        }
    })
}

fn event(change: &RenderedChange) -> sse::Event {
    sse::Data::new(change.json.clone())
        .id(change.id.0.to_string())
        .event(change.kind)
        .into()
}
