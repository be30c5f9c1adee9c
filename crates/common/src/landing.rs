//! The `/` page of the exporter and the logtailer, in the shape of the Prometheus tools'
//! landing page (exporter-toolkit's `web.NewLandingPage`): name and version, what the program
//! does, links to its endpoints, and what it is configured to do. One small inline style
//! sheet, no scripts, no external assets (the page is read on hosts without internet).
//! Everything shown is escaped: collector names, paths and URLs come from configuration.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};

use crate::http::HttpResponse;

/// What a landing page shows.
#[derive(Debug, Default)]
pub struct LandingPage {
    /// The binary's name, as title and heading.
    pub name: &'static str,
    /// One sentence on what it does.
    pub description: &'static str,
    /// Endpoints: (href, what it serves).
    pub links: Vec<(String, &'static str)>,
    /// Configuration worth seeing at a glance: (heading, items).
    pub sections: Vec<(&'static str, Vec<String>)>,
}

const STYLE: &str = "body{font-family:-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;margin:0}\
header{background:#e6522c;color:#fff;padding:.6em 1em}header h1{margin:0;font-size:1.4em}\
main{padding:0 1em 1em}h2{font-size:1.1em;margin-top:1.4em}code,.mono{font-family:monospace}\
ul{padding-left:1.4em}li{margin:.2em 0}footer{color:#666;font-size:.85em;padding:0 1em 1em}";

impl LandingPage {
    /// The page as HTML.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        out.push_str(&format!(
            "<title>{}</title><style>{STYLE}</style></head><body>\n",
            escape_markup(self.name)
        ));
        out.push_str(&format!(
            "<header><h1>{} {}</h1></header>\n<main>\n<p>{}</p>\n<h2>Endpoints</h2>\n<ul>\n",
            escape_markup(self.name),
            escape_markup(crate::build::VERSION),
            escape_markup(self.description)
        ));
        for (href, what) in &self.links {
            out.push_str(&format!(
                "<li><a href=\"{h}\"><code>{h}</code></a>: {}</li>\n",
                escape_markup(what),
                h = escape_markup(href)
            ));
        }
        out.push_str("</ul>\n");
        for (heading, items) in &self.sections {
            out.push_str(&format!("<h2>{}</h2>\n<ul>\n", escape_markup(heading)));
            if items.is_empty() {
                out.push_str("<li>(none)</li>\n");
            }
            for item in items {
                out.push_str(&format!("<li class=\"mono\">{}</li>\n", escape_markup(item)));
            }
            out.push_str("</ul>\n");
        }
        out.push_str(&format!(
            "</main>\n<footer>{}</footer>\n</body></html>\n",
            escape_markup(crate::build::LONG_VERSION.lines().next().unwrap_or(""))
        ));
        out
    }

    /// The page as a `200 text/html` response.
    pub fn response(&self) -> HttpResponse {
        let mut r = Response::new(Full::new(Bytes::from(self.render())));
        *r.status_mut() = StatusCode::OK;
        r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        r
    }
}

/// `url` without credentials: `http://user:secret@am:9093/` becomes `http://***@am:9093/`,
/// so a page anyone who can reach the port may read never shows a password.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// Text for HTML or XML, in content and in quoted attributes: the five special characters
/// escaped, and control characters XML 1.0 cannot hold (from a log line or a file name) as
/// U+FFFD; newlines and tabs kept. The landing pages and `obwatch-logtailer test --junit`.
pub fn escape_markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if (c as u32) < 0x20 => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_urls_are_not_shown() {
        assert_eq!(redact_url("http://am:9093"), "http://am:9093");
        assert_eq!(redact_url("https://u:p%40ss@am:9093/x?y=1"), "https://***@am:9093/x?y=1");
        assert_eq!(redact_url("http://am:9093/a@b"), "http://am:9093/a@b");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn page_has_links_sections_and_escapes_what_it_shows() {
        let page = LandingPage {
            name: "obwatch-demo",
            description: "Demo <thing>.",
            links: vec![("/metrics".into(), "metrics"), ("/-/healthy".into(), "health")],
            sections: vec![
                ("Inputs", vec!["app: /var/log/*.log".into(), "x\"><script>".into()]),
                ("Empty", vec![]),
            ],
        };
        let html = page.render();
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        assert!(html.contains("<title>obwatch-demo</title>"));
        assert!(html.contains(&format!("<h1>obwatch-demo {}</h1>", crate::build::VERSION)));
        assert!(html.contains("<li><a href=\"/metrics\"><code>/metrics</code></a>: metrics</li>"));
        assert!(html.contains("<p>Demo &lt;thing&gt;.</p>"));
        assert!(html.contains("x&quot;&gt;&lt;script&gt;") && !html.contains("<script>"));
        assert_eq!(escape_markup("a'b\u{1b}[31m\tc\n"), "a&#39;b\u{fffd}[31m\tc\n");
        assert!(html.contains("<h2>Empty</h2>\n<ul>\n<li>(none)</li>"));
        assert_eq!(
            page.response().headers()[CONTENT_TYPE].to_str().unwrap(),
            "text/html; charset=utf-8"
        );
    }
}
