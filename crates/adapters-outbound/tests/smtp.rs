//! `SmtpMailer` against a fake SMTP server on loopback, written here with tokio: it speaks just
//! enough SMTP and records each session (docs/api.md, "Email to invitees").

use std::time::Duration;

use adapters_outbound::{SmtpConfig, SmtpMailer};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use domain::webhooks::delivery::InvitationEmail;
use domain::webhooks::ports::{MailResult, Mailer};
use domain::{Email, InvitationId, Text};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How the fake server behaves.
#[derive(Clone, Copy)]
struct Script {
    /// Accept connections and never say anything.
    silent: bool,
    /// Offer `AUTH PLAIN` in the EHLO answer, and answer it with this.
    auth_reply: Option<&'static str>,
    /// The answer to `RCPT TO`.
    rcpt_reply: &'static str,
}

const FRIENDLY: Script = Script {
    silent: false,
    auth_reply: None,
    rcpt_reply: "250 2.1.5 OK",
};

/// One SMTP session as the server saw it.
#[derive(Debug, Default)]
struct Session {
    auth: Option<String>,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
    data: Option<String>,
    quit: bool,
}

async fn smtp_server(script: Script) -> (u16, mpsc::UnboundedReceiver<Session>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sessions, received) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let sessions = sessions.clone();
            tokio::spawn(async move {
                if script.silent {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    drop(socket);
                    return;
                }
                let _ = sessions.send(converse(socket, script).await);
            });
        }
    });
    (port, received)
}

async fn converse(socket: TcpStream, script: Script) -> Session {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut session = Session::default();
    if !say(&mut write, "220 fake.test ESMTP\r\n").await {
        return session;
    }
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let reply = if upper.starts_with("EHLO") {
            match script.auth_reply {
                Some(_) => "250-fake.test\r\n250-AUTH PLAIN\r\n250 8BITMIME".to_owned(),
                None => "250-fake.test\r\n250 8BITMIME".to_owned(),
            }
        } else if upper.starts_with("AUTH PLAIN ") {
            session.auth = Some(line["AUTH PLAIN ".len()..].to_owned());
            script.auth_reply.unwrap_or("503 no auth").to_owned()
        } else if upper.starts_with("MAIL FROM:") {
            session.mail_from = Some(line["MAIL FROM:".len()..].to_owned());
            "250 2.1.0 OK".to_owned()
        } else if upper.starts_with("RCPT TO:") {
            session.rcpt_to.push(line["RCPT TO:".len()..].to_owned());
            script.rcpt_reply.to_owned()
        } else if upper == "DATA" {
            if !say(&mut write, "354 go ahead\r\n").await {
                break;
            }
            let mut data = Vec::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "." {
                    break;
                }
                data.push(line);
            }
            session.data = Some(data.join("\n"));
            "250 2.0.0 queued".to_owned()
        } else if upper == "QUIT" {
            session.quit = true;
            let _ = say(&mut write, "221 bye\r\n").await;
            break;
        } else if upper == "RSET" || upper == "NOOP" {
            "250 OK".to_owned()
        } else {
            "502 command not implemented".to_owned()
        };
        if !say(&mut write, &format!("{reply}\r\n")).await {
            break;
        }
    }
    session
}

async fn say(write: &mut OwnedWriteHalf, text: &str) -> bool {
    write.write_all(text.as_bytes()).await.is_ok()
}

fn mailer_at(url: &str, timeout: Duration) -> SmtpMailer {
    let mut config = SmtpConfig::parse(url, "Event Manager <no-reply@example.com>").unwrap();
    config.timeout = timeout;
    SmtpMailer::new(config).unwrap()
}

fn mailer(port: u16) -> SmtpMailer {
    mailer_at(&format!("smtp://127.0.0.1:{port}"), Duration::from_secs(10))
}

fn sara() -> Email {
    Email::parse("sara@example.com").unwrap()
}

fn invitation() -> InvitationEmail {
    InvitationEmail {
        to: sara(),
        resent: false,
        promoted: false,
        cancelled: false,
        invitation_id: "01a21a05-9441-76f9-a0c7-06ec14569ae0"
            .parse::<InvitationId>()
            .unwrap(),
        invitee_name: Some(Text::from_stored("Sara".to_owned())),
        sender_name: Text::from_stored("Olivia".to_owned()),
        event_title: Text::from_stored("Launch party".to_owned()),
        message: Some(Text::from_stored("Rooftop at 8 pm.".to_owned())),
        expires_at: Some("2026-12-12T10:00:00Z".parse().unwrap()),
        link: Some("https://events.example.com/i/AAECAwQFBgcICQoLDA0ODxAR".to_owned()),
        calendar: Some(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n".to_owned(),
        ),
        locale: domain::i18n::Locale::En,
        time_zone: domain::events::TimeZone::UTC,
        unsubscribe: Some("https://events.example.com/unsubscribe/AAEC.AwQF".to_owned()),
    }
}

async fn one_session(sessions: &mut mpsc::UnboundedReceiver<Session>) -> Session {
    tokio::time::timeout(Duration::from_secs(5), sessions.recv())
        .await
        .expect("a session within 5 s")
        .expect("the server is running")
}

