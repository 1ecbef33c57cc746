//! The in-process debugging SMTP server, fed by an independent client (Python's smtplib).

mod support;

use std::process::Command;
use std::time::Duration;

use log4rs_appenders::debug_smtp::DebugSmtpServer;

fn python_send(port: u16, script_body: &str) {
    let script = format!(
        "import smtplib, sys\nfrom email.message import EmailMessage\n{script_body}\nwith smtplib.SMTP('127.0.0.1', {port}, timeout=10) as s:\n    s.send_message(m)\n"
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_multipart_mail_is_received_with_its_envelope_and_plain_text_body() {
    if !support::peer_available("python3", "apt-get install python3") {
        return;
    }
    let server = DebugSmtpServer::start("127.0.0.1:0").unwrap();
    python_send(
        server.local_addr().port(),
        "m = EmailMessage()\nm['Subject'] = 'Microblog Failure'\nm['From'] = 'no-reply@localhost'\nm['To'] = 'a@example.com, b@example.com'\nm.set_content('plain: UNIQUE constraint failed: user.username')\nm.add_alternative('<p>html part</p>', subtype='html')",
    );
    let mail = server
        .recv_timeout(Duration::from_secs(10))
        .expect("the mail should arrive");
    assert_eq!(mail.from, "no-reply@localhost");
    assert_eq!(mail.to, ["a@example.com", "b@example.com"]);
    assert_eq!(mail.subject(), "Microblog Failure");
    assert_eq!(
        mail.body().trim_end(),
        "plain: UNIQUE constraint failed: user.username"
    );
    assert!(
        mail.header("Content-Type")
            .unwrap()
            .starts_with("multipart/alternative")
    );
    assert!(server.try_recv().is_none(), "exactly one mail was sent");
}

/// Checked by connecting rather than by binding the port again: a rebind can race with any
/// other socket on the machine that the kernel gives that port. The check retries for a short,
/// bounded time because a process spawned by a test running in parallel (the smtplib client)
/// holds a copy of every descriptor between its fork and its exec, which keeps a just-closed
/// listener alive for that moment.
#[test]
fn dropping_the_server_stops_listening_on_its_port() {
    let server = DebugSmtpServer::start("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    assert!(
        std::net::TcpStream::connect(addr).is_ok(),
        "listening before drop"
    );
    drop(server);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match std::net::TcpStream::connect(addr) {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            other => assert!(
                std::time::Instant::now() < deadline,
                "something still listens on {addr} 2 s after the server was dropped: {other:?}"
            ),
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
