//! The served OpenAPI document and docs page.

use std::path::PathBuf;

use adapters_diesel::Backend;
use serde_json::Value;

use crate::helpers::spawn_app;

fn committed_copy() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

/// Fails when `docs/openapi.json` differs from what the service serves; `make openapi` (or
/// `UPDATE_OPENAPI=1`) rewrites the copy.
#[tokio::test]
async fn openapi_document_matches_the_committed_copy() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let response = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let served: Value = response.json().await.unwrap();
    let pretty = serde_json::to_string_pretty(&served).unwrap() + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(committed_copy(), &pretty).unwrap();
    }
    let committed = std::fs::read_to_string(committed_copy()).unwrap_or_default();
    assert!(
        committed == pretty,
        "docs/openapi.json is stale: run `make openapi` and commit it"
    );
    for path in [
        "/api/v1/{event_id}/send-invitations",
        "/api/v1/sended-invitations",
        "/api/v1/received-invitations",
        "/api/v1/invitations/{invitation_id}",
    ] {
        assert!(
            served["paths"][path].is_object(),
            "{path} missing from the document"
        );
    }
}

#[tokio::test]
async fn the_docs_page_and_its_assets_are_served_by_the_binary() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("cdn") && !html.contains("unpkg"),
        "assets must be local: {html}"
    );
    let bundle = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
    // Swagger UI's default validator badge calls validator.swagger.io from any non-localhost page.
    let initializer = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        initializer.contains(r#""validatorUrl": "none""#),
        "the docs page must not call the online validator: {initializer}"
    );
}
