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

/// Parses `format` into segments, merging adjacent literal text (`%%` included). Names other
/// than the built-in attributes must be in `declared` (the keys of the encoder's defaults).
/// Plain text without a field is refused unless `text_ok` (a mail subject may be fixed text).
pub(crate) fn parse(
    format: &str,
    declared: &[&str],
    text_ok: bool,
) -> Result<Vec<Segment>, ParseError> {
    // A brace- or dollar-style format pasted in: say so before any complaint about a `%` in it.
    if !format.contains("%(")
        && (brace_fields(format).next().is_some() || dollar_fields(format).next().is_some())
    {
        return Err(ParseError {
            column: 1,
            problem: no_field_problem(format),
        });
    }
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
        let attribute = Attribute::from_name(&key, declared).map_err(|p| error(field_start, p))?;

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
    if !text_ok && !segments.iter().any(|s| matches!(s, Segment::Field { .. })) {
        return Err(ParseError {
            column: 1,
            problem: no_field_problem(format),
        });
    }
    Ok(segments)
}

/// Why a format without a single `%(name)` field is refused, as CPython's `PercentStyle.validate`
/// refuses it ("Invalid format ... for '%' style"): such a format prints the same text for every
/// record. Most often it is a format of Python's other styles pasted in, so say which one it looks
/// like and give it converted.
fn no_field_problem(format: &str) -> String {
    // Dollar first: `${name}` also holds a `{name}`.
    let (style, converted) = if dollar_fields(format).next().is_some() {
        (
            "string.Template (dollar, style='$')",
            Some(dollar_to_percent_style(format)),
        )
    } else if brace_fields(format).next().is_some() {
        (
            "str.format (brace, style='{')",
            brace_to_percent_style(format),
        )
    } else {
        return "no %(name)s field, so every record would print the same text (Python refuses it: \
                \"Invalid format for '%' style\"); name at least one attribute, e.g. \
                \"%(asctime)s %(levelname)s %(message)s\""
            .to_owned();
    };
    let fix = match converted {
        Some(converted) => format!("write it as {converted:?}"),
        None => "write each {name} as %(name)s, with %-style flags and width".to_owned(),
    };
    format!(
        "no %(name)s field: this looks like a {style} format, but this encoder takes Python's \
         %-style (the default style='%'); {fix}"
    )
}

/// Whether `name` is a field name as CPython's validation patterns accept it (`\w+`).
fn is_field_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// The fields of a brace-style format: (byte range of `{...}`, the text inside the braces).
/// `{{` and `}}` are literal braces.
fn brace_fields(format: &str) -> impl Iterator<Item = (std::ops::Range<usize>, &str)> {
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(open) = format[from..].find('{').map(|i| from + i) {
            if format[open + 1..].starts_with('{') {
                from = open + 2;
                continue;
            }
            let close = format[open..].find('}').map(|i| open + i)?;
            from = close + 1;
            let inner = &format[open + 1..close];
            if is_field_name(inner.split([':', '!']).next().unwrap_or("")) {
                return Some((open..close + 1, inner));
            }
        }
        None
    })
}

/// The `${name}` and `$name` fields of a dollar-style format: (byte range, name).
fn dollar_fields(format: &str) -> impl Iterator<Item = (std::ops::Range<usize>, &str)> {
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(dollar) = format[from..].find('$').map(|i| from + i) {
            let rest = &format[dollar + 1..];
            from = dollar + 1;
            // string.Template identifiers do not start with a digit (`$5` is a price).
            let identifier =
                |name: &str| is_field_name(name) && !name.starts_with(|c: char| c.is_ascii_digit());
            if let Some(braced) = rest.strip_prefix('{') {
                if let Some(close) = braced.find('}') {
                    let name = &braced[..close];
                    if identifier(name) {
                        from = dollar + 2 + close + 1;
                        return Some((dollar..from, name));
                    }
                }
            } else {
                let len = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                if identifier(&rest[..len]) {
                    from = dollar + 1 + len;
                    return Some((dollar..from, &rest[..len]));
                }
            }
        }
        None
    })
}

/// A dollar-style format in %-style: `${name}` and `$name` become `%(name)s`, `$$` a `$`,
/// a literal `%` becomes `%%`.
fn dollar_to_percent_style(format: &str) -> String {
    let mut out = String::with_capacity(format.len() + 8);
    let mut at = 0;
    for (range, name) in dollar_fields(format) {
        out.push_str(
            &format[at..range.start]
                .replace("$$", "$")
                .replace('%', "%%"),
        );
        out.push_str("%(");
        out.push_str(name);
        out.push_str(")s");
        at = range.end;
    }
    out.push_str(&format[at..].replace("$$", "$").replace('%', "%%"));
    out
}

