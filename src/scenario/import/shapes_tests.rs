use super::*;

fn request(method: &str, url: &str) -> Request {
    let (path, query) = match url.split_once('?') {
        Some((path, query)) => (path, Some(query.to_string())),
        None => (url, None),
    };
    Request {
        method: method.parse().unwrap(),
        origin: None,
        host: None,
        authority: None,
        path: path.into(),
        query,
        headers: BTreeMap::new(),
        body: None,
        time_us: None,
        at: String::new(),
    }
}

fn summary(shapes: &[Shape<'_>]) -> Vec<(String, u64, String)> {
    shapes
        .iter()
        .map(|s| (s.name.clone(), s.weight, s.path.clone()))
        .collect()
}

fn owned(list: &[(&str, u64, &str)]) -> Vec<(String, u64, String)> {
    list.iter()
        .map(|(n, w, p)| (n.to_string(), *w, p.to_string()))
        .collect()
}

#[test]
fn classifies_ids() {
    assert_eq!(classify("42"), Token::Number(42));
    assert_eq!(classify("0"), Token::Number(0));
    assert_eq!(classify("007"), Token::Other);
    assert_eq!(classify("1234567890123456789"), Token::Other);
    assert_eq!(classify("v2"), Token::Other);
    assert_eq!(
        classify("3f2b8c1e-9d4a-4c57-8e2f-0a1b2c3d4e5f"),
        Token::Uuid
    );
    assert_eq!(
        classify("3F2B8C1E-9D4A-4C57-8E2F-0A1B2C3D4E5F"),
        Token::Uuid
    );
    assert_eq!(
        classify("3f2b8c1e-9d4a-4c57-8e2f-0a1b2c3d4e5"),
        Token::Other
    );
    assert_eq!(classify("3f2b8c1e9d4a4c578e2f0a1b2c3d4e5f"), Token::Other);
    assert_eq!(classify(""), Token::Other);
}

#[test]
fn numeric_ids_become_a_range_and_uuids_a_uuid() {
    let requests = vec![
        request("GET", "/api/v1/carts/1042"),
        request("GET", "/api/v1/orders/3f2b8c1e-9d4a-4c57-8e2f-0a1b2c3d4e5f"),
        request("GET", "/api/v1/carts/87"),
        request("GET", "/api/v1/carts/1043"),
        request("POST", "/api/v1/carts/1042/items"),
        request("GET", "/api/v1/orders/9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"),
        request("GET", "/api/v1/carts/5/items/9"),
    ];
    assert_eq!(
        summary(&generalized(&requests)),
        owned(&[
            (
                "GET /api/v1/carts/{id}",
                3,
                "/api/v1/carts/{{random_int(87,1043)}}"
            ),
            ("GET /api/v1/orders/{uuid}", 2, "/api/v1/orders/{{uuid}}"),
            (
                "POST /api/v1/carts/{id}/items",
                1,
                "/api/v1/carts/1042/items"
            ),
            (
                "GET /api/v1/carts/{id}/items/{id}",
                1,
                "/api/v1/carts/5/items/9"
            ),
        ])
    );
}

#[test]
fn query_keys_split_shapes_and_numeric_values_generalize() {
    let requests = vec![
        request("GET", "/search?q=shoes&page=1"),
        request("GET", "/search?page=3&q=boots"),
        request("GET", "/search?q=hats"),
        request("GET", "/search?q=socks&page=2&trace"),
        request("GET", "/search?q=x&id=3f2b8c1e-9d4a-4c57-8e2f-0a1b2c3d4e5f"),
        request("GET", "/search?q=y&id=9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"),
    ];
    assert_eq!(
        summary(&generalized(&requests)),
        owned(&[
            (
                "GET /search?page&q",
                2,
                "/search?q=shoes&page={{random_int(1,3)}}"
            ),
            ("GET /search?q", 1, "/search?q=hats"),
            (
                "GET /search?page&q&trace",
                1,
                "/search?q=socks&page=2&trace"
            ),
            ("GET /search?id&q", 2, "/search?q=x&id={{uuid}}"),
        ])
    );
}

#[test]
fn distinct_keeps_exact_urls() {
    let requests = vec![
        request("GET", "/cart/1"),
        request("GET", "/cart/2"),
        request("GET", "/cart/1"),
        request("DELETE", "/cart/1"),
        request("GET", "/cart/1?x=1"),
    ];
    assert_eq!(
        summary(&distinct(&requests)),
        owned(&[
            ("GET /cart/1", 2, "/cart/1"),
            ("GET /cart/2", 1, "/cart/2"),
            ("DELETE /cart/1", 1, "/cart/1"),
            ("GET /cart/1?x=1", 1, "/cart/1?x=1"),
        ])
    );
}

#[test]
fn the_first_request_represents_its_shape() {
    let mut first = request("POST", "/orders/1");
    first.headers.insert(
        "x-request-id".into(),
        "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d".into(),
    );
    first
        .headers
        .insert("accept".into(), "application/json".into());
    let mut second = request("POST", "/orders/2");
    second.headers.insert("accept".into(), "text/html".into());
    let requests = vec![first, second];
    let shapes = generalized(&requests);
    assert_eq!(shapes.len(), 1);
    assert_eq!(shapes[0].headers["x-request-id"], "{{uuid}}");
    assert_eq!(shapes[0].headers["accept"], "application/json");
    assert!(std::ptr::eq(shapes[0].first, &requests[0]));
}
