//! The Dubbo2 frame header: magic, flag (request, two-way, event, serialization id), status, request id
//! and body length, 16 bytes big-endian. Reading a frame off a stream is the caller's (it owns the I/O);
//! this module decodes the header and refuses a length above the payload limit before any body buffer
//! is sized from it.

pub const HEADER_LEN: usize = 16;
pub const MAGIC: [u8; 2] = [0xda, 0xbb];
pub const FLAG_REQUEST: u8 = 0x80;
pub const FLAG_TWO_WAY: u8 = 0x40;
pub const FLAG_EVENT: u8 = 0x20;
pub const SERIALIZATION_MASK: u8 = 0x1f;
/// The serialization id of hessian2, the only one spoken here.
pub const HESSIAN2: u8 = 2;
pub const STATUS_OK: u8 = 20;
pub const STATUS_BAD_REQUEST: u8 = 40;
pub const STATUS_SERVICE_ERROR: u8 = 70;
/// A hessian2 null: the body of every heartbeat, both ways.
pub const HEARTBEAT_BODY: &[u8] = b"N";
/// Dubbo's default `payload` limit (8 MiB).
pub const PAYLOAD_LIMIT: usize = 8 << 20;

/// The name Dubbo gives a response status, for messages.
pub fn status_name(status: u8) -> &'static str {
    match status {
        20 => "OK",
        30 => "CLIENT_TIMEOUT",
        31 => "SERVER_TIMEOUT",
        40 => "BAD_REQUEST",
        50 => "BAD_RESPONSE",
        60 => "SERVICE_NOT_FOUND",
        70 => "SERVICE_ERROR",
        80 => "SERVER_ERROR",
        90 => "CLIENT_ERROR",
        100 => "SERVER_THREADPOOL_EXHAUSTED",
        _ => "UNKNOWN",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub flag: u8,
    pub status: u8,
    pub id: u64,
    pub body_len: u32,
}

impl Header {
    pub fn is_request(&self) -> bool {
        self.flag & FLAG_REQUEST != 0
    }

    pub fn is_two_way(&self) -> bool {
        self.flag & FLAG_TWO_WAY != 0
    }

    pub fn is_event(&self) -> bool {
        self.flag & FLAG_EVENT != 0
    }

    pub fn serialization(&self) -> u8 {
        self.flag & SERIALIZATION_MASK
    }

    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[..2].copy_from_slice(&MAGIC);
        out[2] = self.flag;
        out[3] = self.status;
        out[4..12].copy_from_slice(&self.id.to_be_bytes());
        out[12..].copy_from_slice(&self.body_len.to_be_bytes());
        out
    }

    pub fn decode(bytes: &[u8; HEADER_LEN]) -> Result<Header, FrameError> {
        let [
            m0,
            m1,
            flag,
            status,
            i0,
            i1,
            i2,
            i3,
            i4,
            i5,
            i6,
            i7,
            l0,
            l1,
            l2,
            l3,
        ] = *bytes;
        if [m0, m1] != MAGIC {
            return Err(FrameError::BadMagic([m0, m1]));
        }
        Ok(Header {
            flag,
            status,
            id: u64::from_be_bytes([i0, i1, i2, i3, i4, i5, i6, i7]),
            body_len: u32::from_be_bytes([l0, l1, l2, l3]),
        })
    }

    /// Decodes a header and checks its body length against `limit`: what a reader calls before it sizes
    /// a buffer for the body, so a hostile length never allocates.
    pub fn decode_within(bytes: &[u8; HEADER_LEN], limit: usize) -> Result<Header, FrameError> {
        let header = Header::decode(bytes)?;
        if header.body_len as usize > limit {
            return Err(FrameError::TooLarge(header.body_len));
        }
        Ok(header)
    }
}

/// Why a header is refused; either ends the connection, since the stream is no longer in step with
/// frame boundaries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("bad magic {0:02x?}")]
    BadMagic([u8; 2]),
    #[error("frame announces a body of {0} bytes, above the payload limit")]
    TooLarge(u32),
}

