//! `ByteSize`: sizes such as `10 KiB` or `10240`.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer};

/// A number of bytes: an integer, or a string such as `"10 KiB"`, `"10 mb"`, `"64kb"`.
///
/// Units are case-insensitive; `k`/`kb`/`kib` all mean 1024 (as log4rs's size trigger does).
///
/// ```
/// use log4rs_appenders::fields::ByteSize;
/// assert_eq!("10 KiB".parse::<ByteSize>().unwrap().0, 10 * 1024);
/// assert_eq!("2 mb".parse::<ByteSize>().unwrap().0, 2 * 1024 * 1024);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ByteSize(pub u64);

impl std::str::FromStr for ByteSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (digits, unit) = s.split_at(split);
        let number: u64 = digits
            .parse()
            .map_err(|_| format!("expected a size such as 10240 or \"10 KiB\", got {s:?}"))?;
        let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" | "kib" => 1 << 10,
            "m" | "mb" | "mib" => 1 << 20,
            "g" | "gb" | "gib" => 1 << 30,
            "t" | "tb" | "tib" => 1 << 40,
            other => {
                return Err(format!(
                    "unknown size unit {other:?} in {s:?}; use b, KiB, MiB, GiB or TiB"
                ));
            }
        };
        number
            .checked_mul(multiplier)
            .map(ByteSize)
            .ok_or_else(|| format!("size {s:?} is too large"))
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size such as 10240 or \"10 KiB\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::custom(format!("expected a size of 0 or more bytes, got {v}")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_accept_units_in_any_case() {
        assert_eq!("10 KiB".parse::<ByteSize>().unwrap(), ByteSize(10240));
        assert_eq!("10kb".parse::<ByteSize>().unwrap(), ByteSize(10240));
        assert_eq!("3 MB".parse::<ByteSize>().unwrap(), ByteSize(3 << 20));
        assert_eq!("7".parse::<ByteSize>().unwrap(), ByteSize(7));
        assert!("ten".parse::<ByteSize>().is_err());
        assert!(
            "10 parsecs"
                .parse::<ByteSize>()
                .unwrap_err()
                .contains("unknown size unit")
        );
    }
}
