//! What can go wrong setting up or sending.

/// A send that did not work, and whether trying again could help.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct DeliveryError {
    /// The reason in the server's (or the network's) words.
    pub reason: String,
    /// The server refused outright (a 5xx SMTP reply, a 4xx HTTP answer):
    /// the same message would be refused again.
    pub permanent: bool,
}

impl DeliveryError {
    pub fn transient(reason: impl Into<String>) -> DeliveryError {
        DeliveryError {
            reason: reason.into(),
            permanent: false,
        }
    }

    pub fn permanent(reason: impl Into<String>) -> DeliveryError {
        DeliveryError {
            reason: reason.into(),
            permanent: true,
        }
    }
}

/// Settings that cannot be used: names the key and says what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct SetupError {
    /// The setting at fault, for example `mail.password_file`.
    pub key: String,
    pub problem: String,
}

impl SetupError {
    pub(crate) fn new(key: impl Into<String>, problem: impl Into<String>) -> SetupError {
        SetupError {
            key: key.into(),
            problem: problem.into(),
        }
    }
}
