//! `smtp-debug-server`: prints every mail it receives, like Python's
//! `python -m smtpd -n -c DebuggingServer localhost:8025`.

use std::io::{self, Write};

use log4rs_appenders::debug_smtp::DebugSmtpServer;

/// Serves until `max_mails` mails were printed; a write error on `out` (a reader that went away)
/// ends the server and is returned.
pub fn run(listen: &str, max_mails: Option<usize>, out: &mut dyn Write) -> io::Result<bool> {
    let server = match DebugSmtpServer::start(listen) {
        Ok(s) => s,
        Err(e) => {
            let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
                " (another server is listening there; stop it or pick another port with --listen 127.0.0.1:PORT)"
            } else {
                " (give an address such as 127.0.0.1:8025 with --listen)"
            };
            eprintln!("cannot listen on {listen}: {e}{hint}");
            return Ok(false);
        }
    };
    let addr = server.local_addr();
    writeln!(
        out,
        "debugging SMTP server listening on {addr}: every mail is printed here, none is delivered"
    )?;
    writeln!(
        out,
        "point an smtp appender at it with `host: {}`, `port: {}`, `security: none`",
        addr.ip(),
        addr.port()
    )?;
    out.flush()?;
    for (count, mail) in server.mails().enumerate() {
        writeln!(out, "{mail}")?;
        out.flush()?;
        if max_mails.is_some_and(|max| count + 1 >= max) {
            break;
        }
    }
    Ok(true)
}
