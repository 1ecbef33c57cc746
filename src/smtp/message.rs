//! Turning a digest into a mail: the subject (sanitized, truncated, UTF-8 encoded by lettre),
//! the body, and the envelope.

use lettre::address::Envelope;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue, To};
use lettre::message::{Mailbox, Mailboxes, Message};

use crate::encode::PythonEncoder;

/// The subject format when none is configured (python-style placeholders).
pub const DEFAULT_SUBJECT: &str = "%(levelname)s in %(name)s: %(message)s";

/// The body format (one line per record) when no `encoder` is configured.
pub const DEFAULT_BODY_FORMAT: &str =
    "%(asctime)s %(levelname)s [%(name)s] %(message)s (%(filename)s:%(lineno)d)";

/// Subjects longer than this many characters are cut (at a character boundary) and end in `…`.
pub const MAX_SUBJECT_CHARS: usize = 160;

/// The encoder used for the mail body when none is configured.
pub(crate) fn default_body_encoder() -> anyhow::Result<PythonEncoder> {
    PythonEncoder::new(DEFAULT_BODY_FORMAT)
        .map_err(|e| anyhow::anyhow!("the default body format does not parse: {e}"))
}

/// Makes `text` safe for a mail header: every control character (CR, LF, TAB, NUL, DEL, the C1
/// range) and Unicode line/paragraph separators become a space, runs of whitespace collapse to
/// one, and the result is cut to `max_chars` characters, ending in `…` when cut. Non-ASCII text
/// is kept: lettre encodes it (RFC 2047) when it writes the header.
///
/// ```ignore
/// assert_eq!(sanitize_header("a\r\nBcc: x@y.z", 100), "a Bcc: x@y.z");
/// ```
pub(crate) fn sanitize_header(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    let mut pending_space = false;
    let mut chars = 0usize;
    let mut cut = false;
    for c in text.chars() {
        let blank = c.is_control() || c.is_whitespace() || c == '\u{2028}' || c == '\u{2029}';
        if blank {
            pending_space = !out.is_empty();
            continue;
        }
        let needed = usize::from(pending_space) + 1;
        if chars + needed > max_chars.saturating_sub(1) {
            cut = true;
            break;
        }
        if pending_space {
            out.push(' ');
            chars += 1;
            pending_space = false;
        }
        out.push(c);
        chars += 1;
    }
    if cut {
        out.push('…');
    }
    out
}

/// What a digest turns into before it becomes a message.
#[derive(Debug)]
pub(crate) struct DigestMail {
    /// The subject of the first record in the digest, rendered, not yet sanitized.
    pub subject: String,
    /// Records (at or above the threshold) this mail accounts for, including suppressed and
    /// dropped ones.
    pub records: u64,
    /// The plain-text body.
    pub body: String,
}

/// A composed mail waiting for delivery.
#[derive(Clone, Debug)]
pub(crate) struct OutgoingMail {
    pub envelope: Envelope,
    pub bytes: Vec<u8>,
    /// When the mail was composed (or loaded from the spool).
    pub created: std::time::Instant,
    /// The spool file holding this mail, once it has been written there.
    pub spooled: Option<std::path::PathBuf>,
}

/// `X-Log4rs-Records: N`: how many records the mail accounts for (machine-readable, for filters
/// and for tests).
#[derive(Clone, Debug)]
struct RecordsHeader(u64);

impl Header for RecordsHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Log4rs-Records")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(RecordsHeader(s.trim().parse()?))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.to_string())
    }
}

/// How many records a composed mail accounts for: its `X-Log4rs-Records` header (None for bytes
/// without one, which this crate never composes).
pub(crate) fn records_in(mail: &[u8]) -> Option<u64> {
    let name = RecordsHeader::name();
    mail.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            let (key, value) = std::str::from_utf8(l).ok()?.split_once(':')?;
            (key == &*name).then_some(value)
        })
        .and_then(|v| v.trim().parse().ok())
}

/// With more recipients than this, the `To:` header says `undisclosed-recipients:;` and the
/// recipients are in the envelope only (`RCPT TO`), as for `Bcc`: a header listing hundreds of
/// addresses helps no reader, and every recipient would see everyone else's address.
pub const MAX_TO_HEADER_RECIPIENTS: usize = 50;

/// Header lines are folded to this length where they can be (RFC 5322 section 2.1.1: SHOULD
/// 78, MUST 998, both without the CRLF).
const FOLD_AT: usize = 78;
/// The hard limit of RFC 5322 on a header line, without the CRLF.
const MAX_LINE: usize = 998;

