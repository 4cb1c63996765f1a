//! X-Ray segments: PutTraceSegments in batches, or UDP to a local X-Ray
//! daemon / ADOT collector.
//!
//! A segment sent again after a timeout keeps its id (unique within its
//! trace), and X-Ray overwrites a segment with a document sent again under
//! its id (the API documents this for completing an in-progress segment), so
//! on AWS the retry replaces rather than adds. (The moto emulator keeps both.)

use std::time::Duration;

use aws_sdk_xray::Client;
use tokio::net::UdpSocket;

use super::{aws::attempt, BatchLimits, ShipError, Shipper};

pub struct XRayApi {
    client: Client,
}

impl XRayApi {
    pub fn new(sdk: &aws_config::SdkConfig) -> XRayApi {
        XRayApi {
            client: Client::new(sdk),
        }
    }
}

impl Shipper for XRayApi {
    type Item = String;
    const NAME: &'static str = "xray";

    fn limits(&self) -> BatchLimits {
        BatchLimits {
            max_items: 50,
            max_bytes: 400_000,
        }
    }

    fn size(&self, doc: &String) -> usize {
        doc.len() + 16
    }

    async fn ship(&self, docs: &[String], timeout: Duration) -> Result<(), ShipError> {
        let request = self
            .client
            .put_trace_segments()
            .set_trace_segment_documents(Some(docs.to_vec()))
            .send();
        let out = attempt("X-Ray PutTraceSegments", timeout, request).await?;
        let unprocessed = out.unprocessed_trace_segments();
        if unprocessed.is_empty() {
            return Ok(());
        }
        let first = &unprocessed[0];
        Err(ShipError::new(
            false,
            format!(
                "X-Ray refused {} of {} segments (first: {} {})",
                unprocessed.len(),
                docs.len(),
                first.error_code().unwrap_or(""),
                first.message().unwrap_or("")
            ),
        ))
    }
}

/// The daemon protocol: a JSON header line, then the segment, one per datagram.
pub struct XRayDaemon {
    socket: UdpSocket,
}

impl XRayDaemon {
    pub async fn new(addr: std::net::SocketAddr) -> std::io::Result<XRayDaemon> {
        let bind = if addr.is_ipv6() {
            "[::]:0"
        } else {
            "0.0.0.0:0"
        };
        let socket = UdpSocket::bind(bind).await?;
        socket.connect(addr).await?;
        Ok(XRayDaemon { socket })
    }
}

impl Shipper for XRayDaemon {
    type Item = String;
    const NAME: &'static str = "xray-daemon";

    fn limits(&self) -> BatchLimits {
        BatchLimits {
            max_items: 1,
            max_bytes: 64_000,
        }
    }

    fn size(&self, doc: &String) -> usize {
        doc.len()
    }

    async fn ship(&self, docs: &[String], _timeout: Duration) -> Result<(), ShipError> {
        for doc in docs {
            let packet = format!("{{\"format\": \"json\", \"version\": 1}}\n{doc}");
            self.socket
                .send(packet.as_bytes())
                .await
                .map_err(|e| ShipError::new(true, format!("X-Ray daemon: {e}")))?;
        }
        Ok(())
    }
}
