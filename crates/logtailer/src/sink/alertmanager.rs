//! Alertmanager API v2 client: `POST /api/v2/alerts` with a JSON array of postable alerts
//! (labels, annotations, `startsAt`, `endsAt`), to every configured Alertmanager (an HA
//! pair gossips and deduplicates, so each alert goes to all). API v1 was removed in 0.27 and
//! answers 410, so v2 only (reference A.10, Alertmanager `api/v2/openapi.yaml`).
//!
//! A firing alert carries `endsAt = last match + resolve_after`, its own expiry: if the
//! logtailer dies, Alertmanager resolves it on time instead of after its global
//! `resolve_timeout`. A resolved alert carries the `endsAt` when it resolved.
//!
//! `http://` and `https://` URLs; https through [`super::tls`] (rustls).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Uri;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;

use super::tls::{Connector, TlsClient, connector, error_chain};
use crate::rule::state::Alert;

/// Why a post to one Alertmanager failed.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// A configured URL is not usable.
    #[error("alertmanager URL {url:?}: {message}")]
    BadUrl {
        /// As configured.
        url: String,
        /// What was expected.
        message: String,
    },
    /// Connection, TLS or protocol error.
    #[error("{url}: {}", error_chain(source))]
    Request {
        /// The endpoint.
        url: String,
        /// The client's error.
        source: hyper_util::client::legacy::Error,
    },
    /// No complete answer within the timeout.
    #[error("{url}: no answer within {timeout:?}")]
    Timeout {
        /// The endpoint.
        url: String,
        /// The timeout.
        timeout: Duration,
    },
    /// Alertmanager refused the alerts.
    #[error("{url}: HTTP {status}: {body}")]
    Status {
        /// The endpoint.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The start of the answer.
        body: String,
    },
}

/// `postableAlert` of the v2 API.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Postable<'a> {
    labels: BTreeMap<&'a str, &'a str>,
    annotations: &'a BTreeMap<String, String>,
    starts_at: String,
    ends_at: String,
    #[serde(rename = "generatorURL", skip_serializing_if = "Option::is_none")]
    generator_url: Option<&'a str>,
}

/// Posts alerts to a set of Alertmanagers.
#[derive(Clone, Debug)]
pub struct Alertmanager {
    endpoints: Vec<Uri>,
    client: Client<Connector, Full<Bytes>>,
    timeout: Duration,
}

impl Alertmanager {
    /// A client for `urls` (`http://host:9093` or `https://...`, optionally with a path
    /// prefix), each request bounded by `timeout`; `tls` is needed for `https://` URLs.
    pub fn new(
        urls: &[String],
        timeout: Duration,
        tls: Option<&TlsClient>,
    ) -> Result<Self, SinkError> {
        Self::build(urls, timeout, "/api/v2/alerts", tls)
    }

    /// A client that posts the same JSON body to `url` itself: the optional webhook, for
    /// receivers other than Alertmanager.
    pub fn webhook(
        url: &str,
        timeout: Duration,
        tls: Option<&TlsClient>,
    ) -> Result<Self, SinkError> {
        Self::build(std::slice::from_ref(&url.to_string()), timeout, "", tls)
    }

