//! W3C trace context (`traceparent`): the trace id of a request travels with the events it
//! causes, and every log line of the request and of the handlers those events reach carries it,
//! so one request can be followed across services. (Exporting spans to a collector, e.g. with
//! OpenTelemetry, is not wired; the ids are ready for it.)

use rand::RngCore;

/// The trace id of a request: the one in its `traceparent` header when a gateway or client sent
/// a valid one, else one derived from the request id (a UUID is 32 hex digits), else a new one.
pub fn trace_id_for(traceparent: Option<&str>, request_id: &str) -> String {
    if let Some(id) = traceparent.and_then(trace_id_of) {
        return id;
    }
    let from_request: String = request_id
        .chars()
        .filter(|c| *c != '-')
        .collect::<String>()
        .to_lowercase();
    if is_trace_id(&from_request) {
        from_request
    } else {
        random_hex(16)
    }
}

/// A `traceparent` value continuing `trace_id` with a new span id.
pub fn traceparent(trace_id: &str) -> String {
    format!("00-{trace_id}-{}-01", random_hex(8))
}

/// The trace id of a valid `traceparent` value.
pub fn trace_id_of(traceparent: &str) -> Option<String> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace_id, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| s.len() == len && s.chars().all(|c| c.is_ascii_hexdigit());
    let valid = version == "00"
        && parts.next().is_none()
        && is_trace_id(trace_id)
        && hex(parent, 16)
        && parent.chars().any(|c| c != '0')
        && hex(flags, 2);
    valid.then(|| trace_id.to_lowercase())
}

fn is_trace_id(text: &str) -> bool {
    text.len() == 32
        && text.chars().all(|c| c.is_ascii_hexdigit())
        && text.chars().any(|c| c != '0')
}

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_incoming_traceparent_keeps_its_trace() {
        assert_eq!(
            trace_id_for(Some(GOOD), "whatever"),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
    }

    #[test]
    fn without_one_the_request_id_becomes_the_trace_id() {
        let id = trace_id_for(None, "0c2f7a52-1d3e-4b8a-9f00-7e6d5c4b3a21");
        assert_eq!(id, "0c2f7a521d3e4b8a9f007e6d5c4b3a21");
        assert_eq!(trace_id_for(Some("garbage"), "not-a-uuid").len(), 32);
    }

    #[test]
    fn invalid_traceparents_are_refused() {
        for bad in [
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        ] {
            assert_eq!(trace_id_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_new_traceparent_continues_the_trace() {
        let header = traceparent("4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(
            trace_id_of(&header).as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
    }
}
