use lienhoan_domain::validation::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Input broke a rule; nothing was written.
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldError>),
    /// The row does not exist or the actor's scope does not include it.
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// A unique value is taken, e.g. a username.
    #[error("conflict: {0:?}")]
    Conflict(FieldError),
    #[error("wrong username or password")]
    BadCredentials,
    #[error("too many failed logins")]
    RateLimited,
    /// Every database connection stayed in use for the whole acquire timeout: a passing
    /// overload, so asking again shortly may succeed.
    #[error("storage busy: no database connection became free in time")]
    Busy,
    /// The write was rolled back with others that shared its commit, for a failure that need
    /// not be its own; nothing of it was kept, and asking again may succeed.
    #[error("write interrupted: {0}")]
    Interrupted(String),
    #[error("storage failure: {0}")]
    Backend(String),
}

impl StoreError {
    pub fn invalid(field: &str, key: &'static str) -> Self {
        Self::Invalid(vec![FieldError::new(field, key)])
    }
}

impl From<Vec<FieldError>> for StoreError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::Invalid(errors)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
