//! The settings as a deployment writes them: defaults, ranges and one-line errors.

use super::*;

fn with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_lookup(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
}

#[test]
fn defaults_need_no_variables() {
    let config = with(&[]).unwrap();
    assert_eq!(
        config.database_url.expose_secret(),
        Config::DEFAULT_DATABASE_URL
    );
    assert_eq!(config.bind_addr.to_string(), "127.0.0.1:8080");
    assert_eq!(config.database_pool_size, 10);
    assert_eq!(config.database_timeout, Duration::from_secs(2));
    let database = config.database();
    assert_eq!(database.statement_timeout, Duration::from_secs(5));
    assert_eq!(database.lock_timeout, Duration::from_secs(3));
    assert_eq!(
        database.idle_in_transaction_timeout,
        Duration::from_secs(10)
    );
    assert_eq!(config.token_ttl_days, 30);
    assert_eq!(config.request_body_timeout, Duration::from_secs(10));
    assert_eq!(config.token_purge_interval, Some(Duration::from_secs(3600)));
    assert_eq!(
        with(&[("TOKEN_PURGE_INTERVAL_SECS", "0")])
            .unwrap()
            .token_purge_interval,
        None
    );
    assert_eq!(config.phone_region.code(), "IR");
    assert_eq!(config.log_format, LogFormat::Pretty);
    assert!(config.cors_allowed_origins.is_empty());
    assert!(config.cursor_secret.is_none());
    assert_eq!(config.invitation_ttl, InvitationTtl::DEFAULT);
    assert_eq!(
        config.invitation_sweep_interval,
        Some(Duration::from_secs(60))
    );
    assert_eq!(
        config.reminder_sweep_interval,
        Some(Duration::from_secs(30))
    );
}

#[test]
fn invitation_ttl_is_a_duration_or_0_and_a_bad_one_stops_the_start_naming_it() {
    let ttl = |v: &str| with(&[("INVITATION_TTL", v)]).map(|c| c.invitation_ttl);
    assert_eq!(ttl("36h").unwrap(), InvitationTtl::parse("36h").unwrap());
    assert_eq!(ttl(" 90s ").unwrap(), InvitationTtl::parse("90s").unwrap());
    assert_eq!(ttl("0").unwrap(), InvitationTtl::NEVER);
    for bad in ["7", "7days", "1.5d", "-1d", "7 d", "3651d"] {
        let message = ttl(bad).unwrap_err().to_string();
        assert!(
            message.starts_with(&format!("invalid INVITATION_TTL=\"{bad}\": ")),
            "{message}"
        );
    }
    let sweep = |v: &str| {
        with(&[("INVITATION_SWEEP_INTERVAL_SECS", v)]).map(|c| c.invitation_sweep_interval)
    };
    assert_eq!(sweep("0").unwrap(), None);
    assert_eq!(sweep("5").unwrap(), Some(Duration::from_secs(5)));
    assert!(sweep("-1").is_err() && sweep("86401").is_err());
    let reminders =
        |v: &str| with(&[("REMINDER_SWEEP_INTERVAL_SECS", v)]).map(|c| c.reminder_sweep_interval);
    assert_eq!(reminders("0").unwrap(), None);
    assert_eq!(reminders("1").unwrap(), Some(Duration::from_secs(1)));
    assert!(reminders("-1").is_err() && reminders("3601").is_err());
}

#[test]
fn a_cursor_secret_needs_32_bytes_and_is_never_echoed() {
    let secret = "0123456789abcdef0123456789abcdef";
    let config = with(&[("CURSOR_SECRET", secret)]).unwrap();
    assert_eq!(config.cursor_secret.unwrap().expose_secret(), secret);
    let message = with(&[("CURSOR_SECRET", &secret[1..])])
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        "invalid CURSOR_SECRET=\"<31 bytes>\": at least 32 bytes"
    );
}

