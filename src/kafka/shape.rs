//! A Kafka message shape: key, value and headers as templates, with a weight, rendered from
//! the plan's per-slot RNG so that every arm gets the same messages in the same order.

use crate::scenario::{Context, KafkaScenario, RenderContext, Template};

/// One message shape.
#[derive(Debug, Clone)]
pub struct MessageShape {
    pub name: String,
    pub weight: u32,
    pub key: Option<Template>,
    pub value: Template,
    pub headers: Vec<(String, Template)>,
}

/// A rendered message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Message {
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl MessageShape {
    /// A shape from template texts.
    ///
    /// # Errors
    /// The template's parse error, naming the part.
    pub fn parse(
        name: &str,
        key: Option<&str>,
        value: &str,
        headers: &[(String, String)],
    ) -> Result<MessageShape, String> {
        let key = key
            .map(|k| Template::parse(k, Context::Text).map_err(|e| format!("key: {e}")))
            .transpose()?;
        let value = Template::parse(value, Context::Text).map_err(|e| format!("value: {e}"))?;
        let headers = headers
            .iter()
            .map(|(n, v)| {
                let t =
                    Template::parse(v, Context::Header).map_err(|e| format!("header {n}: {e}"))?;
                Ok((n.to_ascii_lowercase(), t))
            })
            .collect::<Result<_, String>>()?;
        Ok(MessageShape {
            name: name.into(),
            weight: 1,
            key,
            value,
            headers,
        })
    }

    /// The weighted shapes of a Kafka scenario's `messages`.
    ///
    /// # Errors
    /// A template's parse error, naming the message and the part.
    pub fn from_scenario(kafka: &KafkaScenario) -> Result<Vec<MessageShape>, String> {
        kafka
            .messages
            .iter()
            .map(|m| {
                let mut shape =
                    MessageShape::parse(&m.name, m.key.as_deref(), &m.value, &m.headers)
                        .map_err(|e| format!("message '{}': {e}", m.name))?;
                shape.weight = m.weight;
                Ok(shape)
            })
            .collect()
    }

    /// Renders the shape for one slot.
    pub fn render(&self, ctx: &mut RenderContext) -> Message {
        let mut value = Vec::new();
        self.value.render_into(&mut value, ctx);
        let key = self.key.as_ref().map(|k| {
            let mut out = Vec::new();
            k.render_into(&mut out, ctx);
            out
        });
        let headers = self
            .headers
            .iter()
            .map(|(n, t)| {
                let mut out = Vec::new();
                t.render_into(&mut out, ctx);
                (n.clone(), out)
            })
            .collect();
        Message {
            key,
            value,
            headers,
        }
    }
}
