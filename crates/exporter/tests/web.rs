//! `--web.config.file` end to end with a real HTTP client (curl) and certificates made by
//! openssl: TLS, client-certificate auth, basic auth with bcrypt hashes (401 on a wrong
//! password), extra headers.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code

mod util;

use std::process::Command;
use std::time::Duration;

use obwatch_testkit::pki::make_pki;
use util::*;

/// Runs curl; returns (exit code, HTTP status or 0).
fn curl(args: &[&str]) -> (i32, u16) {
    let out = Command::new(peer("curl"))
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10"])
        .args(args)
        .output()
        .unwrap();
    let code = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0);
    (out.status.code().unwrap_or(-1), code)
}

#[test]
fn tls_client_certs_and_basic_auth() {
    let d = tempfile::tempdir().unwrap();
    make_pki(d.path());
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    let web = d.path().join("web.yml");
    // Relative paths resolve against the web config's directory, as in exporter-toolkit.
    std::fs::write(&web, format!(
        "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.pem\n\
         http_server_config:\n  headers:\n    X-Frame-Options: deny\n\
         basic_auth_users:\n  prometheus: '{hash}'\n")).unwrap();
    let (_p, base) = {
        let (p, listen) = Proc::start_listening(
            &ours(),
            &["--web.listen-address", "127.0.0.1:0", "--web.config.file", web.to_str().unwrap()],
            &d.path().join("log"),
        );
        (p, format!("https://{listen}"))
    };
    let url = format!("{base}/metrics");
    let ca = d.path().join("ca.pem");
    let ca = ca.to_str().unwrap();
    wait_for("the TLS listener", Duration::from_secs(10), || {
        (curl(&["--cacert", ca, &url]).1 != 0).then_some(())
    });
    assert_eq!(curl(&["--cacert", ca, &url]).1, 401, "no credentials");
    assert_eq!(curl(&["--cacert", ca, "-u", "prometheus:wrong", &url]).1, 401, "wrong password");
    assert_eq!(curl(&["--cacert", ca, "-u", "nobody:s3cret", &url]).1, 401, "unknown user");
    assert_eq!(curl(&["--cacert", ca, "-u", "prometheus:s3cret", &url]).1, 200, "right password");
    assert_eq!(curl(&["--cacert", ca, "-u", "prometheus:s3cret", &url]).1, 200, "cached check");
    let cert = d.path().join("client.pem");
    let key = d.path().join("client.key");
    assert_eq!(
        curl(&[
            "--cacert",
            ca,
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "-u",
            "prometheus:s3cret",
            &url
        ])
        .1,
        200,
        "with a client cert signed by the CA"
    );
    // Plain HTTP on a TLS port is refused, and the server cert is not trusted without the CA.
    assert_ne!(curl(&[&url.replace("https", "http")]).1, 200);
    assert_eq!(curl(&[&url]).1, 0, "untrusted server cert must fail the handshake");
    // Extra headers from http_server_config.
    let out = Command::new(peer("curl"))
        .args(["-s", "-D", "-", "-o", "/dev/null", "--cacert", ca, "-u", "prometheus:s3cret", &url])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).to_ascii_lowercase().contains("x-frame-options: deny")
    );
}

#[test]
fn required_client_cert_is_enforced() {
    let d = tempfile::tempdir().unwrap();
    make_pki(d.path());
    let web = d.path().join("web.yml");
    std::fs::write(&web, "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  \
        client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n  min_version: TLS13\n").unwrap();
    let (_p, listen) = Proc::start_listening(
        &ours(),
        &["--web.listen-address", "127.0.0.1:0", "--web.config.file", web.to_str().unwrap()],
        &d.path().join("log"),
    );
    let url = format!("https://{listen}/-/healthy");
    let ca = d.path().join("ca.pem");
    let (cert, key) = (d.path().join("client.pem"), d.path().join("client.key"));
    let with_cert = [
        "--cacert",
        ca.to_str().unwrap(),
        "--cert",
        cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        &url,
    ];
    wait_for("the mTLS listener to serve", Duration::from_secs(10), || {
        (curl(&with_cert).1 == 200).then_some(())
    });
    assert_eq!(
        curl(&["--cacert", ca.to_str().unwrap(), &url]).1,
        0,
        "no client cert: handshake must fail"
    );
    assert_eq!(
        curl(&[
            "--tls-max",
            "1.2",
            "--cacert",
            ca.to_str().unwrap(),
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            &url
        ])
        .1,
        0,
        "TLS 1.2 refused by min_version"
    );
}
