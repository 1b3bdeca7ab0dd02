//! Serving a service on a free port, and reading what an answer sets.

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

/// An app listening on a free loopback port for the rest of the test.
pub struct TestServer {
    pub address: SocketAddr,
}

impl TestServer {
    pub async fn spawn(app: Router) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding port 0");
        let address = listener.local_addr().expect("local address");
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("test server failed");
        });
        Self { address }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }
}

/// The `name=value` pair of the session cookie a response sets, if any.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    set_cookie_headers(response)
        .into_iter()
        .find(|c| c.starts_with(&format!("{}=", gittix_shared::session::SESSION_COOKIE)))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
}

/// Every `Set-Cookie` header of a response, whole.
pub fn set_cookie_headers(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}
