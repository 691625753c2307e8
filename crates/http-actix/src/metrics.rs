//! Request metrics (docs/operations.md, "Metrics"): a histogram of request durations by method,
//! route template and status, and a gauge of requests in flight, recorded through the `metrics`
//! facade (the app installs the Prometheus recorder; without one, recording costs next to nothing).

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;

/// The route label of a request that matched no route (one label for every unknown path, so that
/// scanners cannot make the series grow without bound).
const UNMATCHED: &str = "unmatched";

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PATCH => "PATCH",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware for the whole app: times each request to its response head and counts those in
/// flight. The route label is the matched template (`/api/v1/invitations/{invitation_id}`), never
/// the raw path.
///
/// # Errors
/// Only the inner service's errors, unchanged.
pub async fn request_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let method = method_label(req.method());
    let in_flight = metrics::gauge!("http_requests_in_flight");
    in_flight.increment(1.0);
    let started = Instant::now();
    let result = next.call(req).await;
    in_flight.decrement(1.0);
    let (route, status) = match &result {
        Ok(response) => (
            response
                .request()
                .match_pattern()
                .unwrap_or_else(|| UNMATCHED.to_owned()),
            response.status().as_u16(),
        ),
        Err(error) => (
            UNMATCHED.to_owned(),
            error.as_response_error().status_code().as_u16(),
        ),
    };
    metrics::histogram!(
        "http_request_duration_seconds",
        "method" => method,
        "route" => route,
        "status" => status.to_string(),
    )
    .record(started.elapsed().as_secs_f64());
    result
}
