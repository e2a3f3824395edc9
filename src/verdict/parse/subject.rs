//! The subject of an expression: the metric, its `{name=…}` filter and the operator.

use super::Parser;
use crate::verdict::expr::{Direction, ExprError, Metric, Op, Percentile};
use crate::verdict::values::{KNOWN_METRICS, half, percentile};

impl Parser {
    /// The metric and its optional `{name=…}` filter.
    pub(super) fn subject(&mut self) -> Result<(Metric, Option<String>), ExprError> {
        let metric = self.metric()?;
        let name = self.filter(&metric)?;
        Ok((metric, name))
    }

    fn metric(&mut self) -> Result<Metric, ExprError> {
        let (word, at) = self.word();
        if word.is_empty() {
            let message = format!("expected a metric: {KNOWN_METRICS}");
            return Err(self.error_at(at, self.token_width(), &message));
        }
        let width = word.chars().count();
        let lower = word.to_ascii_lowercase();
        match lower.as_str() {
            "p" if self.peek() == Some('(') => self.parenthesized_percentile(),
            "med" | "median" => Ok(Metric::Quantile(Percentile { level: half() })),
            "mean" | "avg" => Ok(Metric::Mean),
            "error_rate" => Ok(Metric::ErrorRate),
            "throughput" => Ok(Metric::Throughput),
            "lag" => Ok(Metric::Lag),
            "drain_time" => Ok(Metric::DrainTime),
            "consume_rate" => Ok(Metric::ConsumeRate),
            "min" | "max" => Err(self.error_at(at, width, &format!("{lower} cannot be bounded with confidence from a sample: use a high percentile such as p(99.9)"))),
            "rate" => Err(self.error_at(at, width, "ambiguous metric 'rate': write error_rate or throughput")),
            _ if lower.starts_with('p') && lower.len() > 1 => percentile(&lower[1..]).map_err(|m| self.error_at(at, width, &m)),
            _ => Err(self.error_at(at, width, &format!("unknown metric '{word}': expected one of {KNOWN_METRICS}"))),
        }
    }

    fn parenthesized_percentile(&mut self) -> Result<Metric, ExprError> {
        self.pos += 1; // '('
        let (digits, at) = self.word();
        let metric =
            percentile(&digits).map_err(|m| self.error_at(at, digits.chars().count(), &m))?;
        if !self.eat(')') {
            return Err(self.error_at(self.pos, 1, "expected ')' after the percentile"));
        }
        Ok(metric)
    }

    fn filter(&mut self, metric: &Metric) -> Result<Option<String>, ExprError> {
        let open = {
            self.skip_ws();
            self.pos
        };
        if !self.eat('{') {
            return Ok(None);
        }
        if !matches!(
            metric,
            Metric::Quantile(_) | Metric::Mean | Metric::ErrorRate
        ) {
            let message = format!("{} cannot be filtered by request name", metric.name());
            return Err(self.error_at(open, 1, &message));
        }
        let (key, at) = self.word();
        if key != "name" {
            return Err(self.error_at(
                at,
                key.chars().count(),
                "only request names can be selected: write {name=checkout}",
            ));
        }
        if !self.eat('=') && !self.eat(':') {
            return Err(self.error_at(self.pos, 1, "expected '=' after name"));
        }
        self.skip_ws();
        let start = self.pos;
        while self.peek().is_some_and(|c| c != '}') {
            self.pos += 1;
        }
        if self.peek() != Some('}') {
            return Err(self.error_at(
                open,
                self.pos - open,
                "the filter is not closed: expected '}'",
            ));
        }
        let raw: String = self.chars[start..self.pos].iter().collect();
        let name = raw
            .trim()
            .trim_matches(|c| c == '"' || c == '\'')
            .to_string();
        if name.is_empty() {
            return Err(self.error_at(start, 1, "expected a request name before '}'"));
        }
        self.pos += 1;
        Ok(Some(name))
    }

    /// The comparison operator, checked against the metric's direction.
    pub(super) fn op(&mut self, metric: &Metric) -> Result<Op, ExprError> {
        self.skip_ws();
        let at = self.pos;
        let symbol: String = self.chars[at..]
            .iter()
            .take_while(|c| "<>=!".contains(**c))
            .collect();
        self.pos += symbol.chars().count();
        let op = match symbol.as_str() {
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "" => {
                return Err(self.error_at(
                    at,
                    self.token_width(),
                    "expected a comparison: <, <=, > or >=",
                ));
            }
            "=" | "==" | "===" | "!=" => {
                return Err(self.error_at(
                    at,
                    symbol.len(),
                    "equality cannot be shown with confidence: use <, <=, > or >=",
                ));
            }
            _ => {
                return Err(self.error_at(
                    at,
                    symbol.len(),
                    &format!("unknown operator '{symbol}': use <, <=, > or >="),
                ));
            }
        };
        let upward = matches!(op, Op::Lt | Op::Le);
        match (metric.direction(), upward) {
            (Direction::HigherIsWorse, false) => Err(self.error_at(
                at,
                symbol.len(),
                &format!("{} is bounded from above: use < or <=", metric.name()),
            )),
            (Direction::LowerIsWorse, true) => Err(self.error_at(
                at,
                symbol.len(),
                &format!("{} is bounded from below: use > or >=", metric.name()),
            )),
            _ => Ok(op),
        }
    }
}