/// A buffer with room for the header, so a body is encoded once and framed in place.
pub fn buffer_with_header_room() -> Vec<u8> {
    vec![0u8; HEADER_LEN]
}

/// Writes the header into the room left by [`buffer_with_header_room`]; the length is what follows it.
/// A body beyond 4 GiB cannot be announced, so the length saturates rather than wraps (callers check
/// their payload limit, far below that, first).
pub fn fill_header(buf: &mut [u8], flag: u8, status: u8, id: u64) {
    let body_len = u32::try_from(buf.len().saturating_sub(HEADER_LEN)).unwrap_or(u32::MAX);
    let header = Header {
        flag,
        status,
        id,
        body_len,
    };
    if let Some(room) = buf.get_mut(..HEADER_LEN) {
        room.copy_from_slice(&header.encode());
    }
}

/// A whole frame (header and body) in one buffer.
pub fn encode(flag: u8, status: u8, id: u64, body: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(HEADER_LEN + body.len());
    buf.extend_from_slice(&[0u8; HEADER_LEN]);
    buf.extend_from_slice(body);
    fill_header(&mut buf, flag, status, id);
    buf
}

/// Whether `buffered` starts with a whole frame, so the next read will not wait on the peer. A provider
/// flushes its answers only when it would otherwise wait: pipelined requests then cost one write.
pub fn starts_with_whole_frame(buffered: &[u8]) -> bool {
    let Some(len) = buffered.get(12..HEADER_LEN) else {
        return false;
    };
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    buffered.len() - HEADER_LEN >= len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let header = Header {
            flag: FLAG_REQUEST | FLAG_TWO_WAY | HESSIAN2,
            status: 0,
            id: 0x0102_0304_0506_0708,
            body_len: 300,
        };
        let bytes = header.encode();
        assert_eq!(&bytes[..4], &[0xda, 0xbb, 0xc2, 0]);
        assert_eq!(&bytes[4..12], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&bytes[12..], &[0, 0, 1, 44]);
        assert_eq!(Header::decode(&bytes).ok(), Some(header));
        assert!(header.is_request() && header.is_two_way() && !header.is_event());
        assert_eq!(header.serialization(), HESSIAN2);
    }

    #[test]
    fn hostile_headers_are_refused() {
        let frame = encode(HESSIAN2, STATUS_OK, 7, b"\x91\x05hello");
        let head: [u8; HEADER_LEN] = frame[..HEADER_LEN].try_into().unwrap_or([0; HEADER_LEN]);
        assert!(Header::decode_within(&head, 7).is_ok());
        assert_eq!(
            Header::decode_within(&head, 6),
            Err(FrameError::TooLarge(7))
        );
        let mut bad = head;
        bad[0] = 0xca;
        assert_eq!(
            Header::decode(&bad),
            Err(FrameError::BadMagic([0xca, 0xbb]))
        );
    }

    #[test]
    fn whole_frame_detection() {
        let frame = encode(HESSIAN2, STATUS_OK, 1, b"abc");
        let two = [frame.as_slice(), frame.as_slice()].concat();
        assert!(starts_with_whole_frame(&frame));
        assert!(starts_with_whole_frame(&two));
        assert!(!starts_with_whole_frame(&frame[..frame.len() - 1]));
        assert!(!starts_with_whole_frame(&frame[..HEADER_LEN - 1]));
        assert!(!starts_with_whole_frame(&[]));
    }

    #[test]
    fn filled_headers_announce_what_follows() {
        let mut buf = buffer_with_header_room();
        buf.extend_from_slice(b"body");
        fill_header(&mut buf, FLAG_REQUEST | HESSIAN2, 0, 9);
        assert_eq!(buf, encode(FLAG_REQUEST | HESSIAN2, 0, 9, b"body"));
    }
}
