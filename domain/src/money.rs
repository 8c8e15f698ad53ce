//! Money as integer minor units plus an ISO 4217 currency. Never floating point: prices typed
//! by people (`"19.99"`) are parsed digit by digit.

use crate::{DomainError, Locale};
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
    /// `12.50 USD`, `-3.00 EUR`, `500 JPY`, `5,782,415.30 USD`: [`Money::format`] with
    /// [`NumberFormat::default`] (where the tenant's locale is at hand, use `format`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format(NumberFormat::default()))
    }
}

/// How a locale writes an amount for people: the digit-group separator, the decimal mark and
/// the grouping (by thousands, or the Indian lakh and crore: `57,82,415.30`).
///
/// The one table of it; every screen and the CLI's text output format money through
/// [`Money::format`] with the tenant's locale ([`NumberFormat::of`]). JSON never does: it
/// carries integer minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberFormat {
    pub group: char,
    pub decimal: char,
    /// Groups of two digits above the first three (en-IN, hi).
    pub indian: bool,
}

impl Default for NumberFormat {
    /// English: `1,234,567.89`.
    fn default() -> Self {
        NumberFormat::EN
    }
}

/// No-break space: a space that keeps an amount on one line.
const NBSP: char = '\u{a0}';

impl NumberFormat {
    pub const EN: NumberFormat = NumberFormat {
        group: ',',
        decimal: '.',
        indian: false,
    };
    const DOT_COMMA: NumberFormat = NumberFormat {
        group: '.',
        decimal: ',',
        indian: false,
    };
    const SPACE_COMMA: NumberFormat = NumberFormat {
        group: NBSP,
        decimal: ',',
        indian: false,
    };
    const SWISS: NumberFormat = NumberFormat {
        group: '\u{2019}',
        decimal: '.',
        indian: false,
    };
    const INDIAN: NumberFormat = NumberFormat {
        group: ',',
        decimal: '.',
        indian: true,
    };

    /// The convention of `locale` (CLDR's, for the languages and regions listed here; any
    /// other locale writes English `1,234.50`).
    pub fn of(locale: &Locale) -> NumberFormat {
        let mut parts = locale.as_str().split('-');
        let lang = parts.next().unwrap_or("");
        // The region is the last subtag when it is not a script (`zh-Hant-TW` → `TW`).
        let region = parts.rfind(|p| p.len() != 4).unwrap_or("");
        match (lang, region) {
            ("en", "IN") | ("hi" | "bn" | "mr" | "ta" | "te" | "gu" | "kn" | "ml", _) => {
                NumberFormat::INDIAN
            }
            ("de" | "it" | "rm" | "gsw", "CH" | "LI") => NumberFormat::SWISS,
            (
                "es",
                "MX" | "US" | "419" | "PR" | "DO" | "GT" | "HN" | "NI" | "PA" | "SV" | "PE" | "CU",
            ) => NumberFormat::EN,
            ("pt", "PT" | "AO" | "MZ") => NumberFormat::SPACE_COMMA,
            (
                "de" | "es" | "it" | "nl" | "pt" | "id" | "tr" | "da" | "ro" | "el" | "hr" | "sl"
                | "sr" | "vi" | "is",
                _,
            ) => NumberFormat::DOT_COMMA,
            (
                "fr" | "ru" | "uk" | "pl" | "cs" | "sk" | "sv" | "nb" | "no" | "nn" | "fi" | "hu"
                | "bg" | "kk" | "et" | "lv" | "lt" | "be",
                _,
            ) => NumberFormat::SPACE_COMMA,
            _ => NumberFormat::EN,
        }
    }

    /// The digits of `n` with this format's group separators: `5782415` → `5,782,415`.
    pub fn group_digits(&self, n: u64) -> String {
        let digits = n.to_string();
        let len = digits.len();
        let mut out = String::with_capacity(len + len / 2);
        for (i, c) in digits.chars().enumerate() {
            let left = len - i;
            let boundary = if self.indian {
                // 12,34,56,789: the last three, then pairs.
                left >= 3 && (left - 3).is_multiple_of(2)
            } else {
                left.is_multiple_of(3)
            };
            if i > 0 && boundary {
                out.push(self.group);
            }
            out.push(c);
        }
        out
    }
}

