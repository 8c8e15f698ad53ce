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
    /// No groups, a `.` for decimals: the plain form of scripts and commands (`1234.50`).
    /// [`NumberFormat::group_digits`] writes no separator with it.
    pub const PLAIN: NumberFormat = NumberFormat {
        group: '\0',
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
            if i > 0 && boundary && self.group != '\0' {
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

/// How an amount typed by a person was read (see [`Money::parse_typed`]).
enum Typed {
    /// Whole digits and fraction digits (the fraction empty without a decimal mark).
    Number(String, String),
    /// One `.` in a locale that groups with `.`, followed by exactly three digits: a group of
    /// thousands and a decimal point read differently.
    Ambiguous {
        whole: String,
        frac: String,
    },
    Invalid,
}

/// The separators a person may type for `nf`'s group separator: the one the screens print,
/// and what a keyboard has for it (a plain space for a no-break space, `'` for `’`).
fn is_group(c: char, nf: NumberFormat) -> bool {
    c == nf.group
        || (nf.group == NBSP && matches!(c, ' ' | '\u{202f}'))
        || (nf.group == '\u{2019}' && c == '\'')
}

/// The digits of a whole number typed plain (`1234`) or grouped exactly as `nf` prints it
/// (`1.234.567`, the typed separators taken for `nf`'s own); `None` otherwise (`12.34`,
/// `0.500`, `1234.567` in de).
fn read_grouped(text: &str, nf: NumberFormat) -> Option<String> {
    if all_digits(text) {
        return Some(text.to_string());
    }
    let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    let canonical: String = text
        .chars()
        .map(|c| if is_group(c, nf) { nf.group } else { c })
        .collect();
    if digits.is_empty()
        || !canonical
            .chars()
            .all(|c| c.is_ascii_digit() || c == nf.group)
    {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    (nf.group_digits(n) == canonical).then_some(digits)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Reads a number typed in `nf`'s format (`1.234,50` in de) or in the plain form scripts use
/// (`1234.50`), without the currency code.
fn read_typed(number: &str, nf: NumberFormat, currency_has_decimals: bool) -> Typed {
    // The locale's own decimal mark, where it is not the plain point.
    if nf.decimal != '.' && number.contains(nf.decimal) {
        let Some((whole, frac)) = number.split_once(nf.decimal) else {
            return Typed::Invalid;
        };
        if !all_digits(frac) {
            return Typed::Invalid;
        }
        return match read_grouped(whole, nf) {
            Some(w) => Typed::Number(w, frac.to_string()),
            None => Typed::Invalid,
        };
    }
    // The plain point: the decimal mark of scripts (and of en, de-CH, …); in a locale that
    // groups with `.` it may also be a group separator.
    if let Some((whole, frac)) = number.split_once('.') {
        let plain = all_digits(whole) && all_digits(frac);
        if nf.group == '.' {
            let grouped = read_grouped(number, nf);
            return match (plain, grouped) {
                // `1.234`: a decimal point, or a thousand and more?
                (true, Some(_)) if currency_has_decimals => Typed::Ambiguous {
                    whole: whole.to_string(),
                    frac: frac.to_string(),
                },
                (_, Some(w)) => Typed::Number(w, String::new()),
                (true, None) => Typed::Number(whole.to_string(), frac.to_string()),
                (false, None) => Typed::Invalid,
            };
        }
        // A point that is the decimal mark with the locale's groups before it (en `1,234.50`,
        // de-CH `1’234.50`), or the plain form.
        return match read_grouped(whole, nf) {
            Some(w) if all_digits(frac) && (nf.decimal == '.' || w == whole) => {
                Typed::Number(w, frac.to_string())
            }
            _ => Typed::Invalid,
        };
    }
    match read_grouped(number, nf) {
        Some(w) => Typed::Number(w, String::new()),
        None => Typed::Invalid,
    }
}

impl Money {
    /// Parses an amount as a person types it in a tenant whose locale writes money as `nf`
    /// does: the locale's own format (`1.234,50` in de, `1 234,50` in fr, `1,234.50` in en,
    /// `1’234.50` in de-CH, `12,34,567.50` in en-IN), or the plain form scripts use in any
    /// locale (`1234.50`, `5.00`, `5`), optionally followed by the currency's code (which must
    /// be `currency`). Groups must be where the locale puts them; the decimals at most the
    /// currency's.
    ///
    /// One case is refused rather than guessed: in a locale that groups thousands with `.`
    /// (de, es, it, nl, pt, …) a single `.` followed by exactly three digits and no decimal
    /// comma (`1.234`) reads both as 1 234 and as 1.234; the message says how to write
    /// either. Where the currency has no decimals (JPY) a `.` can only group, so that is no
    /// ambiguity. Everything [`Money::format`] writes reads back to the same amount.
    pub fn parse_typed(
        text: &str,
        currency: Currency,
        nf: NumberFormat,
    ) -> Result<Money, DomainError> {
        let shown = crate::text::excerpt(text.trim(), crate::text::EXCERPT_CHARS);
        let example = Money::new(123_450, currency).format(nf);
        let example = example.trim_end_matches(currency.code()).trim_end();
        let plain = Money::new(123_450, currency).format(NumberFormat::PLAIN);
        let plain = plain.trim_end_matches(currency.code()).trim_end();
        let t = text.trim();
        if t.is_empty() {
            return Err(DomainError::validation(
                "amount",
                format!("type an amount in {currency}, e.g. {example} or {plain}"),
            ));
        }
        // An optional code at the end: `1.234,50 EUR`.
        let number = match t.rsplit_once(char::is_whitespace) {
            Some((n, code)) if code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphabetic()) => {
                if !code.eq_ignore_ascii_case(currency.code()) {
                    return Err(DomainError::validation(
                        "amount",
                        format!(
                            "'{shown}' is not in {currency}: the amount is in {currency}, typed without a code or with {currency}"
                        ),
                    ));
                }
                n.trim_end()
            }
            _ => t,
        };
        let exp = usize::from(currency.exponent());
        let (whole, frac) = match read_typed(number, nf, exp > 0) {
            Typed::Number(w, f) => (w, f),
            Typed::Ambiguous { whole, frac } => {
                let thousands = format!("{whole}{frac}");
                let as_whole = thousands
                    .parse::<u64>()
                    .map(|n| nf.group_digits(n))
                    .unwrap_or_else(|_| thousands.clone());
                let as_whole = format!("{as_whole}{}{}", nf.decimal, "0".repeat(exp));
                let decimals = if frac.len() <= exp {
                    format!(", or {whole}{}{frac} for decimals", nf.decimal)
                } else {
                    String::new()
                };
                return Err(DomainError::validation(
                    "amount",
                    format!(
                        "'{shown}' is ambiguous here ('.' groups thousands, as in {example}): write {as_whole} or {thousands} for a whole amount{decimals}"
                    ),
                ));
            }
            Typed::Invalid => {
                return Err(DomainError::validation(
                    "amount",
                    format!(
                        "'{shown}' is not an amount in {currency}: write it as {example} or {plain} (at most {exp} decimals)"
                    ),
                ));
            }
        };
        if frac.len() > exp {
            return Err(DomainError::validation(
                "amount",
                format!("'{shown}' has more than {exp} decimals: {currency} has {exp}"),
            ));
        }
        let canonical = if frac.is_empty() {
            whole
        } else {
            format!("{whole}.{frac}")
        };
        Money::parse(&canonical, currency)
            .map_err(|_| DomainError::validation("amount", format!("'{shown}' is too large")))
    }

    /// The amount in the plain form scripts and commands carry (`1234.50`, `500`): no
    /// groups, a `.` for decimals, no code. [`Money::parse`] reads it back.
    pub fn plain(&self) -> String {
        let s = self.format(NumberFormat::PLAIN);
        s.trim_end_matches(self.currency.code())
            .trim_end()
            .to_string()
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

    fn typed(text: &str, currency: &str, locale: &str) -> Result<i64, String> {
        Money::parse_typed(
            text,
            currency.parse().unwrap(),
            NumberFormat::of(&locale.parse().unwrap()),
        )
        .map(|m| m.amount)
        .map_err(|e| e.to_string())
    }

    #[test]
    fn typed_amounts_follow_the_tenant_locale_and_the_plain_form() {
        // The locale's own format, with or without groups and the code.
        assert_eq!(typed("1.234,50", "EUR", "de"), Ok(123_450));
        assert_eq!(typed("1234,50", "EUR", "de"), Ok(123_450));
        assert_eq!(typed(" 1.234,50 EUR ", "EUR", "de"), Ok(123_450));
        assert_eq!(typed("1.234,50 eur", "EUR", "de"), Ok(123_450));
        assert_eq!(typed("1.234.567", "EUR", "de"), Ok(123_456_700));
        assert_eq!(typed("5,5", "EUR", "de"), Ok(550));
        assert_eq!(typed("1\u{a0}234,50", "EUR", "fr"), Ok(123_450));
        assert_eq!(typed("1 234,50", "EUR", "fr"), Ok(123_450));
        assert_eq!(typed("1’234.50", "CHF", "de-CH"), Ok(123_450));
        assert_eq!(typed("1'234.50", "CHF", "de-CH"), Ok(123_450));
        assert_eq!(typed("1,234.50", "USD", "en"), Ok(123_450));
        assert_eq!(typed("1,234", "USD", "en"), Ok(123_400));
        assert_eq!(typed("12,34,567.50", "INR", "en-IN"), Ok(123_456_750));
        assert_eq!(
            typed("1.234", "JPY", "de"),
            Ok(1_234),
            "no decimals: . groups"
        );
        // The plain form of scripts, in every locale.
        for locale in ["en", "de", "fr", "de-CH", "en-IN", "es", "pt-PT"] {
            assert_eq!(typed("5.00", "EUR", locale), Ok(500), "{locale}");
            assert_eq!(typed("12.5", "EUR", locale), Ok(1250), "{locale}");
            assert_eq!(typed("1234.50", "EUR", locale), Ok(123_450), "{locale}");
            assert_eq!(typed("7", "EUR", locale), Ok(700), "{locale}");
        }
        // Ambiguous: refused with how to write either.
        let e = typed("1.234", "EUR", "de").unwrap_err();
        assert_eq!(
            e,
            "amount: '1.234' is ambiguous here ('.' groups thousands, as in 1.234,50): write 1.234,00 or 1234 for a whole amount"
        );
        let e = typed("1.500", "KWD", "de").unwrap_err();
        assert!(
            e.contains("write 1.500,000 or 1500 for a whole amount, or 1,500 for decimals"),
            "{e}"
        );
        assert_eq!(typed("1,500", "KWD", "de"), Ok(1_500));
        // Malformed: refused with an example in the locale and the plain form.
        for (bad, locale) in [
            ("1,234.50", "de"),
            ("1.23,50", "de"),
            ("12.34.56", "de"),
            ("5,00", "en"),
            ("1 234.50", "fr"),
            ("-5", "de"),
            ("5.", "de"),
            (",5", "de"),
            ("1e3", "en"),
            ("abc", "de"),
            ("12,34,567.50", "en"),
        ] {
            let e = typed(bad, "EUR", locale).unwrap_err();
            assert!(
                e.contains("is not an amount in EUR: write it as"),
                "{bad} {locale}: {e}"
            );
        }
        assert_eq!(
            typed("abc", "EUR", "de").unwrap_err(),
            "amount: 'abc' is not an amount in EUR: write it as 1.234,50 or 1234.50 (at most 2 decimals)"
        );
        assert!(
            typed("5,123", "EUR", "de")
                .unwrap_err()
                .contains("more than 2 decimals")
        );
        assert!(
            typed("5 USD", "EUR", "de")
                .unwrap_err()
                .contains("is not in EUR")
        );
        assert!(
            typed("", "EUR", "de")
                .unwrap_err()
                .contains("type an amount in EUR, e.g. 1.234,50 or 1234.50")
        );
        assert!(
            typed("99999999999999999999", "EUR", "de")
                .unwrap_err()
                .contains("too large")
        );
        assert_eq!(Money::new(123_450, Currency::EUR).plain(), "1234.50");
        assert_eq!(Money::new(500, "JPY".parse().unwrap()).plain(), "500");
    }

    /// The locales whose money format differs, one of each kind (and some that write English).
    const TYPED_LOCALES: [&str; 14] = [
        "en",
        "en-IN",
        "de",
        "de-CH",
        "fr",
        "ru",
        "es",
        "es-MX",
        "pt-PT",
        "it",
        "nl",
        "ja",
        "zh-Hant-TW",
        "hi",
    ];

    proptest::proptest! {
        /// Whatever is typed, the parser answers without panicking.
        #[test]
        fn typed_amounts_never_panic(
            text in "\\PC{0,40}",
            c in 0..CURRENCIES.len(),
            l in 0..TYPED_LOCALES.len(),
        ) {
            let currency: Currency = CURRENCIES[c].0.parse().unwrap();
            let nf = NumberFormat::of(&TYPED_LOCALES[l].parse().unwrap());
            let _ = Money::parse_typed(&text, currency, nf);
        }

        /// Text made of digits and separators, the most likely to trip the parser: no panic,
        /// and what it accepts formats back to an amount it reads the same.
        #[test]
        fn typed_separators_read_back(
            text in "[0-9., \u{a0}'’]{0,16}",
            c in 0..CURRENCIES.len(),
            l in 0..TYPED_LOCALES.len(),
        ) {
            let currency: Currency = CURRENCIES[c].0.parse().unwrap();
            let nf = NumberFormat::of(&TYPED_LOCALES[l].parse().unwrap());
            if let Ok(m) = Money::parse_typed(&text, currency, nf) {
                proptest::prop_assert!(m.amount >= 0);
                proptest::prop_assert_eq!(Money::parse_typed(&m.format(nf), currency, nf).ok(), Some(m));
            }
        }

        /// Every amount the screens print reads back to itself in every locale, with or
        /// without its code; the plain form too, but for `1.234`-shaped amounts in a currency
        /// of three decimals where `.` groups thousands (refused as ambiguous).
        #[test]
        fn typed_amounts_round_trip(
            amount in proptest::prop_oneof![0..10_000_000i64, 0..=i64::MAX],
            c in 0..CURRENCIES.len(),
            l in 0..TYPED_LOCALES.len(),
        ) {
            let currency: Currency = CURRENCIES[c].0.parse().unwrap();
            let nf = NumberFormat::of(&TYPED_LOCALES[l].parse().unwrap());
            let m = Money::new(amount, currency);
            let text = m.format(nf);
            proptest::prop_assert_eq!(Money::parse_typed(&text, currency, nf).ok(), Some(m), "{}", text);
            let number = text.trim_end_matches(currency.code()).trim_end();
            proptest::prop_assert_eq!(Money::parse_typed(number, currency, nf).ok(), Some(m), "{}", number);
            match Money::parse_typed(&m.plain(), currency, nf) {
                Ok(back) => proptest::prop_assert_eq!(back, m),
                Err(e) => {
                    proptest::prop_assert!(e.to_string().contains("ambiguous"), "{}", e);
                    proptest::prop_assert!(nf.group == '.' && currency.exponent() == 3 && (1_000..1_000_000).contains(&amount));
                }
            }
        }
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