/// Sender and recipients, validated once when the appender is built, with what every mail
/// reuses: the envelope and the folded `To:` header (built once, in one pass over the
/// recipients: building the header a recipient at a time was quadratic).
#[derive(Clone, Debug)]
pub(crate) struct Addressing {
    pub from: Mailbox,
    envelope: Envelope,
    to_header: ToHeader,
}

impl Addressing {
    /// Checks that `to` fits a mail: at least one recipient, and each one short enough for a
    /// header line.
    pub(crate) fn new(from: Mailbox, to: &[Mailbox]) -> anyhow::Result<Addressing> {
        let envelope = Envelope::new(
            Some(from.email.clone()),
            to.iter().map(|m| m.email.clone()).collect(),
        )
        .map_err(|e| anyhow::anyhow!("field \"to\": {e}"))?;
        let to_header = if to.len() > MAX_TO_HEADER_RECIPIENTS {
            ToHeader("undisclosed-recipients:;".to_owned())
        } else {
            let encoded = to
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let e = encoded_mailbox(m);
                    let longest = e.split("\r\n").map(str::len).max().unwrap_or(0);
                    if longest + "To: ".len() + 1 > MAX_LINE {
                        anyhow::bail!(
                            "field \"to[{i}]\": {} characters, too long for a mail header line \
                             (RFC 5322 allows {MAX_LINE})",
                            e.len()
                        );
                    }
                    Ok(e)
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            ToHeader(fold_list(&encoded, "To: ".len()))
        };
        Ok(Addressing {
            from,
            envelope,
            to_header,
        })
    }
}

/// One mailbox as lettre writes it in a header (quoted or RFC 2047-encoded name).
fn encoded_mailbox(mailbox: &Mailbox) -> String {
    let mut headers = lettre::message::header::Headers::new();
    headers.set(To::from(Mailboxes::from(mailbox.clone())));
    let line = headers.to_string();
    line.strip_prefix("To: ")
        .and_then(|l| l.strip_suffix("\r\n"))
        .unwrap_or(&line)
        .to_owned()
}

/// `items` joined with `, `, starting a new line (CRLF and a space: RFC 5322 folding) before an
/// item that would take the line past [`FOLD_AT`]; `first_line_used` is the header name's
/// length. One pass: linear in the total length.
fn fold_list(items: &[String], first_line_used: usize) -> String {
    let mut out = String::with_capacity(items.iter().map(|i| i.len() + 3).sum());
    let mut line = first_line_used;
    for (n, item) in items.iter().enumerate() {
        // An item may already hold folds (a long encoded name): its first line is what counts.
        let first = item.split("\r\n").next().unwrap_or(item).len();
        if n > 0 {
            out.push(',');
            line += 1;
            if line + 1 + first > FOLD_AT {
                out.push_str("\r\n ");
                line = 1;
            } else {
                out.push(' ');
                line += 1;
            }
        }
        out.push_str(item);
        line = match item.rsplit_once("\r\n") {
            Some((_, last)) => last.len(),
            None => line + item.len(),
        };
    }
    out
}

/// The `To:` header, folded once when the appender is built (lettre's own `To` does not fold
/// between addresses, and is rebuilt from scratch for every added address).
#[derive(Clone, Debug)]
struct ToHeader(String);

impl Header for ToHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("To")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ToHeader(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        // Encoded by lettre mailbox by mailbox (ASCII, no bare CR or LF), folded by us.
        HeaderValue::dangerous_new_pre_encoded(Self::name(), self.0.clone(), self.0.clone())
    }
}