#[test]
fn a_bad_value_is_named_in_one_line() {
    for (name, value) in [
        ("BIND_ADDR", "nowhere"),
        ("DATABASE_POOL_SIZE", "0"),
        ("DATABASE_POOL_SIZE", "ten"),
        ("DATABASE_STATEMENT_TIMEOUT_MS", "0"),
        ("DATABASE_LOCK_TIMEOUT_MS", "3s"),
        ("DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS", "99"),
        ("DEFAULT_PHONE_REGION", "XX"),
        ("TOKEN_TTL_DAYS", "-1"),
        ("TOKEN_PURGE_INTERVAL_SECS", "hourly"),
        ("REQUEST_BODY_TIMEOUT_SECS", "0"),
        ("LOG_FORMAT", "xml"),
        ("CORS_ALLOWED_ORIGINS", "example.com"),
        ("LOGIN_FAILURES_PER_ACCOUNT", "many"),
        ("SEND_INVITATIONS_PER_USER", "-3"),
        ("REGISTRATIONS_PER_ADDRESS", "ten"),
        ("TRUSTED_PROXIES", "10.0.0.0/33"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318/?a=b"),
    ] {
        let message = with(&[(name, value)]).unwrap_err().to_string();
        assert!(
            message.starts_with(&format!("invalid {name}=")),
            "{message}"
        );
        assert!(!message.contains('\n'));
    }
}

#[test]
fn values_are_read() {
    let config = with(&[
        ("BIND_ADDR", "0.0.0.0:9000"),
        ("DEFAULT_PHONE_REGION", "us"),
        ("LOG_FORMAT", "json"),
        ("DATABASE_LOCK_TIMEOUT_MS", "1500"),
        ("TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7"),
        (
            "CORS_ALLOWED_ORIGINS",
            "https://a.example, http://localhost:3000/",
        ),
    ])
    .unwrap();
    assert_eq!(config.bind_addr.port(), 9000);
    assert_eq!(config.phone_region.code(), "US");
    assert_eq!(config.log_format, LogFormat::Json);
    assert_eq!(config.database().lock_timeout, Duration::from_millis(1500));
    assert_eq!(
        config.trusted_proxies,
        http_actix::TrustedProxies::new(vec![
            "10.0.0.0/8".parse().unwrap(),
            "192.0.2.7/32".parse().unwrap()
        ])
    );
    assert_eq!(
        config.cors_allowed_origins,
        ["https://a.example", "http://localhost:3000"]
    );
}

#[test]
fn a_blank_variable_is_unset_and_values_are_trimmed() {
    let config = with(&[
        ("BIND_ADDR", "  "),
        ("METRICS_BIND_ADDR", ""),
        ("SMTP_URL", " "),
        ("TOKEN_TTL_DAYS", " 7 "),
    ])
    .unwrap();
    assert_eq!(config.bind_addr.to_string(), "127.0.0.1:8080");
    assert_eq!(config.metrics_bind_addr, None);
    assert!(matches!(config.email, EmailTransport::Files(_)));
    assert_eq!(config.token_ttl_days, 7);
}

#[test]
fn the_defaults_are_the_domains_and_the_adapters() {
    let config = with(&[]).unwrap();
    assert_eq!(config.rate_limits, http_actix::RateLimits::default());
    assert_eq!(
        config.retry_policy.schedule,
        RetryPolicy::default().schedule
    );
    assert_eq!(
        config.retry_policy.disable_after,
        RetryPolicy::default().disable_after
    );
    assert_eq!(
        config.trusted_proxies,
        http_actix::TrustedProxies::default()
    );
    assert_eq!(
        config.database().pool_size,
        DatabaseConfig::DEFAULT_POOL_SIZE
    );
}

#[test]
fn traces_are_off_without_an_endpoint_and_posted_under_v1_traces() {
    let config = with(&[("OTEL_SERVICE_NAME", "ignored")]).unwrap();
    assert_eq!(config.traces, None);
    let traces = |endpoint: &str| {
        with(&[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)])
            .unwrap()
            .traces
            .unwrap()
    };
    let export = traces("http://collector:4318");
    assert_eq!(export.service_name, "event-manager");
    assert_eq!(export.traces_url(), "http://collector:4318/v1/traces");
    assert_eq!(
        traces("https://otel.example/base/").traces_url(),
        "https://otel.example/base/v1/traces"
    );
    let named = with(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
        ("OTEL_SERVICE_NAME", " events-eu "),
    ])
    .unwrap();
    assert_eq!(named.traces.unwrap().service_name, "events-eu");
}

