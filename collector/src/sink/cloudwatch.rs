//! PutMetricData: up to 1000 datums and under 1 MB per request, datums keep
//! the time they were read, so data that waited out an outage lands where
//! it belongs.

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use aws_sdk_cloudwatch::Client;

use std::time::Duration;

use super::{aws::attempt, BatchLimits, ShipError, Shipper};
use crate::series::Datum;

pub struct CloudWatch {
    client: Client,
    namespace: String,
    storage_resolution: i32,
}

impl CloudWatch {
    pub fn new(
        sdk: &aws_config::SdkConfig,
        namespace: String,
        storage_resolution: i32,
    ) -> CloudWatch {
        CloudWatch {
            client: Client::new(sdk),
            namespace,
            storage_resolution,
        }
    }

    fn datum(&self, d: &Datum) -> MetricDatum {
        MetricDatum::builder()
            .metric_name(&d.metric)
            .unit(StandardUnit::from(d.unit.as_str()))
            .value(d.value)
            .timestamp(aws_smithy_types::DateTime::from(d.timestamp))
            .storage_resolution(self.storage_resolution)
            .set_dimensions(Some(
                d.dimensions
                    .iter()
                    .map(|(k, v)| Dimension::builder().name(k).value(v).build())
                    .collect(),
            ))
            .build()
    }
}

impl Shipper for CloudWatch {
    type Item = Datum;
    const NAME: &'static str = "cloudwatch";

    fn limits(&self) -> BatchLimits {
        // The API's limits are 1000 datums and 1 MB of request; keep a margin.
        BatchLimits {
            max_items: 1000,
            max_bytes: 900_000,
        }
    }

    fn size(&self, d: &Datum) -> usize {
        // Form-encoded as MetricData.member.N.<Field>=<value>; percent-encoding
        // can triple a byte.
        let dims: usize = d
            .dimensions
            .iter()
            .map(|(k, v)| 80 + 3 * (k.len() + v.len()))
            .sum();
        200 + 3 * d.metric.len() + dims
    }

    async fn ship(&self, items: &[Datum], timeout: Duration) -> Result<(), ShipError> {
        let data: Vec<MetricDatum> = items.iter().map(|d| self.datum(d)).collect();
        let request = self
            .client
            .put_metric_data()
            .namespace(&self.namespace)
            .set_metric_data(Some(data))
            .send();
        attempt("CloudWatch PutMetricData", timeout, request)
            .await
            .map(|_| ())
    }
}
