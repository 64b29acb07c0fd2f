//! Reading whole frames off a provider connection: the header through the codec (which refuses a length
//! above the payload limit before anything is allocated for the body), then the body.

use dubbo_codec::frame::{HEADER_LEN, Header};
use tokio::io::{AsyncRead, AsyncReadExt};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    pub header: Header,
    pub body: Vec<u8>,
}

/// Why a frame could not be read; every one of them ends the connection.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FrameError {
    #[error(transparent)]
    Header(#[from] dubbo_codec::frame::FrameError),
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
    let header = Header::decode_within(&head, limit)?;
    let mut body = vec![0u8; header.body_len as usize];
    reader.read_exact(&mut body).await?;
    Ok(Frame { header, body })
}

#[cfg(test)]
mod tests {
    use dubbo_codec::frame::{FrameError as HeaderError, HESSIAN2, STATUS_OK, encode};

    use super::*;

    #[tokio::test]
    async fn reads_whole_frames_and_refuses_the_rest() {
        let good = encode(HESSIAN2, STATUS_OK, 7, b"\x91\x05hello");
        let frame = read_frame(&mut good.as_slice(), 64).await;
        assert!(matches!(frame, Ok(Frame { header, body }) if header.id == 7 && body.len() == 7));

        let too_large = read_frame(&mut good.as_slice(), 6).await;
        assert!(matches!(
            too_large,
            Err(FrameError::Header(HeaderError::TooLarge(7)))
        ));

        let mut bad = good.clone();
        bad[0] = 0xca;
        assert!(matches!(
            read_frame(&mut bad.as_slice(), 64).await,
            Err(FrameError::Header(HeaderError::BadMagic(_)))
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
