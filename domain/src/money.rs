//! Money as integer minor units plus an ISO 4217 currency. Never floating point: prices typed
//! by people (`"19.99"`) are parsed digit by digit.

use crate::DomainError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// ISO 4217 codes this platform accepts, with their number of minor-unit digits.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EGP", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("KZT", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("NGN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PHP", 2),
    ("PLN", 2),
    ("RON", 2),
    ("RUB", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TND", 3),
    ("TRY", 2),
    ("TWD", 2),
    ("UAH", 2),
    ("USD", 2),
    ("VND", 0),
    ("ZAR", 2),
];

/// An ISO 4217 currency code known to the platform.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");
    pub const EUR: Currency = Currency(*b"EUR");

    pub fn code(&self) -> &str {
        // Only ever built from ASCII uppercase letters.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// Number of digits after the decimal point (USD 2, JPY 0, KWD 3).
    pub fn exponent(&self) -> u8 {
        CURRENCIES
            .iter()
            .find(|(c, _)| c.as_bytes() == self.0)
            .map(|(_, e)| *e)
            .unwrap_or(2)
    }
}

impl FromStr for Currency {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase();
        match CURRENCIES.iter().find(|(c, _)| *c == upper) {
            Some((c, _)) => {
                let b = c.as_bytes();
                Ok(Currency([b[0], b[1], b[2]]))
            }
            None => Err(DomainError::validation(
                "currency",
                format!(
                    "'{}' is not a supported ISO 4217 currency code",
                    crate::text::excerpt(s, crate::text::EXCERPT_CHARS)
                ),
            )),
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An amount in integer minor units of one currency.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Money {
    pub amount: i64,
    pub currency: Currency,
}

impl Money {
    pub const fn new(amount: i64, currency: Currency) -> Self {
        Self { amount, currency }
    }

    pub const fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// Parses a decimal amount such as `12.50`, `12.5` or `12` exactly into minor units.
    /// More fraction digits than the currency has, signs, exponents, separators and
    /// anything else are rejected: a price is never rounded silently.
    pub fn parse(text: &str, currency: Currency) -> Result<Self, DomainError> {
        let t = text.trim();
        let bad = || {
            DomainError::validation(
                "price",
                format!(
                    "'{}' is not a valid amount in {} (use digits with at most {} decimals, e.g. 12.50)",
                    crate::text::excerpt(text, crate::text::EXCERPT_CHARS),
                    currency,
                    currency.exponent()
                ),
            )
        };
        let (whole, frac) = match t.split_once('.') {
            Some((w, f)) => (w, f),
            None => (t, ""),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if !frac.bytes().all(|b| b.is_ascii_digit()) || (t.contains('.') && frac.is_empty()) {
            return Err(bad());
        }
        let exp = currency.exponent() as usize;
        if frac.len() > exp {
            return Err(bad());
        }
        let overflow = || {
            DomainError::validation(
                "price",
                format!(
                    "'{}' is too large",
                    crate::text::excerpt(t, crate::text::EXCERPT_CHARS)
                ),
            )
        };
        let mut amount: i64 = 0;
        for b in whole.bytes() {
            amount = amount
                .checked_mul(10)
                .and_then(|a| a.checked_add(i64::from(b - b'0')))
                .ok_or_else(overflow)?;
        }
        for i in 0..exp {
            let digit = frac.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
            amount = amount
                .checked_mul(10)
                .and_then(|a| a.checked_add(digit))
                .ok_or_else(overflow)?;
        }
        Ok(Self::new(amount, currency))
    }

    /// Sum of two amounts of the same currency; `None` on a currency mismatch or overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Some(Money::new(
            self.amount.checked_add(other.amount)?,
            self.currency,
        ))
    }

    /// This amount times a quantity; `None` on overflow.
    pub fn checked_mul(self, qty: i64) -> Option<Money> {
        Some(Money::new(self.amount.checked_mul(qty)?, self.currency))
    }
}

impl fmt::Display for Money {
    /// `12.50 USD`, `-3.00 EUR`, `500 JPY`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exp = u32::from(self.currency.exponent());
        let sign = if self.amount < 0 { "-" } else { "" };
        let abs = self.amount.unsigned_abs();
        if exp == 0 {
            return write!(f, "{sign}{abs} {}", self.currency);
        }
        let div = 10u64.pow(exp);
        write!(
            f,
            "{sign}{}.{:0width$} {}",
            abs / div,
            abs % div,
            self.currency,
            width = exp as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly() {
        let usd = Currency::USD;
        assert_eq!(Money::parse("12.50", usd).unwrap().amount, 1250);
        assert_eq!(Money::parse("12.5", usd).unwrap().amount, 1250);
        assert_eq!(Money::parse("12", usd).unwrap().amount, 1200);
        assert_eq!(Money::parse("19.99", usd).unwrap().amount, 1999);
        assert_eq!(Money::parse("0.01", usd).unwrap().amount, 1);
        let jpy: Currency = "jpy".parse().unwrap();
        assert_eq!(Money::parse("500", jpy).unwrap().amount, 500);
        assert!(Money::parse("5.5", jpy).is_err());
        for bad in [
            "",
            "-1",
            "1.",
            ".5",
            "1.999",
            "1e3",
            "1,50",
            "abc",
            " 1 2",
            "99999999999999999999",
        ] {
            assert!(
                Money::parse(bad, usd).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn exact_totals_and_display() {
        let usd = Currency::USD;
        let a = Money::parse("19.99", usd).unwrap().checked_mul(3).unwrap();
        let b = Money::parse("5.01", usd).unwrap();
        let total = a.checked_add(b).unwrap();
        assert_eq!(total.amount, 6498);
        assert_eq!(total.to_string(), "64.98 USD");
        assert!(a.checked_add(Money::new(1, Currency::EUR)).is_none());
        assert_eq!(Money::new(-300, Currency::EUR).to_string(), "-3.00 EUR");
    }

    #[test]
    fn currency_codes() {
        assert!("usd".parse::<Currency>().is_ok());
        assert!("XXX".parse::<Currency>().is_err());
        let json = serde_json::to_string(&Money::new(1250, Currency::USD)).unwrap();
        assert_eq!(json, r#"{"amount":1250,"currency":"USD"}"#);
    }
}