/// Every setting's parser names its own variable: a value none accepts is reported under the
/// name it was given as.
#[test]
fn every_variable_names_itself_when_its_value_is_bad() {
    let command = Settings::augment_args(clap::Command::new("event-manager"));
    let names: Vec<&str> = command
        .get_arguments()
        .map(|arg| arg.get_env().and_then(|name| name.to_str()).unwrap())
        .collect();
    assert_eq!(names.len(), 62);
    for name in names {
        match (name, with(&[(name, "?")])) {
            // Any text is a database URL or a service name until it is used, and any path a
            // directory.
            (
                "DATABASE_URL"
                | "DATABASE_LISTEN_URL"
                | "DATABASE_READ_URL"
                | "OTEL_SERVICE_NAME"
                | "OUTBOX_DIR",
                result,
            ) => {
                assert!(result.is_ok(), "{name}");
            }
            ("SMTP_URL", result) => assert_eq!(result.unwrap_err().name, "SMTP_FROM"),
            (name, result) => {
                let message = result.unwrap_err().to_string();
                assert!(
                    message.starts_with(&format!("invalid {name}=")),
                    "{message}"
                );
            }
        }
    }
}

#[test]
fn without_smtp_url_emails_are_files_in_the_outbox_and_none_turns_them_off() {
    let config = with(&[]).unwrap();
    let EmailTransport::Files(mailer) = &config.email else {
        panic!("{:?}", config.email)
    };
    assert!(mailer.dir().is_absolute());
    assert!(mailer.dir().ends_with("data/outbox/mail"));
    assert_eq!(
        config.email.to_string(),
        format!("files in {} (SMTP_URL unset)", mailer.dir().display())
    );

    let config = with(&[
        ("OUTBOX_DIR", " /srv/outbox "),
        ("SMTP_FROM", "me@example.com"),
    ])
    .unwrap();
    assert_eq!(
        config.email.to_string(),
        "files in /srv/outbox/mail (SMTP_URL unset)"
    );
    assert_eq!(
        config.sms.to_string(),
        "files in /srv/outbox/sms (SMS_URL unset)"
    );

    let off = with(&[("SMTP_URL", "none"), ("SMTP_FROM", "not a mailbox")]).unwrap();
    assert!(matches!(off.email, EmailTransport::Off));
    assert_eq!(off.email.to_string(), "off (SMTP_URL=none)");

    let message = with(&[("SMTP_FROM", "not a mailbox")])
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("invalid SMTP_FROM=\"not a mailbox\": expected a mailbox"),
        "{message}"
    );
}

#[test]
fn a_mail_server_is_shown_without_its_password() {
    let email = |url: &str| {
        with(&[("SMTP_URL", url), ("SMTP_FROM", "no-reply@example.com")])
            .unwrap()
            .email
            .to_string()
    };
    assert_eq!(
        email("smtp://me%40example.com:s3cret@mail.example.com:587"),
        "smtp://me%40example.com:***@mail.example.com:587"
    );
    assert_eq!(
        email("smtps://mail.example.com"),
        "smtps://mail.example.com:465"
    );
    assert_eq!(email("smtp://[::1]:2525"), "smtp://[::1]:2525");
    let message = with(&[("SMTP_URL", "smtp://me:s3cret@mail.example.com/x")])
        .unwrap_err()
        .to_string();
    assert_eq!(message.lines().count(), 1);
    assert!(!message.contains("s3cret"), "{message}");
}

