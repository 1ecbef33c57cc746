//! `encoder: { kind: python }` from YAML, through log4rs's own config machinery and our
//! `deserializers()`: the example loads, a real file appender writes the rendered records, and
//! mistakes are load-time errors naming the field and the problem.

use log4rs::config::RawConfig;
use log4rs::encode::Encode;

fn load(yaml: &str) -> RawConfig {
    serde_yaml::from_str(yaml).expect("valid YAML")
}

fn encoder_error(yaml: &str) -> String {
    let config: serde_value::Value = serde_yaml::from_str(yaml).unwrap();
    match log4rs_appenders::deserializers().deserialize::<dyn Encode>("python", config) {
        Ok(_) => panic!("{yaml} should be refused"),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn the_python_encoder_example_builds_every_appender() {
    let text = std::fs::read_to_string("config-examples/python-encoder.yaml").unwrap();
    let (appenders, errors) = load(&text).appenders_lossy(&log4rs_appenders::deserializers());
    assert!(
        errors.is_empty(),
        "config-examples/python-encoder.yaml has errors"
    );
    assert_eq!(appenders.len(), 1);
}

#[test]
fn a_file_appender_with_a_python_encoder_writes_python_formatted_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let yaml = format!(
        r#"
appenders:
  file:
    kind: file
    path: {path:?}
    encoder:
      kind: python
      format: "%(levelname)-8s|%(name)s|%(filename)s:%(lineno)d|%(user_id)05d|%(message)s"
      defaults: {{ user_id: 0 }}
root:
  appenders: [file]
"#
    );
    let (appenders, errors) = load(&yaml).appenders_lossy(&log4rs_appenders::deserializers());
    assert!(errors.is_empty());
    let kvs = [("user_id", log::kv::Value::from(72))];
    appenders[0]
        .appender()
        .append(
            &log::Record::builder()
                .args(format_args!("user {} logged in", 72))
                .level(log::Level::Warn)
                .target("shop::auth")
                .file(Some("src/auth/login.rs"))
                .line(Some(42))
                .key_values(&kvs)
                .build(),
        )
        .unwrap();
    appenders[0].appender().flush();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "WARNING |shop::auth|login.rs:42|00072|user 72 logged in\n"
    );
}

#[test]
fn a_misspelt_attribute_is_a_load_error_with_column_and_hint() {
    let e = encoder_error("format: '%(asctime)s %(levelnam)s %(message)s'");
    assert!(
        e.starts_with("field \"format\": column 13 (at \"%(levelnam)s"),
        "{e}"
    );
    assert!(e.contains("did you mean \"levelname\""), "{e}");
}

#[test]
fn malformed_formats_and_datefmts_are_load_errors_naming_the_field() {
    let e = encoder_error("format: '%(message)y'");
    assert!(e.starts_with("field \"format\": column 11"), "{e}");
    assert!(e.contains("unsupported format character 'y'"), "{e}");

    let e = encoder_error("format: '%(message)s 100%'");
    assert!(
        e.starts_with("field \"format\": column 16 (at \"%\")"),
        "{e}"
    );
    assert!(e.contains("lone %"), "{e}");

    let e = encoder_error("format: '%(levelname)d'");
    assert!(e.contains("is text"), "{e}");

    let e = encoder_error("{format: '%(asctime)s', datefmt: '%Y %Q'}");
    assert!(e.starts_with("field \"datefmt\""), "{e}");

    let e = encoder_error("{format: '%(message)s', fromat: 'x'}");
    assert!(e.contains("fromat"), "{e}");

    let e = encoder_error("format: 7");
    assert!(e.contains("format"), "{e}");
}

#[test]
fn the_format_defaults_to_time_level_name_and_message() {
    let config: serde_value::Value = serde_yaml::from_str("{}").unwrap();
    let encoder = log4rs_appenders::deserializers()
        .deserialize::<dyn Encode>("python", config)
        .unwrap();
    assert!(format!("{encoder:?}").contains(log4rs_appenders::encode::python::DEFAULT_FORMAT));
}

fn encode_one(yaml: &str, kvs: &[(&str, log::kv::Value)]) -> String {
    let config: serde_value::Value = serde_yaml::from_str(yaml).unwrap();
    let encoder = log4rs_appenders::deserializers()
        .deserialize::<dyn Encode>("python", config)
        .unwrap_or_else(|e| panic!("{yaml}: {e:#}"));
    let mut out = Vec::new();
    encoder
        .encode(
            &mut log4rs::encode::writer::simple::SimpleWriter(&mut out),
            &log::Record::builder()
                .args(format_args!("hello"))
                .level(log::Level::Info)
                .key_values(&kvs)
                .build(),
        )
        .unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn an_empty_format_prints_the_message_as_cpythons_formatter_does() {
    assert_eq!(encode_one("format: ''", &[]), "hello\n");
}

#[test]
fn brace_and_dollar_style_formats_are_refused_naming_the_style_and_the_fix() {
    let e = encoder_error("format: '{asctime} {levelname} {message}'");
    assert!(
        e.starts_with("field \"format\": column 1")
            && e.contains("str.format (brace, style='{')")
            && e.contains(r#""%(asctime)s %(levelname)s %(message)s""#),
        "{e}"
    );
    let e = encoder_error("format: '${asctime} ${message}'");
    assert!(
        e.contains("string.Template (dollar, style='$')")
            && e.contains(r#""%(asctime)s %(message)s""#),
        "{e}"
    );
    let e = encoder_error("format: 'starting up'");
    assert!(e.contains("no %(name)s field"), "{e}");
}

#[test]
fn key_values_in_a_format_are_declared_with_defaults_as_in_python() {
    let yaml = "{format: '%(levelname)s [%(user_id)s] %(retries)02d %(message)s', \
                defaults: {user_id: '-', retries: 0}}";
    assert_eq!(encode_one(yaml, &[]), "INFO [-] 00 hello\n");
    assert_eq!(
        encode_one(yaml, &[("user_id", 72.into()), ("retries", 3.into())]),
        "INFO [72] 03 hello\n"
    );

    // Undeclared: refused at load, with the typo hint and the fix.
    let e = encoder_error("format: '%(lineno)d %(linenum)d %(message)s'");
    assert!(
        e.starts_with("field \"format\": column 12")
            && e.contains("unknown attribute \"linenum\" (did you mean \"lineno\"?)")
            && e.contains("defaults: { linenum: \"-\" }"),
        "{e}"
    );
    let e = encoder_error("{format: '%(message)s', defaults: {levelname: x}}");
    assert!(
        e.starts_with("field \"defaults\": \"levelname\" is a record attribute"),
        "{e}"
    );
    let e = encoder_error("{format: '%(message)s', defaults: {user_id: [1, 2]}}");
    assert!(e.contains("defaults"), "{e}");
}
