//! Counts in the texts the crate prints, in the singular for one and the plural otherwise:
//! `1 record was lost`, `2 records were lost`, `a mail of 1 record`, `3 mails are kept`. Every
//! noun counted is a regular one (the plural adds `s`): record, mail, event, attempt, error.
//!
//! Re-exported, hidden, for the crate's own binary (`log4rs-appenders check` counts problems
//! and filters by the same rule); not part of the API.

use std::fmt::{self, Display};

/// `n` and its noun: `1 record`, `0 records`, `2 syslog records`.
#[derive(Clone, Copy)]
pub struct Count<'a> {
    n: u64,
    /// The singular: `record`, `syslog record`, `error event`.
    noun: &'a str,
}

impl<'a> Count<'a> {
    /// `n` of `noun` (given in the singular).
    pub fn new(n: u64, noun: &'a str) -> Self {
        Count { n, noun }
    }

    /// The noun alone, in the number `n` asks for (`record`, `records`).
    pub fn noun(self) -> Noun<'a> {
        Noun(self)
    }

    /// `was` or `were`.
    pub fn were(self) -> &'static str {
        if self.n == 1 { "was" } else { "were" }
    }

    /// `is` or `are`.
    pub fn are(self) -> &'static str {
        if self.n == 1 { "is" } else { "are" }
    }
}

impl Display for Count<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.n, self.noun())
    }
}

/// The noun of a [`Count`] without the number.
pub struct Noun<'a>(Count<'a>);

impl Display for Noun<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.noun)?;
        if self.0.n != 1 {
            f.write_str("s")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        let one = Count::new(1, "syslog record");
        assert_eq!(
            format!("{one} {} lost", one.were()),
            "1 syslog record was lost"
        );
        let two = Count::new(2, "mail");
        assert_eq!(format!("{two} {} kept", two.are()), "2 mails are kept");
        let none = Count::new(0, "record");
        assert_eq!(format!("{none} {}", none.were()), "0 records were");
        assert_eq!(Count::new(7, "error").noun().to_string(), "errors");
        assert_eq!(Count::new(1, "error").noun().to_string(), "error");
    }
}
