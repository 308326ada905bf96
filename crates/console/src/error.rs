//! One error type for every handler: a plain message for the person at the
//! browser and a detailed line for the operator's log. Internal failures get
//! a short reference that appears in both, so a technician can find the log
//! line a member of staff is talking about.

use std::fmt::Display;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use store::StoreError;

use crate::password::HashError;

#[derive(Debug)]
pub struct AppError {
    status: StatusCode,
    /// What the person is told.
    message: String,
    /// What the operator's log says; never shown.
    detail: Option<String>,
    /// For internal failures: the reference in both.
    reference: Option<String>,
}

impl AppError {
    fn new(status: StatusCode, message: impl Into<String>) -> AppError {
        AppError {
            status,
            message: message.into(),
            detail: None,
            reference: None,
        }
    }

    /// Something the person sent cannot be used; the message says what to do.
    pub fn bad_request(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, message)
    }

    /// An upload or form larger than the console accepts.
    pub fn too_large(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::PAYLOAD_TOO_LARGE, message)
    }

    pub fn not_found() -> AppError {
        AppError::new(
            StatusCode::NOT_FOUND,
            "There is nothing here. Check the address, or go back to the home page.",
        )
    }

    /// Signed in, but the role does not reach this page.
    pub fn forbidden() -> AppError {
        AppError::new(
            StatusCode::FORBIDDEN,
            "Your role does not give you access to this page. If you need it for your work, ask an administrator.",
        )
    }

    /// A form or call without the session's token (CSRF).
    pub fn stale_form() -> AppError {
        AppError::new(
            StatusCode::FORBIDDEN,
            "This form had expired or did not come from this console, so nothing was changed. Go back, reload the page and try again.",
        )
    }

    /// An API call without a valid token or session.
    pub fn not_signed_in() -> AppError {
        AppError::new(
            StatusCode::UNAUTHORIZED,
            "Sign in first, or send a personal API token as 'Authorization: Bearer TOKEN'.",
        )
    }

    /// Our fault: logged in full with a reference, shown as the reference.
    pub fn internal(detail: impl Display) -> AppError {
        let mut bytes = [0u8; 3];
        let reference = match getrandom::fill(&mut bytes) {
            Ok(()) => format!("E-{}", hex::encode_upper(bytes)),
            Err(_) => "E-000000".to_owned(),
        };
        AppError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: format!(
                "Something went wrong on our side, and what you asked for may not have been done. \
                 Try again; if it keeps happening, tell your technician the reference {reference}."
            ),
            detail: Some(detail.to_string()),
            reference: Some(reference),
        }
    }

    /// The thing changed since the person started (someone else saved first).
    pub fn conflict(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::CONFLICT, message)
    }

    /// A part the console relies on is not running here.
    pub fn unavailable(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    fn log(&self) {
        match (&self.reference, &self.detail) {
            (Some(reference), Some(detail)) => {
                tracing::error!(reference = %reference, status = %self.status, "console: {detail}");
            }
            _ => {
                tracing::debug!(status = %self.status, message = %self.message, "console: refused")
            }
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            // These messages are written for people already.
            StoreError::Exists { .. } => AppError::new(StatusCode::CONFLICT, e.to_string()),
            StoreError::NotFound { .. } => AppError::not_found(),
            e => AppError::internal(format!("the store failed: {e}")),
        }
    }
}

impl From<HashError> for AppError {
    fn from(e: HashError) -> AppError {
        AppError::internal(e)
    }
}

impl From<getrandom::Error> for AppError {
    fn from(e: getrandom::Error) -> AppError {
        AppError::internal(format!("no randomness from the operating system: {e}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let body = crate::pages::error_page(self.status, &self.message);
        (self.status, Html(body)).into_response()
    }
}

/// The same errors for the JSON API: `{"error": "…"}`.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> ApiError {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        e.log();
        let body = serde_json::json!({ "error": e.message, "reference": e.reference });
        (e.status, Json(body)).into_response()
    }
}