#[tokio::test]
async fn a_composed_invitation_arrives_with_its_recipient_and_text() {
    let (port, mut sessions) = smtp_server(FRIENDLY).await;
    let mailer = mailer(port);
    let message = mailer.compose(&invitation());

    assert_eq!(mailer.send(&sara(), &message).await, MailResult::Sent);

    let session = one_session(&mut sessions).await;
    assert_eq!(session.mail_from.as_deref(), Some("<no-reply@example.com>"));
    assert_eq!(session.rcpt_to, ["<sara@example.com>"]);
    assert!(session.quit);
    // Both parts are quoted-printable: undo its soft line breaks and the one escape they use.
    let data = session
        .data
        .expect("the message")
        .replace("=\n", "")
        .replace("=3D", "=");
    for expected in [
        "From: \"Event Manager\" <no-reply@example.com>",
        "To: sara@example.com",
        "Subject: Olivia invited you to Launch party",
        "Content-Type: multipart/alternative",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Type: text/html; charset=utf-8",
        "Hello Sara,",
        "Olivia invited you to \"Launch party\".",
        "> Rooftop at 8 pm.",
        "Answer by Saturday 12 December 2026, 10:00 (UTC).",
        "To answer (yes, maybe or no), open:",
        "    https://events.example.com/i/AAECAwQFBgcICQoLDA0ODxAR",
        "<a href=\"https://events.example.com/i/AAECAwQFBgcICQoLDA0ODxAR\">",
        "Content-Type: text/calendar; charset=utf-8; method=REQUEST",
        "METHOD:REQUEST",
        "<p>Hello Sara,</p>",
        "<meta charset=\"utf-8\">",
        "</code></p>",
        // RFC 2369 and RFC 8058: the one-click unsubscribe, and the same link as the last line.
        "List-Unsubscribe: <https://events.example.com/unsubscribe/AAEC.AwQF>",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "Stop invitations to this address:\n    https://events.example.com/unsubscribe/AAEC.AwQF",
        "<a href=\"https://events.example.com/unsubscribe/AAEC.AwQF\">Stop these invitations</a>",
    ] {
        assert!(
            data.contains(expected),
            "{expected:?} missing from:\n{data}"
        );
    }
}

#[tokio::test]
async fn a_recipient_refused_for_good_is_permanent() {
    let (port, mut sessions) = smtp_server(Script {
        rcpt_reply: "550 5.1.1 No such user here",
        ..FRIENDLY
    })
    .await;
    let mailer = mailer(port);

    let result = mailer.send(&sara(), &mailer.compose(&invitation())).await;

    let MailResult::Permanent(reason) = result else {
        panic!("expected permanent, got {result:?}");
    };
    assert!(reason.contains("550"), "{reason}");
    assert!(reason.contains("No such user here"), "{reason}");
    assert!(one_session(&mut sessions).await.data.is_none());
}

#[tokio::test]
async fn a_recipient_refused_for_now_is_transient() {
    let (port, mut sessions) = smtp_server(Script {
        rcpt_reply: "451 4.3.0 Mailbox busy, try later",
        ..FRIENDLY
    })
    .await;
    let mailer = mailer(port);

    let result = mailer.send(&sara(), &mailer.compose(&invitation())).await;

    let MailResult::Transient(reason) = result else {
        panic!("expected transient, got {result:?}");
    };
    assert!(reason.contains("451"), "{reason}");
    assert!(one_session(&mut sessions).await.data.is_none());
}

#[tokio::test]
async fn a_server_that_never_answers_is_transient_within_the_timeout() {
    let (port, _sessions) = smtp_server(Script {
        silent: true,
        ..FRIENDLY
    })
    .await;
    let mailer = mailer_at(
        &format!("smtp://127.0.0.1:{port}"),
        Duration::from_millis(500),
    );
    let started = Instant::now();

    let result = mailer.send(&sara(), &mailer.compose(&invitation())).await;

    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
    let MailResult::Transient(reason) = result else {
        panic!("expected transient, got {result:?}");
    };
    assert!(reason.contains("did not finish within 0.5 s"), "{reason}");
}

#[tokio::test]
async fn credentials_are_percent_decoded_and_refused_ones_are_transient() {
    let (port, mut sessions) = smtp_server(Script {
        auth_reply: Some("235 2.7.0 Authentication successful"),
        ..FRIENDLY
    })
    .await;
    let url = format!("smtp://me%40example.com:p%3Ass%20w@127.0.0.1:{port}");
    let mailer = mailer_at(&url, Duration::from_secs(10));

    assert_eq!(
        mailer.send(&sara(), &mailer.compose(&invitation())).await,
        MailResult::Sent
    );
    let auth = one_session(&mut sessions).await.auth.expect("AUTH PLAIN");
    assert_eq!(STANDARD.decode(auth).unwrap(), b"\0me@example.com\0p:ss w");

    let (port, _sessions) = smtp_server(Script {
        auth_reply: Some("535 5.7.8 Authentication credentials invalid"),
        ..FRIENDLY
    })
    .await;
    let mailer = mailer_at(
        &format!("smtp://me:wrong@127.0.0.1:{port}"),
        Duration::from_secs(10),
    );
    let result = mailer.send(&sara(), &mailer.compose(&invitation())).await;
    let MailResult::Transient(reason) = result else {
        panic!("a setting to fix is no reason to give up the email: {result:?}");
    };
    assert!(reason.contains("535"), "{reason}");
}

#[tokio::test]
async fn no_server_is_transient_and_an_unreadable_message_is_permanent() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mailer = mailer(port);

    assert_eq!(
        mailer.send(&sara(), &mailer.compose(&invitation())).await,
        MailResult::Transient("the mail server refused the connection".to_owned())
    );
    assert_eq!(
        mailer.send(&sara(), "Hello Sara").await,
        MailResult::Permanent("the stored message cannot be read".to_owned())
    );
}
