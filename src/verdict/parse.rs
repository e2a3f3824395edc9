//! Parser of the SLO and guard language ([`super::expr`]): a small recursive descent over the
//! characters of one expression. Every error carries the column of the offending part so that
//! it can be shown with a caret under it.

mod subject;

use super::expr::{Amount, Condition, ExprError, Guard, Metric, Slo, Threshold, Tolerance};
use super::units::{Decimal, Quantity, UnitError, split_unit};
use super::values::{amount_for, threshold_for};

/// Parses an SLO such as `p99 < 300ms` or `error_rate{name=checkout} < 1%`.
///
/// # Errors
/// [`ExprError`] pointing at the offending characters, also when the expression is a guard.
pub fn parse_slo(text: &str) -> Result<Slo, ExprError> {
    let mut p = Parser::new(text);
    let (metric, name) = p.subject()?;
    if matches!(metric, Metric::Lag) && p.keyword_ahead("drains") {
        p.word();
        p.end()?;
        let condition = Condition::Drains;
        return Ok(Slo {
            text: p.text(),
            metric,
            name,
            condition,
        });
    }
    let op = p.op(&metric)?;
    p.skip_ws();
    if p.keyword_ahead("baseline") {
        return Err(p.error_at(
            p.pos,
            8,
            "this compares with the baseline: pass it as --guard",
        ));
    }
    let threshold = p.threshold(&metric)?;
    p.end()?;
    let condition = Condition::Bound { op, threshold };
    Ok(Slo {
        text: p.text(),
        metric,
        name,
        condition,
    })
}

/// Parses a guard such as `p50 <= baseline + max(10%, 2ms)`.
///
/// # Errors
/// [`ExprError`] pointing at the offending characters, also when the expression is an SLO.
pub fn parse_guard(text: &str) -> Result<Guard, ExprError> {
    let mut p = Parser::new(text);
    let (metric, name) = p.subject()?;
    if metric == Metric::DrainTime {
        let message = "drain_time is projected from the lag's slope and is unbounded when the lag does not drain, so it has no difference to compare: bound it with an --slo such as `drain_time < 5m`, or guard `lag <= baseline`";
        return Err(p.error_at(0, "drain_time".len(), message));
    }
    let op = p.op(&metric)?;
    p.skip_ws();
    if !p.keyword_ahead("baseline") {
        let message = format!(
            "a guard compares with the baseline: write e.g. `{} {} baseline + 10%` (an absolute limit is an --slo)",
            metric.name(),
            op.symbol()
        );
        return Err(p.error_at(p.pos, p.token_width(), &message));
    }
    p.word();
    let tolerance = p.tolerance(&metric)?;
    p.end()?;
    Ok(Guard {
        text: p.text(),
        metric,
        name,
        op,
        tolerance,
    })
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn new(text: &str) -> Parser {
        Parser {
            chars: text.trim().chars().collect(),
            pos: 0,
        }
    }

    fn text(&self) -> String {
        self.chars.iter().collect()
    }

    fn error_at(&self, column: usize, width: usize, message: &str) -> ExprError {
        ExprError {
            expression: self.text(),
            column,
            width: width.max(1),
            message: message.to_string(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// Consumes `c` after optional spaces.
    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        let found = self.peek() == Some(c);
        if found {
            self.pos += 1;
        }
        found
    }

    /// Width of the token at the cursor (up to the next space), for carets.
    fn token_width(&self) -> usize {
        self.chars[self.pos.min(self.chars.len())..]
            .iter()
            .take_while(|c| !c.is_whitespace())
            .count()
    }

    /// Consumes a word of letters, digits, `_` and `.`, returning it and its column.
    fn word(&mut self) -> (String, usize) {
        self.skip_ws();
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
        {
            self.pos += 1;
        }
        (self.chars[start..self.pos].iter().collect(), start)
    }

    fn keyword_ahead(&mut self, keyword: &str) -> bool {
        let saved = self.pos;
        let (word, _) = self.word();
        self.pos = saved;
        word.eq_ignore_ascii_case(keyword)
    }

    fn end(&mut self) -> Result<(), ExprError> {
        self.skip_ws();
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error_at(
                self.pos,
                self.chars.len() - self.pos,
                "unexpected text after the expression",
            )),
        }
    }

    /// A number with its unit, and the column and width of the whole value.
    fn quantity(&mut self) -> Result<(Quantity, usize, usize), ExprError> {
        self.skip_ws();
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
            self.pos += 1;
        }
        let number: String = self.chars[start..self.pos].iter().collect();
        if number.is_empty() {
            return Err(self.error_at(start, self.token_width(), "expected a number"));
        }
        let decimal = Decimal::parse(&number).ok_or_else(|| {
            self.error_at(start, number.len(), &format!("'{number}' is not a number"))
        })?;
        let unit_start = {
            let saved = self.pos;
            self.skip_ws();
            if self
                .peek()
                .is_some_and(|c| c.is_alphabetic() || c == '%' || c == '/')
            {
                self.pos
            } else {
                saved
            }
        };
        self.pos = unit_start;
        while self
            .peek()
            .is_some_and(|c| c.is_alphabetic() || c == '%' || c == '/')
        {
            self.pos += 1;
        }
        let unit: String = self.chars[unit_start..self.pos].iter().collect();
        let quantity = split_unit(decimal, &unit).map_err(|e| match e {
            UnitError::Unknown(m) => self.error_at(unit_start, unit.chars().count(), &m),
            UnitError::Value(m) => self.error_at(start, self.pos - start, &m),
        })?;
        Ok((quantity, start, self.pos - start))
    }

    fn threshold(&mut self, metric: &Metric) -> Result<Threshold, ExprError> {
        let (quantity, at, width) = self.quantity()?;
        threshold_for(metric, quantity).map_err(|m| self.error_at(at, width, &m))
    }

    fn tolerance(&mut self, metric: &Metric) -> Result<Tolerance, ExprError> {
        self.skip_ws();
        let negative = match self.peek() {
            None => {
                return Ok(Tolerance {
                    negative: false,
                    amounts: Vec::new(),
                });
            }
            Some('+') => false,
            Some('-') => true,
            Some(_) => {
                return Err(self.error_at(
                    self.pos,
                    self.token_width(),
                    "expected + or - after baseline",
                ));
            }
        };
        self.pos += 1;
        let saved = self.pos;
        let (word, at) = self.word();
        if !(word.eq_ignore_ascii_case("max") && self.eat('(')) {
            if !word.is_empty() && !word.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
                return Err(self.error_at(
                    at,
                    word.chars().count(),
                    "expected an amount (10%, 2ms, 0.5pp) or max(…, …)",
                ));
            }
            self.pos = saved;
            return Ok(Tolerance {
                negative,
                amounts: vec![self.amount(metric)?],
            });
        }
        let mut amounts = vec![self.amount(metric)?];
        while self.eat(',') {
            amounts.push(self.amount(metric)?);
        }
        if !self.eat(')') {
            return Err(self.error_at(
                self.pos,
                self.token_width(),
                "expected ',' or ')' in max(…)",
            ));
        }
        Ok(Tolerance { negative, amounts })
    }

    fn amount(&mut self, metric: &Metric) -> Result<Amount, ExprError> {
        let (quantity, at, width) = self.quantity()?;
        amount_for(metric, quantity).map_err(|m| self.error_at(at, width, &m))
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