    fn build(
        urls: &[String],
        timeout: Duration,
        path: &str,
        tls: Option<&TlsClient>,
    ) -> Result<Self, SinkError> {
        let mut endpoints = Vec::new();
        for url in urls {
            let bad =
                |message: &str| SinkError::BadUrl { url: url.clone(), message: message.into() };
            if url.starts_with("https://") && tls.is_none() {
                return Err(bad("https:// needs a TLS client configuration"));
            }
            if !url.starts_with("http://") && !url.starts_with("https://") {
                return Err(bad(
                    "expected http://HOST:PORT or https://HOST:PORT, e.g. http://127.0.0.1:9093",
                ));
            }
            let endpoint = if path.is_empty() {
                url.clone()
            } else {
                format!("{}{path}", url.trim_end_matches('/'))
            };
            let uri: Uri = endpoint.parse().map_err(|e| bad(&format!("{e}")))?;
            if uri.host().is_none() {
                return Err(bad("no host; expected http://HOST:PORT"));
            }
            endpoints.push(uri);
        }
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(timeout));
        http.set_nodelay(true);
        http.enforce_http(false); // https:// goes through hyper-rustls
        let https = connector(http, tls).map_err(|e| SinkError::BadUrl {
            url: urls.join(", "),
            message: format!("cannot set up TLS: {e}"),
        })?;
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(https);
        Ok(Alertmanager { endpoints, client, timeout })
    }

    /// The endpoints, in configuration order.
    pub fn endpoints(&self) -> &[Uri] {
        &self.endpoints
    }

    /// The JSON body for `alerts`, with `instance` added to their labels and `endsAt` from
    /// [`Alert::expires_at`].
    pub fn body(alerts: &[Alert], instance: &str) -> Bytes {
        let postable: Vec<Postable> = alerts
            .iter()
            .map(|a| {
                let mut labels: BTreeMap<&str, &str> =
                    a.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                labels.insert("instance", instance);
                Postable {
                    labels,
                    annotations: &a.annotations,
                    starts_at: rfc3339(a.starts_at),
                    ends_at: rfc3339(a.expires_at()),
                    generator_url: None,
                }
            })
            .collect();
        // Serializing maps of strings cannot fail.
        Bytes::from(serde_json::to_vec(&postable).unwrap_or_default())
    }

    /// Posts `body` to every Alertmanager at once (a dead one costs its timeout, not the
    /// others' latency); one result per endpoint, in order.
    pub async fn post(&self, body: Bytes) -> Vec<Result<(), SinkError>> {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, uri) in self.endpoints.iter().enumerate() {
            let (me, uri, body) = (self.clone(), uri.clone(), body.clone());
            tasks.spawn(async move { (i, me.post_one(&uri, body).await) });
        }
        let mut results: Vec<Option<Result<(), SinkError>>> =
            self.endpoints.iter().map(|_| None).collect();
        while let Some(done) = tasks.join_next().await {
            if let Ok((i, result)) = done {
                results[i] = Some(result);
            }
        }
        results
            .into_iter()
            .zip(&self.endpoints)
            .map(|(r, uri)| {
                // Only a panic in the task leaves a slot empty; report it as a timeout-like
                // failure rather than lose the endpoint's result.
                r.unwrap_or_else(|| {
                    Err(SinkError::Timeout { url: uri.to_string(), timeout: self.timeout })
                })
            })
            .collect()
    }

    async fn post_one(&self, uri: &Uri, body: Bytes) -> Result<(), SinkError> {
        let url = uri.to_string();
        let request = hyper::Request::post(uri.clone())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(
                hyper::header::USER_AGENT,
                concat!("obwatch-logtailer/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(body))
            .map_err(|e| SinkError::BadUrl { url: url.clone(), message: e.to_string() })?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|source| SinkError::Request { url: url.clone(), source })?;
            let status = response.status();
            let body =
                response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            if status.is_success() {
                Ok(())
            } else {
                let text = String::from_utf8_lossy(&body[..body.len().min(512)]).trim().to_string();
                Err(SinkError::Status { url: url.clone(), status: status.as_u16(), body: text })
            }
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(SinkError::Timeout { url, timeout: self.timeout }),
        }
    }
}

/// RFC 3339 in UTC with milliseconds, as Alertmanager prints them.
fn rfc3339(t: SystemTime) -> String {
    match jiff::Timestamp::try_from(t) {
        Ok(ts) => format!("{ts:.3}"),
        Err(_) => "1970-01-01T00:00:00Z".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_the_v2_shape() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
        let alert = Alert {
            labels: BTreeMap::from([
                ("alertname".into(), "A".into()),
                ("node".into(), "rac2".into()),
            ]),
            annotations: BTreeMap::from([("summary".into(), "s".into())]),
            starts_at: t,
            last_match: t,
            ends_at: None,
            count: 1,
            resolve_after: Duration::from_secs(300),
        };
        let body = Alertmanager::body(&[alert], "db1");
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"[{"labels":{"alertname":"A","instance":"db1","node":"rac2"},"annotations":{"summary":"s"},"startsAt":"2023-11-14T22:13:20.250Z","endsAt":"2023-11-14T22:18:20.250Z"}]"#
        );
    }

    #[test]
    fn urls_are_checked() {
        let t = Duration::from_secs(1);
        assert!(Alertmanager::new(&["http://127.0.0.1:9093/".into()], t, None).is_ok());
        let e = Alertmanager::new(&["127.0.0.1:9093".into()], t, None).unwrap_err().to_string();
        assert!(e.contains("expected http://HOST:PORT or https://HOST:PORT"), "{e}");
        let e = Alertmanager::new(&["https://am:9093".into()], t, None).unwrap_err().to_string();
        assert!(e.contains("https:// needs a TLS client configuration"), "{e}");
    }
}
