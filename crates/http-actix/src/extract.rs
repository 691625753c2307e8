//! Extractor configuration and fallbacks, so that actix never answers with plain text: a body that
//! is not a JSON object, or names one key twice, is a 400, one over 64 KiB a 413, a path id that is
//! not a UUID a 404, an unknown route a 404 and a wrong method a 405, all with the JSON bodies of
//! docs/api.md, "Errors".

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, PayloadError, QueryPayloadError};
use actix_web::http::header;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use futures_util::future::LocalBoxFuture;
use serde::de::{self, DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// The largest request body accepted (docs/api.md, "Errors").
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON request body that must be an object, read into `T`.
///
/// The body is first read as a JSON object, so that arrays or scalars are refused with a 400 even
/// when `T` could be built from them; `T`'s loosely typed fields then never fail to deserialize.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Json::<UniqueKeys>::from_request(req, payload);
        Box::pin(async move {
            let UniqueKeys(body) = body.await?.into_inner();
            let Value::Object(object) = body else {
                return Err(ApiError::MalformedRequest(crate::t!("body-not-object")).into());
            };
            serde_json::from_value(Value::Object(object))
                .map(JsonBody)
                .map_err(|error| {
                    ApiError::MalformedRequest(crate::t!("body-invalid", error = error.to_string()))
                        .into()
                })
        })
    }
}

/// A JSON document in which no object names a key twice. Parsers disagree on such a document
/// (first wins, last wins, or refused), so a body that one layer (a proxy, a WAF, a signature
/// check) reads one way and the service another is refused instead of read last-wins.
#[derive(Debug)]
struct UniqueKeys(Value);

/// Says why a key is refused, so that the error can be told apart from other data errors.
const DUPLICATE_KEY: &str = "duplicate key";

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(UniqueKeysVisitor)
            .map(UniqueKeys)
    }
}

struct UniqueKeysVisitor;

impl<'de> Visitor<'de> for UniqueKeysVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(UniqueKeys(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let UniqueKeys(value) = map.next_value()?;
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!("{DUPLICATE_KEY} `{key}`")));
            }
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// JSON bodies: at most [`BODY_LIMIT`] bytes, `application/json`, errors as [`ApiError`].
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(BODY_LIMIT)
        .error_handler(|error, _req| json_error(&error).into())
}

/// Path parameters: a segment that does not parse (an id that is not a UUID) is a 404.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|_: PathError, _req| ApiError::route_not_found().into())
}

/// Typed query strings: a query that does not parse is a 400. The lists parse their parameters by
/// hand (see [`crate::pagination`]) and answer 422 instead; this covers any other use.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error: QueryPayloadError, _req| {
        ApiError::MalformedRequest(crate::t!("query-invalid", error = error.to_string())).into()
    })
}

fn json_error(error: &JsonPayloadError) -> ApiError {
    match error {
        JsonPayloadError::OverflowKnownLength { .. }
        | JsonPayloadError::Overflow { .. }
        | JsonPayloadError::Payload(PayloadError::Overflow) => {
            ApiError::PayloadTooLarge { limit: BODY_LIMIT }
        }
        JsonPayloadError::ContentType => {
            ApiError::MalformedRequest(crate::t!("body-not-json-type"))
        }
        JsonPayloadError::Deserialize(error)
            if error.is_data() && error.to_string().contains(DUPLICATE_KEY) =>
        {
            ApiError::MalformedRequest(crate::t!(
                "body-duplicate-key",
                error = error
                    .to_string()
                    .split(" at line")
                    .next()
                    .unwrap_or_default()
            ))
        }
        JsonPayloadError::Deserialize(error) if error.is_data() => {
            ApiError::MalformedRequest(crate::t!("body-not-object"))
        }
        JsonPayloadError::Deserialize(error) => {
            ApiError::MalformedRequest(crate::t!("body-not-json", error = error.to_string()))
        }
        _ => ApiError::MalformedRequest(crate::t!("body-unreadable")),
    }
}

/// The application's default service: any unknown route is a 404.
pub async fn not_found() -> HttpResponse {
    ApiError::route_not_found().error_response()
}

/// Turns actix's empty 405 (which carries the `Allow` header) into the JSON body of docs/api.md, "Errors".
pub fn json_method_not_allowed<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().handler(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        |response| {
            let (request, response) = response.into_parts();
            let allow = response.headers().get(header::ALLOW).cloned();
            let mut json = ApiError::MethodNotAllowed.error_response();
            if let Some(allow) = allow {
                json.headers_mut().insert(header::ALLOW, allow);
            }
            let response: ServiceResponse<EitherBody<B, BoxBody>> =
                ServiceResponse::new(request, json).map_into_right_body();
            Ok(ErrorHandlerResponse::Response(response))
        },
    )
}
