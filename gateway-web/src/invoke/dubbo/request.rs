//! An [`Invocation`] as a request frame: the client's own attachments first (a caller cannot override
//! them), the body through the codec, framed in place, checked against the payload limit.

use dubbo_codec::frame;
use dubbo_codec::request::{self, DUBBO_VERSION, Head};

use super::call::Invocation;
use super::error::DubboError;

/// Attachment keys the client sets itself; a caller's attachment under one of these is ignored so it
/// cannot redirect the call to another service.
const RESERVED: [&str; 5] = ["path", "interface", "version", "group", "timeout"];

/// Encodes `call` into a buffer that starts with room for the frame header. `version` and `group` are
/// the call's own, or else those of the chosen provider (a Java provider finds its exporter by them).
pub(crate) fn encode(
    call: &Invocation,
    version: Option<&str>,
    group: Option<&str>,
    payload_limit: usize,
) -> Result<Vec<u8>, DubboError> {
    if call.arguments.len() != call.parameter_types.len() {
        return Err(DubboError::Protocol(format!(
            "{} argument(s) for {} parameter type(s) of `{}`",
            call.arguments.len(),
            call.parameter_types.len(),
            call.method
        )));
    }
    let descriptor = request::descriptor(&call.parameter_types).map_err(DubboError::Protocol)?;
    let mut out = frame::buffer_with_header_room();
    let timeout = call.timeout.as_millis().to_string();
    let head = Head {
        dubbo_version: DUBBO_VERSION,
        service: &call.service,
        // No version is written as "": Java treats "" and "0.0.0" alike, while sofa-rpc-node looks a
        // service up as `path:version` whenever the version is non-empty.
        version: version.unwrap_or_default(),
        method: &call.method,
        descriptor: &descriptor,
    };
    request::write(
        &mut out,
        &head,
        &call.arguments,
        &attachments(call, version, group, &timeout),
    );

    let body_len = out.len() - frame::HEADER_LEN;
    // The header carries the length in 4 bytes, whatever limit was configured.
    if body_len > payload_limit || u32::try_from(body_len).is_err() {
        return Err(DubboError::PayloadTooLarge(body_len));
    }
    Ok(out)
}

fn attachments<'a>(
    call: &'a Invocation,
    version: Option<&'a str>,
    group: Option<&'a str>,
    timeout: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut entries = vec![
        ("path", call.service.as_str()),
        ("interface", call.service.as_str()),
    ];
    if let Some(version) = version {
        entries.push(("version", version));
    }
    if let Some(group) = group {
        entries.push(("group", group));
    }
    entries.push(("timeout", timeout));
    for (key, value) in &call.attachments {
        if !RESERVED.contains(&key.as_str()) {
            entries.push((key, value));
        }
    }
    entries
}
