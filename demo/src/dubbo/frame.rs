//! The Dubbo2 frame as both ends of the demo see it: the 16-byte header (magic, flag, status, request id,
//! body length) and reading one frame from a stream without trusting the announced length.
//!
//! The gateway's own frame code is crate-private and built around its client; the provider and the load
//! client need the same 16 bytes from the other side, so they are written out here.

use tokio::io::{AsyncRead, AsyncReadExt};

pub const HEADER_LEN: usize = 16;
pub const MAGIC: [u8; 2] = [0xda, 0xbb];
pub const FLAG_REQUEST: u8 = 0x80;
pub const FLAG_TWO_WAY: u8 = 0x40;
pub const FLAG_EVENT: u8 = 0x20;
const SERIALIZATION_MASK: u8 = 0x1f;
/// The serialization id of hessian2, the only one spoken here.
pub const HESSIAN2: u8 = 2;
pub const STATUS_OK: u8 = 20;
pub const STATUS_BAD_REQUEST: u8 = 40;
pub const STATUS_SERVICE_ERROR: u8 = 70;
/// A hessian2 null: the body of a heartbeat, both ways.
pub const HEARTBEAT_BODY: &[u8] = b"N";
/// Dubbo's default `payload`: a frame announcing more is refused before anything is allocated for it.
pub const PAYLOAD_LIMIT: usize = 8 << 20;

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
}

/// A whole frame (header and body) in one buffer. Bodies here are far below the 4 GiB a header can
/// announce; a larger one would be cut off by the length, so it saturates rather than wraps.
pub fn encode(flag: u8, status: u8, id: u64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    let body_len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    let header = Header {
        flag,
        status,
        id,
        body_len,
    };
    out.extend_from_slice(&header.encode());
    out.extend_from_slice(body);
    out
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

/// Why a frame could not be read; each of them ends the connection, since the stream is no longer in
/// step with frame boundaries.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("bad magic {0:02x?}")]
    BadMagic([u8; 2]),
    #[error("frame announces a body of {0} bytes, above the payload limit")]
    TooLarge(u32),
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads one frame, its body into `body` (reused across frames). `None` when the peer closed between
/// frames. The length is checked against `limit` before the body buffer grows.
pub async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    limit: usize,
    body: &mut Vec<u8>,
) -> Result<Option<Header>, FrameError> {
    let mut head = [0u8; HEADER_LEN];
    // The first byte apart: EOF there is a clean close, anywhere later a truncated frame.
    match reader.read(&mut head[..1]).await? {
        0 => return Ok(None),
        _ => reader.read_exact(&mut head[1..]).await?,
    };
    let header = Header::decode(&head)?;
    if header.body_len as usize > limit {
        return Err(FrameError::TooLarge(header.body_len));
    }
    body.clear();
    body.resize(header.body_len as usize, 0);
    reader.read_exact(body).await?;
    Ok(Some(header))
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

    #[tokio::test]
    async fn reads_whole_frames_and_refuses_the_rest() {
        let good = encode(HESSIAN2, STATUS_OK, 7, b"\x91\x05hello");
        let mut body = Vec::new();
        let header = read_frame(&mut good.as_slice(), 64, &mut body).await;
        assert!(matches!(header, Ok(Some(h)) if h.id == 7), "{header:?}");
        assert_eq!(body, b"\x91\x05hello");

        let too_large = read_frame(&mut good.as_slice(), 6, &mut body).await;
        assert!(matches!(too_large, Err(FrameError::TooLarge(7))));

        let mut bad = good.clone();
        bad[0] = 0xca;
        let bad = read_frame(&mut bad.as_slice(), 64, &mut body).await;
        assert!(matches!(bad, Err(FrameError::BadMagic(_))));

        for cut in [1, 5, HEADER_LEN, good.len() - 1] {
            let truncated = read_frame(&mut &good[..cut], 64, &mut body).await;
            assert!(matches!(truncated, Err(FrameError::Io(_))), "cut at {cut}");
        }
        let empty = read_frame(&mut &b""[..], 64, &mut body).await;
        assert!(matches!(empty, Ok(None)));
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
}
