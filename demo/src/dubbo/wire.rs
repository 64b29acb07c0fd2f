//! Reading one frame off a stream, for the provider and the load client: the header through the
//! codec (which refuses a length above the limit before the body buffer grows), then the body into a
//! buffer reused across frames.

use dubbo_codec::frame::{FrameError, HEADER_LEN, Header};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Why a frame could not be read; each ends the connection.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads one frame, its body into `body`. `None` when the peer closed between frames.
pub async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    limit: usize,
    body: &mut Vec<u8>,
) -> Result<Option<Header>, ReadError> {
    let mut head = [0u8; HEADER_LEN];
    // The first byte apart: EOF there is a clean close, anywhere later a truncated frame.
    match reader.read(&mut head[..1]).await? {
        0 => return Ok(None),
        _ => reader.read_exact(&mut head[1..]).await?,
    };
    let header = Header::decode_within(&head, limit)?;
    body.clear();
    body.resize(header.body_len as usize, 0);
    reader.read_exact(body).await?;
    Ok(Some(header))
}

#[cfg(test)]
mod tests {
    use dubbo_codec::frame::{HESSIAN2, STATUS_OK, encode};

    use super::*;

    #[tokio::test]
    async fn reads_whole_frames_and_refuses_the_rest() {
        let good = encode(HESSIAN2, STATUS_OK, 7, b"\x91\x05hello");
        let mut body = Vec::new();
        let header = read_frame(&mut good.as_slice(), 64, &mut body).await;
        assert!(matches!(header, Ok(Some(h)) if h.id == 7), "{header:?}");
        assert_eq!(body, b"\x91\x05hello");

        let too_large = read_frame(&mut good.as_slice(), 6, &mut body).await;
        assert!(matches!(
            too_large,
            Err(ReadError::Frame(FrameError::TooLarge(7)))
        ));

        let mut bad = good.clone();
        bad[0] = 0xca;
        let bad = read_frame(&mut bad.as_slice(), 64, &mut body).await;
        assert!(matches!(
            bad,
            Err(ReadError::Frame(FrameError::BadMagic(_)))
        ));

        for cut in [1, 5, HEADER_LEN, good.len() - 1] {
            let truncated = read_frame(&mut &good[..cut], 64, &mut body).await;
            assert!(matches!(truncated, Err(ReadError::Io(_))), "cut at {cut}");
        }
        let empty = read_frame(&mut &b""[..], 64, &mut body).await;
        assert!(matches!(empty, Ok(None)));
    }
}