/// Builds the message for `digest`.
pub(crate) fn compose(addressing: &Addressing, digest: DigestMail) -> anyhow::Result<OutgoingMail> {
    let mut subject = digest.subject;
    if digest.records > 1 {
        // Keep the count visible even when the subject is cut.
        let suffix = format!(" (+{} more)", digest.records - 1);
        let head = sanitize_header(
            &subject,
            MAX_SUBJECT_CHARS.saturating_sub(suffix.chars().count()),
        );
        subject = head + &suffix;
    } else {
        subject = sanitize_header(&subject, MAX_SUBJECT_CHARS);
    }
    let message = Message::builder()
        .from(addressing.from.clone())
        .header(addressing.to_header.clone())
        .envelope(addressing.envelope.clone())
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .header(RecordsHeader(digest.records))
        .body(digest.body)
        .map_err(|e| anyhow::anyhow!("cannot build the mail: {e}"))?;
    Ok(OutgoingMail {
        envelope: message.envelope().clone(),
        bytes: message.formatted(),
        created: std::time::Instant::now(),
        spooled: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_survive_into_a_header() {
        let s = sanitize_header("boom\r\nBcc: victim@example.com\u{0}\u{7f}\u{85}\t x", 200);
        assert_eq!(s, "boom Bcc: victim@example.com x");
        assert!(!s.chars().any(|c| c.is_control()));
    }

    #[test]
    fn long_subjects_are_cut_at_a_character_boundary() {
        let s = sanitize_header(&"é".repeat(500), 20);
        assert_eq!(s.chars().count(), 20);
        assert!(s.ends_with('…'));
        assert_eq!(sanitize_header("short", 20), "short");
    }

    fn mailboxes(n: usize) -> Vec<Mailbox> {
        (0..n)
            .map(|i| format!("oncall-{i}@example.com").parse().unwrap())
            .collect()
    }

    fn digest() -> DigestMail {
        DigestMail {
            subject: "ERROR in app: boom".into(),
            records: 1,
            body: "boom\n".into(),
        }
    }

    fn header_lines(bytes: &[u8]) -> Vec<String> {
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let head = text.split("\r\n\r\n").next().unwrap().to_owned();
        head.split("\r\n").map(str::to_owned).collect()
    }

    #[test]
    fn a_composed_mail_says_how_many_records_it_holds() {
        let from: Mailbox = "app@example.com".parse().unwrap();
        let mut d = digest();
        d.records = 42;
        d.body = "X-Log4rs-Records: 7\n".into(); // in the body, not a header
        let mail = compose(&Addressing::new(from, &mailboxes(1)).unwrap(), d).unwrap();
        assert_eq!(records_in(&mail.bytes), Some(42));
        assert_eq!(
            records_in(b"Subject: x\r\n\r\nX-Log4rs-Records: 7\r\n"),
            None
        );
    }

    #[test]
    fn a_long_to_header_is_folded_within_78_characters_and_lists_everyone() {
        let to = mailboxes(MAX_TO_HEADER_RECIPIENTS);
        let from: Mailbox = "app@example.com".parse().unwrap();
        let mail = compose(&Addressing::new(from, &to).unwrap(), digest()).unwrap();
        let lines = header_lines(&mail.bytes);
        assert!(lines.iter().all(|l| l.len() <= FOLD_AT), "{lines:#?}");
        // The To: header and its continuation lines, unfolded, list every recipient in order.
        let start = lines.iter().position(|l| l.starts_with("To: ")).unwrap();
        let mut unfolded = lines[start]["To: ".len()..].to_owned();
        for l in lines[start + 1..].iter().take_while(|l| l.starts_with(' ')) {
            unfolded.push_str(l);
        }
        let listed: Vec<&str> = unfolded.split(", ").collect();
        let expected: Vec<String> = to.iter().map(|m| m.email.to_string()).collect();
        assert_eq!(listed, expected);
        assert_eq!(mail.envelope.to().len(), MAX_TO_HEADER_RECIPIENTS);
    }

    #[test]
    fn beyond_the_threshold_recipients_are_in_the_envelope_only() {
        let to = mailboxes(10_000);
        let from: Mailbox = "app@example.com".parse().unwrap();
        let mail = compose(&Addressing::new(from, &to).unwrap(), digest()).unwrap();
        let lines = header_lines(&mail.bytes);
        assert!(
            lines.contains(&"To: undisclosed-recipients:;".to_owned()),
            "{lines:#?}"
        );
        assert!(lines.iter().all(|l| l.len() <= FOLD_AT), "{lines:#?}");
        assert_eq!(mail.envelope.to().len(), 10_000);
        assert_eq!(
            mail.envelope.to()[9_999].to_string(),
            "oncall-9999@example.com"
        );
    }

    #[test]
    fn names_keep_their_encoding_and_a_mailbox_too_long_for_a_line_is_refused() {
        let to: Vec<Mailbox> = vec![
            "Ops Team <ops@example.com>".parse().unwrap(),
            "Zoë Ünïcode <zoe@example.com>".parse().unwrap(),
        ];
        let from: Mailbox = "app@example.com".parse().unwrap();
        let mail = compose(&Addressing::new(from.clone(), &to).unwrap(), digest()).unwrap();
        let text = String::from_utf8(mail.bytes).unwrap();
        assert!(
            text.contains("To: \"Ops Team\" <ops@example.com>,\r\n =?utf-8?b?"),
            "{text}"
        );
        assert!(text.is_ascii());
        let long: Mailbox = format!("{} <long@example.com>", "N".repeat(1200))
            .parse()
            .unwrap();
        let e = Addressing::new(from, &[long]).unwrap_err().to_string();
        assert!(e.contains("to[0]") && e.contains("998"), "{e}");
    }
}
