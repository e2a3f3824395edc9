//! Request templates: `{{seq}}`, `{{uuid}}`, `{{random_int(a,b)}}`, `{{choice('a','b')}}`.
//!
//! A template is parsed once into literal parts and expressions. Rendering draws from a
//! per-request RNG that the plan seeds from (scenario seed, sequence number), so the same seed
//! yields the same requests for every arm, whatever the shard that sends them.

use super::TemplateError;
use rand::Rng;
use rand_pcg::Pcg64Mcg;

/// Where a template is rendered; decides how generated values are escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// A URL path and query: characters outside the URL grammar are percent-encoded.
    Path,
    /// A header value: generated values may not contain control characters.
    Header,
    /// Plain body text: values are inserted as they are.
    Text,
    /// Inside a JSON string literal: values are JSON-escaped.
    JsonString,
}

/// One generated value.
#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Seq,
    Uuid,
    RandomInt(i64, i64),
    Choice(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(Vec<u8>),
    Expr(Expr),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
    context: Context,
}

/// The state one request is rendered with.
pub struct RenderContext {
    /// The request's sequence number in the plan.
    pub seq: u64,
    /// The request's own RNG.
    pub rng: Pcg64Mcg,
}

impl Template {
    /// Parses `text`, whose generated values will be escaped for `context`.
    ///
    /// # Errors
    /// A message that quotes the offending expression and lists the supported ones.
    pub fn parse(text: &str, context: Context) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Literal(rest.as_bytes()[..open].to_vec()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| TemplateError::Unclosed(text.to_string()))?;
            parts.push(Part::Expr(parse_expr(after[..close].trim(), context)?));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.as_bytes().to_vec()));
        }
        Ok(Template { parts, context })
    }

    /// True when the template has no expression: it renders to the same bytes every time.
    pub fn is_static(&self) -> bool {
        self.parts
            .iter()
            .all(|part| matches!(part, Part::Literal(_)))
    }

    /// The literal text of a static template (the whole text when [`Self::is_static`]).
    pub fn literal(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for part in &self.parts {
            if let Part::Literal(bytes) = part {
                out.extend_from_slice(bytes);
            }
        }
        out
    }

    /// Appends the rendered template to `out`.
    pub fn render_into(&self, out: &mut Vec<u8>, ctx: &mut RenderContext) {
        for part in &self.parts {
            match part {
                Part::Literal(bytes) => out.extend_from_slice(bytes),
                Part::Expr(expr) => self.render_expr(expr, out, ctx),
            }
        }
    }

    fn render_expr(&self, expr: &Expr, out: &mut Vec<u8>, ctx: &mut RenderContext) {
        match expr {
            Expr::Seq => out.extend_from_slice(itoa::Buffer::new().format(ctx.seq).as_bytes()),
            Expr::Uuid => {
                let uuid = uuid::Builder::from_random_bytes(ctx.rng.random()).into_uuid();
                out.extend_from_slice(
                    uuid.hyphenated()
                        .encode_lower(&mut uuid::Uuid::encode_buffer())
                        .as_bytes(),
                );
            }
            Expr::RandomInt(low, high) => {
                let value = ctx.rng.random_range(*low..=*high);
                out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
            }
            Expr::Choice(options) => {
                let chosen = &options[ctx.rng.random_range(0..options.len())];
                escape_into(chosen, self.context, out);
            }
        }
    }
}

fn escape_into(value: &str, context: Context, out: &mut Vec<u8>) {
    match context {
        Context::Path => {
            for &byte in value.as_bytes() {
                if byte.is_ascii_graphic() && !b"\"<>`#{}|\\^".contains(&byte) {
                    out.push(byte);
                } else {
                    out.extend_from_slice(format!("%{byte:02X}").as_bytes());
                }
            }
        }
        Context::Header | Context::Text => out.extend_from_slice(value.as_bytes()),
        Context::JsonString => {
            let quoted = serde_json::Value::String(value.to_string()).to_string();
            out.extend_from_slice(&quoted.as_bytes()[1..quoted.len() - 1]);
        }
    }
}

fn parse_expr(expr: &str, context: Context) -> Result<Expr, TemplateError> {
    match expr {
        "seq" => return Ok(Expr::Seq),
        "uuid" => return Ok(Expr::Uuid),
        _ => {}
    }
    let (name, args) = expr
        .strip_suffix(')')
        .and_then(|e| e.split_once('('))
        .ok_or_else(|| TemplateError::Unknown(expr.to_string()))?;
    match name.trim() {
        "random_int" => parse_random_int(expr, args),
        "choice" => parse_choice(expr, args, context),
        _ => Err(TemplateError::UnknownFunction {
            name: name.trim().to_string(),
            expr: expr.to_string(),
        }),
    }
}

