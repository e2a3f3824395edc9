//! Grouping recorded requests into weighted request shapes.
//!
//! - **Distinct**: one shape per method and exact URL (path and query), weighted by count.
//! - **Shapes**: numeric ids and UUIDs in the path are generalized, so `GET /cart/17` and
//!   `GET /cart/9021` are one shape `GET /cart/{id}` whose path is
//!   `/cart/{{random_int(17,9021)}}`; UUIDs become `{{uuid}}`. The key is the method, the
//!   path pattern and the set of query keys; numeric and UUID query values are generalized the
//!   same way. The first request of a group gives the headers and the body; header values
//!   that are a UUID (request ids, idempotency keys) become `{{uuid}}`.

use super::normalize::Request;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One weighted shape, ready for the scenario file.
#[derive(Debug, Clone)]
pub struct Shape<'a> {
    pub name: String,
    pub weight: u64,
    /// Path and query, possibly templated.
    pub path: String,
    /// Header values that replace the representative's (templated ones).
    pub headers: BTreeMap<String, String>,
    /// The group's first request: method and body.
    pub first: &'a Request,
}

/// A path segment or query value, classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Number(i64),
    Uuid,
    Other,
}

fn classify(text: &str) -> Token {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if digits && text.len() <= 18 && (text == "0" || !text.starts_with('0')) {
        return text.parse().map_or(Token::Other, Token::Number);
    }
    if is_uuid(text) {
        return Token::Uuid;
    }
    Token::Other
}

/// `8-4-4-4-12` hexadecimal digits, any case.
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// What the values seen at one place (a path segment, a query key) have in common.
#[derive(Debug, Clone, Copy)]
enum Values {
    Numbers { min: i64, max: i64 },
    Uuids,
    Mixed,
}

impl Values {
    fn of(token: Token) -> Values {
        match token {
            Token::Number(n) => Values::Numbers { min: n, max: n },
            Token::Uuid => Values::Uuids,
            Token::Other => Values::Mixed,
        }
    }

    fn add(self, token: Token) -> Values {
        match (self, token) {
            (Values::Numbers { min, max }, Token::Number(n)) => Values::Numbers {
                min: min.min(n),
                max: max.max(n),
            },
            (Values::Uuids, Token::Uuid) => Values::Uuids,
            _ => Values::Mixed,
        }
    }

    /// The template for these values, or `literal` when they do not vary.
    fn template(self, literal: &str) -> String {
        match self {
            Values::Numbers { min, max } if min < max => format!("{{{{random_int({min},{max})}}}}"),
            Values::Uuids => "{{uuid}}".into(),
            _ => literal.to_string(),
        }
    }
}

/// One shape per method and exact path and query, in order of first appearance.
pub fn distinct(requests: &[Request]) -> Vec<Shape<'_>> {
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut shapes: Vec<Shape> = Vec::new();
    for request in requests {
        let path = path_and_query(request);
        let key = (request.method.to_string(), path.clone());
        match index.get(&key) {
            Some(&i) => shapes[i].weight += 1,
            None => {
                index.insert(key, shapes.len());
                shapes.push(Shape {
                    name: format!("{} {path}", request.method),
                    weight: 1,
                    path,
                    headers: request.headers.clone(),
                    first: request,
                });
            }
        }
    }
    shapes
}

/// The name of the shape `request` belongs to: `GET /cart/{id}?page&q`.
pub fn shape_name(request: &Request) -> String {
    let pattern: Vec<&str> = request
        .path
        .split('/')
        .map(|segment| match classify(segment) {
            Token::Number(_) => "{id}",
            Token::Uuid => "{uuid}",
            Token::Other => segment,
        })
        .collect();
    let keys = query_keys(request);
    let mut name = format!("{} {}", request.method, pattern.join("/"));
    if !keys.is_empty() {
        name.push('?');
        name.push_str(&keys.into_iter().collect::<Vec<_>>().join("&"));
    }
    name
}

/// A group of requests with the same shape name.
struct Group<'a> {
    first: &'a Request,
    count: u64,
    segments: Vec<Values>,
    query: BTreeMap<String, Values>,
}

/// Groups `requests` into generalized shapes, in order of first appearance.
pub fn generalized(requests: &[Request]) -> Vec<Shape<'_>> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<(String, Group)> = Vec::new();
    for request in requests {
        let name = shape_name(request);
        let i = *index.entry(name.clone()).or_insert_with(|| {
            groups.push((name, Group::new(request)));
            groups.len() - 1
        });
        groups[i].1.add(request);
    }
    groups
        .into_iter()
        .map(|(name, group)| group.into_shape(name))
        .collect()
}

impl<'a> Group<'a> {
    fn new(first: &'a Request) -> Group<'a> {
        Group {
            first,
            count: 0,
            segments: Vec::new(),
            query: BTreeMap::new(),
        }
    }

    fn add(&mut self, request: &Request) {
        let segments = request.path.split('/').map(classify);
        if self.count == 0 {
            self.segments = segments.map(Values::of).collect();
        } else {
            for (values, token) in self.segments.iter_mut().zip(segments) {
                *values = values.add(token);
            }
        }
        for (key, value) in query_pairs(request) {
            let token = classify(value);
            self.query
                .entry(key.to_string())
                .and_modify(|values| *values = values.add(token))
                .or_insert(Values::of(token));
        }
        self.count += 1;
    }

    fn into_shape(self, name: String) -> Shape<'a> {
        let segments: Vec<String> = self
            .first
            .path
            .split('/')
            .zip(&self.segments)
            .map(|(literal, values)| values.template(literal))
            .collect();
        let mut path = segments.join("/");
        if let Some(query) = &self.first.query {
            path.push('?');
            path.push_str(&self.templated_query(query));
        }
        let headers = self
            .first
            .headers
            .iter()
            .map(|(name, value)| {
                let value = if is_uuid(value) {
                    "{{uuid}}".into()
                } else {
                    value.clone()
                };
                (name.clone(), value)
            })
            .collect();
        Shape {
            name,
            weight: self.count,
            path,
            headers,
            first: self.first,
        }
    }

    /// The first request's query with each generalized value replaced by its template.
    fn templated_query(&self, query: &str) -> String {
        let pieces: Vec<String> = query
            .split('&')
            .map(|piece| match piece.split_once('=') {
                Some((key, value)) => {
                    let values = self.query.get(key).copied().unwrap_or(Values::Mixed);
                    format!("{key}={}", values.template(value))
                }
                None => piece.to_string(),
            })
            .collect();
        pieces.join("&")
    }
}

/// The `key=value` pairs of the request's query, in order.
fn query_pairs(request: &Request) -> impl Iterator<Item = (&str, &str)> {
    request
        .query
        .as_deref()
        .unwrap_or_default()
        .split('&')
        .filter_map(|piece| piece.split_once('='))
}

/// The distinct keys of the request's query, sorted.
fn query_keys(request: &Request) -> BTreeSet<&str> {
    request
        .query
        .as_deref()
        .unwrap_or_default()
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| piece.split_once('=').map_or(piece, |(key, _)| key))
        .collect()
}

/// Path and query as recorded.
pub fn path_and_query(request: &Request) -> String {
    match &request.query {
        Some(query) => format!("{}?{query}", request.path),
        None => request.path.clone(),
    }
}

#[cfg(test)]
#[path = "shapes_tests.rs"]
mod tests;