impl Money {
    /// The one way an amount is written for people: grouped digits, the currency's number of
    /// decimals, then its code — `5,782,415.30 USD`, `-3,00 EUR` (de), `500 JPY`. Never
    /// panics, for any amount (`i64::MIN` included).
    pub fn format(&self, nf: NumberFormat) -> String {
        let exp = u32::from(self.currency.exponent());
        let sign = if self.amount < 0 { "-" } else { "" };
        let abs = self.amount.unsigned_abs();
        let div = 10u64.pow(exp);
        let whole = nf.group_digits(abs / div);
        if exp == 0 {
            format!("{sign}{whole} {}", self.currency)
        } else {
            format!(
                "{sign}{whole}{}{:0width$} {}",
                nf.decimal,
                abs % div,
                self.currency,
                width = exp as usize
            )
        }
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

    fn fmt(amount: i64, currency: &str, locale: &str) -> String {
        Money::new(amount, currency.parse().unwrap())
            .format(NumberFormat::of(&locale.parse().unwrap()))
    }

    #[test]
    fn amounts_are_grouped_the_tenant_locale_s_way() {
        assert_eq!(fmt(578_241_530, "USD", "en"), "5,782,415.30 USD");
        assert_eq!(fmt(578_241_530, "USD", "en-US"), "5,782,415.30 USD");
        assert_eq!(
            Money::new(578_241_530, Currency::USD).to_string(),
            "5,782,415.30 USD"
        );
        assert_eq!(fmt(578_241_530, "EUR", "de"), "5.782.415,30 EUR");
        assert_eq!(
            fmt(578_241_530, "EUR", "fr-FR"),
            "5\u{a0}782\u{a0}415,30 EUR"
        );
        assert_eq!(
            fmt(578_241_530, "CHF", "de-CH"),
            "5\u{2019}782\u{2019}415.30 CHF"
        );
        assert_eq!(fmt(578_241_530, "INR", "en-IN"), "57,82,415.30 INR");
        assert_eq!(
            fmt(1_234_567_890_123, "INR", "hi"),
            "12,34,56,78,901.23 INR"
        );
        assert_eq!(fmt(578_241_530, "MXN", "es-MX"), "5,782,415.30 MXN");
        assert_eq!(fmt(578_241_530, "EUR", "es"), "5.782.415,30 EUR");
        assert_eq!(fmt(578_241_530, "USD", "zh-Hant-TW"), "5,782,415.30 USD");
        assert_eq!(fmt(1_234_567, "JPY", "ja"), "1,234,567 JPY");
        assert_eq!(fmt(1_234_567, "KWD", "en"), "1,234.567 KWD");
        assert_eq!(fmt(-578_241_530, "USD", "en"), "-5,782,415.30 USD");
        assert_eq!(fmt(-5, "USD", "en"), "-0.05 USD");
        assert_eq!(fmt(0, "USD", "de"), "0,00 USD");
        assert_eq!(fmt(99_999, "USD", "en"), "999.99 USD");
        assert_eq!(fmt(100_000, "USD", "en"), "1,000.00 USD");
        assert_eq!(fmt(i64::MIN, "USD", "en"), "-92,233,720,368,547,758.08 USD");
        assert_eq!(
            fmt(i64::MAX, "JPY", "en-IN"),
            "92,23,37,20,36,85,47,75,807 JPY"
        );
    }

    /// Reads a formatted amount back: the digits without group separators, the decimal mark
    /// as a point (as wide as i128, so `i64::MIN` reads back too).
    fn read_back(text: &str, nf: NumberFormat) -> Option<(i128, String)> {
        let (number, code) = text.rsplit_once(' ')?;
        let (negative, digits) = match number.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, number),
        };
        let mut value: i128 = 0;
        let mut decimals_seen = false;
        for c in digits.chars() {
            match c {
                d if d.is_ascii_digit() => value = value * 10 + i128::from(d as u8 - b'0'),
                c if c == nf.decimal && !decimals_seen => decimals_seen = true,
                c if c == nf.group && !decimals_seen => {}
                _ => return None,
            }
        }
        Some((if negative { -value } else { value }, code.to_string()))
    }

    proptest::proptest! {
        /// Any amount in any currency and locale formats without panicking and reads back
        /// to the same minor units; groups are never more than three digits.
        #[test]
        fn formatting_round_trips(
            amount in proptest::prelude::any::<i64>(),
            c in 0..CURRENCIES.len(),
            l in 0..12usize,
        ) {
            let locales = ["en", "en-IN", "de", "de-CH", "fr", "ru", "es", "es-MX", "pt-PT", "ja",
                "zh-Hant-TW", "hi"];
            let currency: Currency = CURRENCIES[c].0.parse().unwrap();
            let nf = NumberFormat::of(&locales[l].parse().unwrap());
            let text = Money::new(amount, currency).format(nf);
            let (back, code) = read_back(&text, nf).expect("reads back");
            proptest::prop_assert_eq!(back, i128::from(amount), "{}", text);
            proptest::prop_assert_eq!(code.as_str(), currency.code());
            let whole = text.trim_start_matches('-').split([nf.decimal, ' ']).next().unwrap();
            for group in whole.split(nf.group).skip(1) {
                proptest::prop_assert!(group.len() == 3 || (nf.indian && group.len() == 2), "{}", text);
            }
            if currency.exponent() > 0 {
                let frac = text.split(nf.decimal).nth(1).unwrap().split(' ').next().unwrap();
                proptest::prop_assert_eq!(frac.len(), usize::from(currency.exponent()));
            }
        }
    }
}