/// A brace-style format in %-style, when every field's spec has a %-style equivalent
/// (`{levelname:<8}` is `%(levelname)-8s`, `{created:.3f}` is `%(created).3f`); `None` for specs
/// %-style cannot express (centring, fill characters, `,` grouping, `%` and `n` types).
fn brace_to_percent_style(format: &str) -> Option<String> {
    let literal = |text: &str| {
        text.replace("{{", "{")
            .replace("}}", "}")
            .replace('%', "%%")
    };
    let mut out = String::with_capacity(format.len() + 8);
    let mut at = 0;
    for (range, inner) in brace_fields(format) {
        out.push_str(&literal(&format[at..range.start]));
        out.push_str(&brace_field_to_percent(inner)?);
        at = range.end;
    }
    out.push_str(&literal(&format[at..]));
    Some(out)
}

/// One `name[!conversion][:spec]` of str.format as a %-style field.
fn brace_field_to_percent(inner: &str) -> Option<String> {
    let (head, spec) = inner.split_once(':').unwrap_or((inner, ""));
    let (name, conversion) = head.split_once('!').unwrap_or((head, ""));
    let mut spec: Vec<char> = spec.chars().collect();
    let mut flags = String::new();
    // [[fill]align]: only a space fill and left/right alignment exist in %-style.
    let align_at = match spec.as_slice() {
        [_, a, ..] if "<>=^".contains(*a) => Some(1),
        [a, ..] if "<>=^".contains(*a) => Some(0),
        _ => None,
    };
    let mut explicit_align = false;
    if let Some(i) = align_at {
        if i == 1 && spec[0] != ' ' {
            return None;
        }
        match spec[i] {
            '<' => flags.push('-'),
            '>' => {}
            _ => return None,
        }
        explicit_align = true;
        spec.drain(..=i);
    }
    let mut rest: String = spec.into_iter().collect();
    // [sign][z][#][0]: `-` is the default sign; `z` has no %-style equivalent.
    if let Some(sign) = rest.chars().next().filter(|c| "+- ".contains(*c)) {
        if sign != '-' {
            flags.push(sign);
        }
        rest.remove(0);
    }
    if rest.starts_with('z') {
        return None;
    }
    for flag in ['#', '0'] {
        if rest.starts_with(flag) {
            flags.push(flag);
            rest.remove(0);
        }
    }
    let width_len = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let width = rest[..width_len].to_owned();
    rest.drain(..width_len);
    let mut precision = String::new();
    if let Some(r) = rest.strip_prefix('.') {
        let len = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
        precision = format!(".{}", &r[..len]);
        rest = r[len..].to_owned();
    }
    let conversion = match (conversion, rest.as_str()) {
        ("r", "" | "s") => 'r',
        ("a", "" | "s") => 'a',
        ("" | "s", "") => 's',
        ("", t) if t.len() == 1 && "sdoxXeEfFgGc".contains(t) => t.chars().next()?,
        _ => return None,
    };
    // str.format left-aligns text by default, %-style right-aligns everything.
    let text = matches!(
        name,
        "name"
            | "levelname"
            | "pathname"
            | "filename"
            | "module"
            | "funcName"
            | "asctime"
            | "threadName"
            | "message"
    ) || "ra".contains(conversion);
    if !explicit_align && !width.is_empty() && text && "sra".contains(conversion) {
        flags.insert(0, '-');
    }
    Some(format!("%({name}){flags}{width}{precision}{conversion}"))
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
        parse(format, &[], false).expect_err(format)
    }

    #[test]
    fn parses_fields_flags_width_precision_and_literals() {
        let s = parse(
            "[%(levelname)-8s] %(msecs)03.1f %% %(user_id)s",
            &["user_id"],
            false,
        )
        .unwrap();
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
        let s = parse("%(a(b))s", &["a(b)"], false).unwrap();
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

    #[test]
    fn a_format_without_a_field_is_refused_naming_the_style_it_looks_like() {
        let brace = problem("{asctime} {levelname:<8} {message!r} 100%");
        assert!(
            brace.problem.contains("str.format (brace"),
            "{}",
            brace.problem
        );
        assert!(
            brace
                .problem
                .contains(r#""%(asctime)s %(levelname)-8s %(message)r 100%%""#),
            "{}",
            brace.problem
        );
        let dollar = problem("${asctime} $levelname: ${message}");
        assert!(
            dollar.problem.contains("string.Template (dollar"),
            "{}",
            dollar.problem
        );
        assert!(
            dollar
                .problem
                .contains(r#""%(asctime)s %(levelname)s: %(message)s""#),
            "{}",
            dollar.problem
        );
        for plain in ["hello", "100%% done", "cost: $5"] {
            let p = problem(plain);
            assert!(
                p.problem.contains("no %(name)s field"),
                "{plain}: {}",
                p.problem
            );
        }
        assert!(
            parse("Alert from prod", &[], true).is_ok(),
            "a subject may be plain text"
        );
        // "$5" is not a field name, so "cost: $5" reads as plain text.
        assert!(!problem("cost: $5").problem.contains("dollar"));
    }
}
