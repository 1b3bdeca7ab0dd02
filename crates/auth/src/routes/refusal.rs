//! The one place a refusal of the auth domain becomes an HTTP answer.

use gittix_shared::ApiError;

use crate::refusal::Refusal;

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::EmailInUse => ApiError::bad_request("Email in use"),
            Refusal::InvalidCredentials => ApiError::bad_request("Invalid credentials"),
            Refusal::NoSuchUser => ApiError::NotAuthorized,
            Refusal::InvalidResetLink | Refusal::InvalidVerificationLink => {
                ApiError::bad_request("Invalid or expired link")
            }
            Refusal::TooManyAttempts { retry_after } => ApiError::too_many_requests(retry_after),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_wait_under_a_second_is_retried_after_one() {
        let error = ApiError::from(Refusal::TooManyAttempts {
            retry_after: Duration::from_millis(300),
        });
        assert!(matches!(
            error,
            ApiError::TooManyRequests {
                retry_after_secs: 1
            }
        ));
    }
}
