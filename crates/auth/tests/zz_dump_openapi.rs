#[test]
fn dump() {
    let path = std::env::var("DUMP_TO").unwrap();
    std::fs::write(path, serde_json::to_string_pretty(&gittix_auth::openapi()).unwrap()).unwrap();
}
