//! Parsing a Python %-style format string (`%(asctime)s %(levelname)-8s %(message)s`) into
//! literal text and fields, checking at build time everything Python would only find when a
//! record is formatted.

use super::attributes::{Attribute, ValueType};
use super::printf::{Conversion, Flags, Spec};

/// One piece of a parsed format.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Segment {
    Literal(String),
    Field { attribute: Attribute, spec: Spec },
}

/// Width and precision above this are refused (a typo, not a layout).
const MAX_WIDTH: usize = 4096;

/// A format problem and the 1-based character column where it is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub column: usize,
    pub problem: String,
}

/// Parses `format` into segments, merging adjacent literal text (`%%` included).
pub(crate) fn parse(format: &str) -> Result<Vec<Segment>, ParseError> {
    let chars: Vec<char> = format.chars().collect();
    let mut segments = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            literal.push(c);
            i += 1;
            continue;
        }
        let field_start = i;
        let error = |at: usize, problem: String| ParseError {
            column: at + 1,
            problem,
        };
        i += 1;
        match chars.get(i) {
            None => {
                return Err(error(
                    field_start,
                    "incomplete format: a lone % at the end (write %% for a literal %)".into(),
                ));
            }
            Some('%') => {
                literal.push('%');
                i += 1;
                continue;
            }
            Some('(') => {}
            Some(_) => {
                return Err(error(
                    field_start,
                    "every field needs an attribute name, like %(message)s (write %% for a literal %)"
                        .into(),
                ));
            }
        }
        // The key runs to the matching ')'; parentheses nest, as in Python.
        i += 1;
        let key_start = i;
        let mut depth = 1;
        while i < chars.len() {
            match chars[i] {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        if i >= chars.len() {
            return Err(error(
                field_start,
                "incomplete format key: missing \")\" after \"%(\"".into(),
            ));
        }
        let key: String = chars[key_start..i].iter().collect();
        i += 1;
        if key.is_empty() {
            return Err(error(field_start, "empty attribute name in \"%()\"".into()));
        }
        let attribute = Attribute::from_name(&key).map_err(|p| error(field_start, p))?;

        let mut flags = Flags::default();
        while let Some(c) = chars.get(i) {
            match c {
                '-' => flags.left = true,
                '0' => flags.zero = true,
                '+' => flags.plus = true,
                ' ' => flags.space = true,
                '#' => flags.alt = true,
                _ => break,
            }
            i += 1;
        }
        let width = read_number(&chars, &mut i)
            .map_err(|p| error(i, p))?
            .unwrap_or(0);
        let mut precision = None;
        if chars.get(i) == Some(&'.') {
            i += 1;
            precision = Some(
                read_number(&chars, &mut i)
                    .map_err(|p| error(i, p))?
                    .unwrap_or(0),
            );
        }
        // Length modifiers are accepted and ignored, as in Python.
        while matches!(chars.get(i), Some('h' | 'l' | 'L')) {
            i += 1;
        }
        let Some(&conversion_char) = chars.get(i) else {
            return Err(error(
                field_start,
                format!("incomplete format: \"%({key})\" needs a conversion such as s or d"),
            ));
        };
        let conversion = Conversion::from_char(conversion_char).ok_or_else(|| {
            error(
                i,
                format!(
                    "unsupported format character '{conversion_char}' ({:#x}); use one of s r a d i u o x X e E f F g G c",
                    conversion_char as u32
                ),
            )
        })?;
        check_type(&key, attribute.value_type(), conversion).map_err(|p| error(i, p))?;
        i += 1;
        if !literal.is_empty() {
            segments.push(Segment::Literal(std::mem::take(&mut literal)));
        }
        segments.push(Segment::Field {
            attribute,
            spec: Spec {
                flags,
                width,
                precision,
                conversion,
            },
        });
    }
    if !literal.is_empty() {
        segments.push(Segment::Literal(literal));
    }
    Ok(segments)
}