#[test]
fn sms_url_names_a_gateway_or_none_and_a_bad_one_is_one_line_without_secrets() {
    let config = with(&[]).unwrap();
    let SmsTransport::Files(sender) = &config.sms else {
        panic!("{:?}", config.sms)
    };
    assert!(sender.dir().is_absolute() && sender.dir().ends_with("data/outbox/sms"));
    assert_eq!(config.sms_timeout, Duration::from_secs(15));

    let off = with(&[("SMS_URL", " none ")]).unwrap();
    assert_eq!(off.sms.to_string(), "off (SMS_URL=none)");

    let config = with(&[
        ("SMS_URL", "kannel://em:p%40ss@10.0.0.5:13013?from=EventMgr"),
        ("SMS_TIMEOUT_SECS", "5"),
    ])
    .unwrap();
    let SmsTransport::Gateway(url) = &config.sms else {
        panic!("{:?}", config.sms)
    };
    assert_eq!(url.gateway(), adapters_outbound::SmsGateway::Kannel);
    assert_eq!(config.sms_timeout, Duration::from_secs(5));
    assert_eq!(
        config.sms.to_string(),
        "kannel://em:***@10.0.0.5:13013?from=EventMgr"
    );
    assert_eq!(
        with(&[("SMS_URL", "kavenegar://K3Y@api.kavenegar.com")])
            .unwrap()
            .sms
            .to_string(),
        "kavenegar://***@api.kavenegar.com"
    );

    for (bad, shown) in [
        (
            "kannel://em:p4ss@10.0.0.5?from=EventMgr",
            "kannel://em:***@10.0.0.5?from=EventMgr",
        ),
        (
            "kavenegar://K3Y@api.kavenegar.com?sendr=1",
            "kavenegar://***@api.kavenegar.com?sendr=1",
        ),
        (
            "twilio://AC1:t0ken@api.twilio.com",
            "twilio://AC1:***@api.twilio.com",
        ),
        ("sms://gateway", "sms://gateway"),
        ("K3Y", "<not a URL>"),
        ("None", "<not a URL>"),
    ] {
        let message = with(&[("SMS_URL", bad)]).unwrap_err().to_string();
        assert!(
            message.starts_with(&format!("invalid SMS_URL=\"{shown}\": ")),
            "{message}"
        );
        assert_eq!(message.lines().count(), 1, "{message}");
        for secret in ["p4ss", "K3Y", "t0ken"] {
            assert!(!message.contains(secret), "{message}");
        }
    }
    for bad in ["0", "61", "15s"] {
        let message = with(&[("SMS_TIMEOUT_SECS", bad)]).unwrap_err().to_string();
        assert_eq!(
            message,
            format!("invalid SMS_TIMEOUT_SECS=\"{bad}\": an integer from 1 to 60")
        );
    }
}

/// `event-manager --help` is where the settings are listed: each with its variable, and its
/// default or what leaving it unset means.
#[test]
fn the_help_lists_every_variable_with_its_default() {
    let mut command = Settings::augment_args(clap::Command::new("event-manager"));
    let help = command.render_long_help().to_string();
    // `--help` itself, added by the rendering, is no setting.
    for arg in command.get_arguments().filter(|arg| arg.get_id() != "help") {
        let name = arg.get_env().and_then(|name| name.to_str()).unwrap();
        assert!(help.contains(&format!("[env: {name}")), "{name}");
        let documented = arg
            .get_long_help()
            .or(arg.get_help())
            .map(ToString::to_string);
        let documented = documented.unwrap_or_else(|| panic!("{name} has no help"));
        assert!(
            !arg.get_default_values().is_empty()
                || documented.contains("Unset")
                || documented.contains("required with"),
            "{name}: {documented}"
        );
    }
    assert!(help.contains("[default: 5s,5m,30m,2h,5h,10h,10h]"));
}
