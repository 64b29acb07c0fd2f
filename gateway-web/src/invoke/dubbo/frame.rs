//! The Dubbo2 frame: a 16-byte header (magic, flag, status, request id, body length) and its body.
//! Reading never trusts the announced length beyond the payload limit.

use tokio::io::{AsyncRead, AsyncReadExt};

pub(crate) const HEADER_LEN: usize = 16;
pub(crate) const MAGIC: [u8; 2] = [0xda, 0xbb];
pub(crate) const FLAG_REQUEST: u8 = 0x80;
pub(crate) const FLAG_TWO_WAY: u8 = 0x40;
pub(crate) const FLAG_EVENT: u8 = 0x20;
pub(crate) const SERIALIZATION_MASK: u8 = 0x1f;
pub(crate) const HESSIAN2: u8 = 2;
pub(crate) const STATUS_OK: u8 = 20;
/// A hessian2 null: the body of every heartbeat, both ways.
pub(crate) const HEARTBEAT_BODY: &[u8] = b"N";

/// The name Dubbo gives a response status, for messages.
pub(crate) fn status_name(status: u8) -> &'static str {
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
pub(crate) struct Header {
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
        if bytes[..2] != MAGIC {
            return Err(FrameError::BadMagic([bytes[0], bytes[1]]));
        }
        let mut id = [0u8; 8];
        id.copy_from_slice(&bytes[4..12]);
        let mut len = [0u8; 4];
        len.copy_from_slice(&bytes[12..]);
        Ok(Header {
            flag: bytes[2],
            status: bytes[3],
            id: u64::from_be_bytes(id),
            body_len: u32::from_be_bytes(len),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    pub header: Header,
    pub body: Vec<u8>,
}

/// A buffer with room for the header, so a request body is encoded once and framed in place.
pub(crate) fn buffer_with_header_room() -> Vec<u8> {
    vec![0u8; HEADER_LEN]
}

/// Writes the header into the room left by [`buffer_with_header_room`]; the length is what follows it.
/// The caller has checked the body against the payload limit, which is far below `u32::MAX`.
pub(crate) fn fill_header(buf: &mut [u8], flag: u8, status: u8, id: u64) {
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
pub(crate) fn encode(flag: u8, status: u8, id: u64, body: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(HEADER_LEN + body.len());
    buf.extend_from_slice(&[0u8; HEADER_LEN]);
    buf.extend_from_slice(body);
    fill_header(&mut buf, flag, status, id);
    buf
}

/// Why a frame could not be read; every one of them ends the connection.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FrameError {
    #[error("bad magic {0:02x?}")]
    BadMagic([u8; 2]),
    #[error("frame announces a body of {0} bytes, above the payload limit")]
    TooLarge(u64),
    #[error("closed by the provider")]
    Closed,
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads one frame. The length is checked against `limit` before anything is allocated for the body.
pub(crate) async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    limit: usize,
) -> Result<Frame, FrameError> {
    let mut head = [0u8; HEADER_LEN];
    match reader.read_exact(&mut head).await {
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(FrameError::Closed);
        }
        Err(err) => return Err(err.into()),
    }
    let header = Header::decode(&head)?;
    let len = u64::from(header.body_len);
    if len > limit as u64 {
        return Err(FrameError::TooLarge(len));
    }
    let mut body = vec![0u8; header.body_len as usize];
    reader.read_exact(&mut body).await?;
    Ok(Frame { header, body })
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
    }

    #[tokio::test]
    async fn reads_whole_frames_and_refuses_the_rest() {
        let good = encode(HESSIAN2, STATUS_OK, 7, b"\x91\x05hello");
        let frame = read_frame(&mut good.as_slice(), 64).await;
        assert!(matches!(frame, Ok(Frame { header, body }) if header.id == 7 && body.len() == 7));

        let too_large = read_frame(&mut good.as_slice(), 6).await;
        assert!(matches!(too_large, Err(FrameError::TooLarge(7))));

        let mut bad = good.clone();
        bad[0] = 0xca;
        assert!(matches!(
            read_frame(&mut bad.as_slice(), 64).await,
            Err(FrameError::BadMagic(_))
        ));

        let truncated = &good[..good.len() - 2];
        assert!(matches!(
            read_frame(&mut &truncated[..], 64).await,
            Err(FrameError::Io(_))
        ));
        assert!(matches!(
            read_frame(&mut &good[..5], 64).await,
            Err(FrameError::Closed)
        ));
    }
}