/// Reads decimal digits at `i`; `*` (a width taken from the arguments) cannot work with named
/// attributes.
fn read_number(chars: &[char], i: &mut usize) -> Result<Option<usize>, String> {
    if chars.get(*i) == Some(&'*') {
        return Err("\"*\" (width or precision from the arguments) cannot be used with named attributes; write a number".into());
    }
    let mut value: Option<usize> = None;
    while let Some(d) = chars.get(*i).and_then(|c| c.to_digit(10)) {
        let v = value.unwrap_or(0) * 10 + d as usize;
        if v > MAX_WIDTH {
            return Err(format!("width or precision larger than {MAX_WIDTH}"));
        }
        value = Some(v);
        *i += 1;
    }
    Ok(value)
}

/// Python raises a TypeError when a record is formatted with a conversion its value's type does
/// not accept; built-in attributes have fixed types, so we refuse those formats up front.
fn check_type(key: &str, value_type: ValueType, conversion: Conversion) -> Result<(), String> {
    let problem = match (value_type, conversion) {
        (ValueType::Text, c) if c.is_integer() || c.is_float() => Some(format!(
            "%({key}) is text, so it needs %s, %r or %a (Python: \"a real number is required, not str\")"
        )),
        (ValueType::Text, Conversion::Char) => Some(format!(
            "%({key})c: %c needs a number or a single character (Python: \"%c requires int or char\")"
        )),
        (ValueType::Float, Conversion::Octal | Conversion::Hex | Conversion::HexUpper) => {
            Some(format!(
                "%({key}) is a float, so it cannot use %o, %x or %X (Python: \"an integer is required, not float\")"
            ))
        }
        (ValueType::Float, Conversion::Char) => Some(format!(
            "%({key}) is a float, so it cannot use %c (Python: \"%c requires int or char\")"
        )),
        _ => None,
    };
    problem.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(format: &str) -> ParseError {
        parse(format).expect_err(format)
    }

    #[test]
    fn parses_fields_flags_width_precision_and_literals() {
        let s = parse("[%(levelname)-8s] %(msecs)03.1f %% %(user_id)s").unwrap();
        assert_eq!(s.len(), 6);
        assert_eq!(s[0], Segment::Literal("[".into()));
        let Segment::Field { attribute, spec } = &s[1] else {
            panic!("{s:?}")
        };
        assert_eq!(*attribute, Attribute::LevelName);
        assert!(spec.flags.left && spec.width == 8 && spec.precision.is_none());
        assert_eq!(s[4], Segment::Literal(" % ".into()));
        let Segment::Field { attribute, .. } = &s[5] else {
            panic!("{s:?}")
        };
        assert_eq!(*attribute, Attribute::KeyValue("user_id".into()));
    }

    #[test]
    fn malformed_formats_name_the_column_and_problem() {
        assert_eq!(problem("ab %(message").column, 4);
        assert!(problem("ab %(message").problem.contains("missing \")\""));
        assert_eq!(problem("%(message)y").column, 11);
        assert!(
            problem("%(message)y")
                .problem
                .contains("unsupported format character 'y'")
        );
        assert!(problem("%(message)").problem.contains("incomplete format"));
        assert!(problem("50%").problem.contains("lone %"));
        assert!(problem("%s").problem.contains("attribute name"));
        assert!(problem("%(lineno)*d").problem.contains("*"));
        assert!(problem("%()s").problem.contains("empty"));
        assert!(problem("%(levelname)d").problem.contains("is text"));
        assert!(problem("%(created)x").problem.contains("float"));
        assert!(problem("%(message)99999s").problem.contains("larger than"));
    }

    #[test]
    fn misspelt_attribute_points_at_its_name() {
        let e = problem("%(asctime)s %(levelnam)s");
        assert_eq!(e.column, 13);
        assert!(
            e.problem.contains("did you mean \"levelname\""),
            "{}",
            e.problem
        );
    }

    #[test]
    fn nested_parentheses_belong_to_the_key() {
        let s = parse("%(a(b))s").unwrap();
        assert_eq!(
            s,
            vec![Segment::Field {
                attribute: Attribute::KeyValue("a(b)".into()),
                spec: Spec {
                    flags: Flags::default(),
                    width: 0,
                    precision: None,
                    conversion: Conversion::Str
                }
            }]
        );
    }
}
