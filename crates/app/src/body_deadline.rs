//! A deadline on reading a request's body (docs/operations.md, "Every wait is bounded"). actix
//! bounds the request head (`client_request_timeout`) but not the body: a client that announces
//! `Content-Length: 100` and sends one byte would hold its connection, and the worker's attention,
//! forever. This middleware wraps the body in a stream that fails once the deadline has passed,
//! and answers such a request `408 {"message": "The request took too long to send.", "code":
//! "request_timeout"}` and closes the connection.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use futures_util::Stream;
use tokio::time::Sleep;

/// The body of the 408 answer.
pub const TIMED_OUT_BODY: &str =
    r#"{"message":"The request took too long to send.","code":"request_timeout"}"#;

/// The middleware (`from_fn(move |req, next| body_deadline(timeout, req, next))`): the whole body
/// must arrive within `timeout` of the request head.
///
/// # Errors
/// Those of the wrapped service.
pub async fn body_deadline(
    timeout: Duration,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !has_body(req.headers()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let expired = Rc::new(Cell::new(false));
    let body = TimedBody {
        inner: req.take_payload(),
        deadline: Box::pin(tokio::time::sleep(timeout)),
        expired: expired.clone(),
        done: false,
    };
    req.set_payload(Payload::Stream {
        payload: Box::pin(body),
    });
    let result = next.call(req).await;
    if !expired.get() {
        return result.map(ServiceResponse::map_into_boxed_body);
    }
    tracing::info!(
        timeout_secs = timeout.as_secs(),
        "request body not received in time: 408, connection closed"
    );
    match result {
        Ok(response) => {
            let (request, _) = response.into_parts();
            Ok(ServiceResponse::new(request, BodyTimedOut.error_response()))
        }
        Err(_) => Err(BodyTimedOut.into()),
    }
}

/// The answer to a body that did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTimedOut;

impl ResponseError for BodyTimedOut {
    fn status_code(&self) -> StatusCode {
        StatusCode::REQUEST_TIMEOUT
    }

    fn error_response(&self) -> HttpResponse {
        // The unread rest of the body is still on the connection: it cannot carry another request.
        HttpResponse::build(self.status_code())
            .insert_header((header::CONTENT_TYPE, "application/json; charset=utf-8"))
            .force_close()
            .body(TIMED_OUT_BODY)
    }
}

/// Whether the request announces a body: a non-zero `Content-Length` or a `Transfer-Encoding`.
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

/// The request body, failing with a time-out once `deadline` passes while it waits for more.
struct TimedBody {
    inner: Payload,
    deadline: Pin<Box<Sleep>>,
    expired: Rc<Cell<bool>>,
    done: bool,
}

impl Stream for TimedBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(item) => {
                this.done = item.is_none();
                Poll::Ready(item)
            }
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.expired.set(true);
                    this.done = true;
                    Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the request body did not arrive in time",
                    )))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn only_requests_that_announce_a_body_are_timed() {
        let headers = |pairs: &[(&str, &str)]| {
            let mut req = TestRequest::default();
            for pair in pairs {
                req = req.insert_header(*pair);
            }
            req.to_http_request().headers().clone()
        };
        assert!(!has_body(&headers(&[])));
        assert!(!has_body(&headers(&[("content-length", "0")])));
        assert!(has_body(&headers(&[("content-length", "100")])));
        assert!(has_body(&headers(&[("transfer-encoding", "chunked")])));
    }
}
