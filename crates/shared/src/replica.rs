//! Ordered replicas: a service keeping a copy of another service's records applies an update
//! only when it is exactly the next version of the record.

/// What to do with an incoming version of a replicated record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionCheck {
    /// The next version (or the first, version 0, of a record not yet held): apply it.
    Apply,
    /// This version or a later one is already held: acknowledge and skip.
    AlreadyApplied,
    /// A predecessor is missing: negatively acknowledge it, with a delay, and let it come back.
    TooEarly,
}

/// Compares the version held (`None` when the record is not held yet) with an incoming one.
pub fn check_version(held: Option<i64>, incoming: i64) -> VersionCheck {
    match held {
        None if incoming == 0 => VersionCheck::Apply,
        None => VersionCheck::TooEarly,
        Some(held) if incoming == held + 1 => VersionCheck::Apply,
        Some(held) if incoming <= held => VersionCheck::AlreadyApplied,
        Some(_) => VersionCheck::TooEarly,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_next_version_applies() {
        assert_eq!(check_version(None, 0), VersionCheck::Apply);
        assert_eq!(check_version(None, 1), VersionCheck::TooEarly);
        assert_eq!(check_version(Some(0), 1), VersionCheck::Apply);
        assert_eq!(check_version(Some(3), 4), VersionCheck::Apply);
        assert_eq!(check_version(Some(3), 3), VersionCheck::AlreadyApplied);
        assert_eq!(check_version(Some(3), 1), VersionCheck::AlreadyApplied);
        assert_eq!(check_version(Some(3), 5), VersionCheck::TooEarly);
    }
}