fn parse_random_int(expr: &str, args: &str) -> Result<Expr, TemplateError> {
    let bounds: Vec<Result<i64, _>> = args.split(',').map(|a| a.trim().parse::<i64>()).collect();
    match bounds.as_slice() {
        [Ok(low), Ok(high)] if low <= high => Ok(Expr::RandomInt(*low, *high)),
        [Ok(low), Ok(high)] => Err(TemplateError::BoundsReversed {
            expr: expr.to_string(),
            low: *low,
            high: *high,
        }),
        _ => Err(TemplateError::NotTwoIntegers(expr.to_string())),
    }
}

fn parse_choice(expr: &str, args: &str, context: Context) -> Result<Expr, TemplateError> {
    let mut options = Vec::new();
    let mut rest = args.trim();
    while !rest.is_empty() {
        let quote = rest
            .chars()
            .next()
            .filter(|c| *c == '\'' || *c == '"')
            .ok_or_else(|| TemplateError::Unquoted(expr.to_string()))?;
        let end = rest[1..]
            .find(quote)
            .ok_or_else(|| TemplateError::UnclosedQuote(expr.to_string()))?;
        let option = &rest[1..1 + end];
        if context == Context::Header && option.chars().any(char::is_control) {
            return Err(TemplateError::ControlCharacter(expr.to_string()));
        }
        options.push(option.to_string());
        rest = rest[end + 2..].trim_start();
        rest = rest.strip_prefix(',').map_or(rest, str::trim_start);
    }
    if options.is_empty() {
        return Err(TemplateError::NoOption(expr.to_string()));
    }
    Ok(Expr::Choice(options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn render(template: &str, context: Context, seq: u64, seed: u64) -> String {
        let template = Template::parse(template, context).unwrap();
        let mut ctx = RenderContext {
            seq,
            rng: Pcg64Mcg::seed_from_u64(seed),
        };
        let mut out = Vec::new();
        template.render_into(&mut out, &mut ctx);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn literals_stay_static() {
        let template = Template::parse("/cart/42", Context::Path).unwrap();
        assert!(template.is_static());
        assert_eq!(template.literal(), b"/cart/42");
    }

    #[test]
    fn every_expression_renders() {
        assert_eq!(render("/cart/{{seq}}", Context::Path, 17, 1), "/cart/17");
        let value: i64 = render("{{ random_int(1, 5) }}", Context::Text, 0, 1)
            .parse()
            .unwrap();
        assert!((1..=5).contains(&value));
        let uuid = render("{{uuid}}", Context::Text, 0, 1);
        assert_eq!(uuid::Uuid::parse_str(&uuid).unwrap().get_version_num(), 4);
        assert!(
            ["a", "b"].contains(&render("{{choice('a', \"b\")}}", Context::Text, 0, 3).as_str())
        );
    }

    #[test]
    fn same_seed_same_output() {
        let text = "{{uuid}}/{{random_int(1,1000000)}}/{{choice('x','y','z')}}";
        assert_eq!(
            render(text, Context::Text, 5, 99),
            render(text, Context::Text, 5, 99)
        );
        assert_ne!(
            render(text, Context::Text, 5, 99),
            render(text, Context::Text, 5, 100)
        );
    }

    #[test]
    fn values_are_escaped_for_their_context() {
        assert_eq!(
            render("/q/{{choice('a b')}}", Context::Path, 0, 1),
            "/q/a%20b"
        );
        assert_eq!(
            render("{{choice('say \"hi\"')}}", Context::JsonString, 0, 1),
            "say \\\"hi\\\""
        );
    }

    #[test]
    fn bad_templates_name_the_problem() {
        assert!(
            Template::parse("{{seq", Context::Path)
                .unwrap_err()
                .to_string()
                .contains("unclosed")
        );
        assert!(
            Template::parse("{{now}}", Context::Path)
                .unwrap_err()
                .to_string()
                .contains("unknown template")
        );
        assert!(
            Template::parse("{{random_int(5,1)}}", Context::Path)
                .unwrap_err()
                .to_string()
                .contains("above")
        );
        assert!(
            Template::parse("{{random_int(a,1)}}", Context::Path)
                .unwrap_err()
                .to_string()
                .contains("two integers")
        );
        assert!(
            Template::parse("{{choice(a)}}", Context::Path)
                .unwrap_err()
                .to_string()
                .contains("quote")
        );
        assert!(
            Template::parse("{{choice()}}", Context::Path)
                .unwrap_err()
                .to_string()
                .contains("at least one")
        );
        assert!(
            Template::parse("{{lower(x)}}", Context::Path)
                .unwrap_err()
                .to_string()
                .contains("'lower'")
        );
    }
}
