#[test]
fn dump() {
    let doc = gittix_payments::openapi();
    let path = std::env::var("DUMP_TO").unwrap();
    std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
}
