//! Requests ready to send: shapes turned into bytes once, so that the send path only appends
//! the sequence number (and renders templates where a shape has any).

use crate::scenario::{Body, RenderContext, RequestShape, Target, Template};
use bytes::Bytes;
use http_body_util::Full;

/// The tag every request carries: `name: value`.
#[derive(Debug, Clone)]
pub struct Tag {
    pub header: http::HeaderName,
    pub value: http::HeaderValue,
}

/// Header that carries the slot's sequence number.
pub const SEQ_HEADER: &str = "x-verifier-seq";

/// One request shape, pre-encoded.
#[derive(Debug)]
pub struct PreparedShape {
    pub name: String,
    pub method: http::Method,
    /// Request line and headers up to (not including) the sequence header, when nothing in
    /// them is templated.
    static_head: Option<Bytes>,
    /// The body when it is not templated.
    static_body: Option<Bytes>,
    shape: RequestShape,
    base_path: String,
    authority: String,
    tag: Tag,
}

impl PreparedShape {
    /// Prepares `shape` for `target`, tagged with `tag`.
    pub fn new(shape: &RequestShape, target: &Target, tag: &Tag) -> PreparedShape {
        let head_is_static =
            shape.path.is_static() && shape.headers.iter().all(|(_, v)| v.is_static());
        let mut prepared = PreparedShape {
            name: shape.name.clone(),
            method: shape.method.clone(),
            static_head: None,
            static_body: match &shape.body {
                Body::Empty => Some(Bytes::new()),
                Body::Static(bytes) => Some(bytes.clone()),
                Body::Template(_) => None,
            },
            shape: shape.clone(),
            base_path: target.base_path.clone(),
            authority: target.authority.clone(),
            tag: tag.clone(),
        };
        if head_is_static {
            let mut head = Vec::new();
            let mut unused = RenderContext {
                seq: 0,
                rng: rand::SeedableRng::seed_from_u64(0),
            };
            prepared.write_head(&mut head, &mut unused);
            prepared.static_head = Some(Bytes::from(head));
        }
        prepared
    }

    /// True for HEAD requests, whose responses have no body whatever their headers say.
    pub fn is_head(&self) -> bool {
        self.method == http::Method::HEAD
    }

    /// Appends the HTTP/1.1 encoding of this shape for slot `seq` to `out`.
    pub fn encode_http1(&self, seq: u64, ctx: &mut RenderContext, out: &mut Vec<u8>) {
        match &self.static_head {
            Some(head) => out.extend_from_slice(head),
            None => self.write_head(out, ctx),
        }
        out.extend_from_slice(SEQ_HEADER.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(itoa::Buffer::new().format(seq).as_bytes());
        out.extend_from_slice(b"\r\n");
        let body = self.body(ctx);
        if !body.is_empty() || self.method == http::Method::POST || self.method == http::Method::PUT
        {
            out.extend_from_slice(b"content-length: ");
            out.extend_from_slice(itoa::Buffer::new().format(body.len()).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&body);
    }

    /// Builds the request for slot `seq` for hyper (HTTP/2).
    ///
    /// # Errors
    /// When a rendered template is not a valid URI or header value.
    pub fn to_hyper(
        &self,
        seq: u64,
        scheme: &str,
        ctx: &mut RenderContext,
    ) -> Result<http::Request<Full<Bytes>>, http::Error> {
        let mut path = self.base_path.as_bytes().to_vec();
        self.shape.path.render_into(&mut path, ctx);
        let uri = format!(
            "{scheme}://{}{}",
            self.authority,
            String::from_utf8_lossy(&path)
        );
        let mut builder = http::Request::builder()
            .method(self.method.clone())
            .uri(uri);
        for (name, value) in &self.shape.headers {
            builder = builder.header(name, render(value, ctx));
        }
        builder = builder
            .header(&self.tag.header, &self.tag.value)
            .header(SEQ_HEADER, seq);
        builder.body(Full::new(self.body(ctx)))
    }

    fn body(&self, ctx: &mut RenderContext) -> Bytes {
        match (&self.static_body, &self.shape.body) {
            (Some(bytes), _) => bytes.clone(),
            (None, Body::Template(template)) => Bytes::from(render(template, ctx)),
            (None, _) => Bytes::new(),
        }
    }

    fn write_head(&self, out: &mut Vec<u8>, ctx: &mut RenderContext) {
        out.extend_from_slice(self.method.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.base_path.as_bytes());
        self.shape.path.render_into(out, ctx);
        out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
        out.extend_from_slice(self.authority.as_bytes());
        out.extend_from_slice(b"\r\n");
        for (name, value) in &self.shape.headers {
            if name == http::header::HOST || name == http::header::CONTENT_LENGTH {
                continue;
            }
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            let start = out.len();
            value.render_into(out, ctx);
            // A rendered value never carries a line break into the request.
            out[start..]
                .iter_mut()
                .filter(|b| **b == b'\r' || **b == b'\n')
                .for_each(|b| *b = b' ');
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(self.tag.header.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(self.tag.value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

fn render(template: &Template, ctx: &mut RenderContext) -> Vec<u8> {
    let mut out = Vec::new();
    template.render_into(&mut out, ctx);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Context, Scenario};
    use rand::SeedableRng;

    fn tag() -> Tag {
        Tag {
            header: http::HeaderName::from_static("x-verifier-run"),
            value: http::HeaderValue::from_static("k1"),
        }
    }

    fn ctx(seq: u64) -> RenderContext {
        RenderContext {
            seq,
            rng: rand_pcg::Pcg64Mcg::seed_from_u64(seq),
        }
    }

    #[test]
    fn static_get_is_encoded_with_tag_and_seq() {
        let target = Target::parse("http://127.0.0.1:9/api").unwrap();
        let scenario = Scenario::from_url(
            Target::parse("http://127.0.0.1:9/x").unwrap(),
            http::Method::GET,
            vec![],
        );
        let shape = PreparedShape::new(&scenario.requests[0], &target, &tag());
        let mut out = Vec::new();
        shape.encode_http1(7, &mut ctx(7), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "GET /api/x HTTP/1.1\r\nhost: 127.0.0.1:9\r\nx-verifier-run: k1\r\nx-verifier-seq: 7\r\n\r\n"
        );
    }

    #[test]
    fn templated_post_renders_per_request() {
        let target = Target::parse("http://h:1").unwrap();
        let shape = RequestShape {
            name: "checkout".into(),
            weight: 1,
            method: http::Method::POST,
            path: Template::parse("/c/{{seq}}", Context::Path).unwrap(),
            headers: vec![(
                http::HeaderName::from_static("x-id"),
                Template::parse("{{seq}}", Context::Header).unwrap(),
            )],
            body: Body::Template(
                Template::parse("{\"cart\":\"{{seq}}\"}", Context::JsonString).unwrap(),
            ),
        };
        let prepared = PreparedShape::new(&shape, &target, &tag());
        let mut out = Vec::new();
        prepared.encode_http1(12, &mut ctx(12), &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("POST /c/12 HTTP/1.1\r\n"), "{text}");
        assert!(text.contains("x-id: 12\r\n"));
        assert!(
            text.ends_with("content-length: 13\r\n\r\n{\"cart\":\"12\"}"),
            "{text}"
        );
        let request = prepared.to_hyper(12, "http", &mut ctx(12)).unwrap();
        assert_eq!(request.uri(), "http://h:1/c/12");
        assert_eq!(request.headers()["x-verifier-seq"], "12");
        assert_eq!(request.headers()["x-verifier-run"], "k1");
    }
}
