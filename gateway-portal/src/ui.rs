//! The web UI: the files under `gateway-portal/ui/`, embedded at build time by `build.rs` and served at
//! `/` (`index.html` for `/`). Anything else not under /api that names no file gets `index.html`, so
//! the UI can use client-side routes.

use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

include!(concat!(env!("OUT_DIR"), "/ui_files.rs"));

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn file(path: &str) -> Option<&'static [u8]> {
    UI_FILES
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, bytes)| *bytes)
}

pub async fn serve(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    if path.starts_with("api/") {
        return crate::error::ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no endpoint {}", uri.path()),
        )
        .into_response();
    }
    let (path, bytes) = match file(path) {
        Some(bytes) => (path, bytes),
        None if !path.contains('.') => match file("index.html") {
            Some(bytes) => ("index.html", bytes),
            None => return (StatusCode::NOT_FOUND, "no UI").into_response(),
        },
        None => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type(path)),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        bytes,
    )
        .into_response()
}
