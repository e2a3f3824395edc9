use super::*;

fn flags(pairs: &[&str]) -> Result<Settings, SettingsError> {
    let owned: Vec<String> = pairs.iter().map(|s| s.to_string()).collect();
    Settings::from_flags(&owned)
}

fn pairs(s: &Settings) -> Vec<(String, String)> {
    s.pairs().map(|(k, v)| (k.into(), v.into())).collect()
}

fn kv(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn flags_pass_librdkafka_properties_through_the_last_one_winning() {
    let s = flags(&["security.protocol=SASL_SSL", "linger.ms=5", "linger.ms=7"]).unwrap();
    assert_eq!(
        pairs(&s),
        kv(&[("security.protocol", "SASL_SSL"), ("linger.ms", "7")])
    );
    assert_eq!(s.origin("linger.ms"), Some("--kafka-config linger.ms"));
}

#[test]
fn a_flag_without_a_key_or_an_equals_sign_is_refused_naming_it() {
    let e = flags(&["security.protocol"]).unwrap_err();
    assert_eq!(e.origin, "--kafka-config security.protocol");
    assert!(e.message.contains("KEY=VALUE"), "{e}");
    assert!(flags(&["=x"]).unwrap_err().message.contains("empty"));
}

#[test]
fn a_properties_file_reads_comments_separators_and_continuations() {
    let text = "# a comment\n! another\n\nsecurity.protocol = SASL_SSL\nsasl.mechanism: SCRAM-SHA-512\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n    username=\"alice\" \\\n    password=\"p=w\";\n";
    let got = properties(text).unwrap();
    assert_eq!(got[0], (4, "security.protocol".into(), "SASL_SSL".into()));
    assert_eq!(got[1], (5, "sasl.mechanism".into(), "SCRAM-SHA-512".into()));
    assert_eq!(got[2].0, 6);
    assert!(
        got[2].2.ends_with("username=\"alice\" password=\"p=w\";"),
        "{:?}",
        got[2]
    );
    let e = properties("ok=1\njust-a-word\n").unwrap_err();
    assert_eq!(e.0, 2);
}

#[test]
fn later_sources_override_earlier_ones() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("client.properties");
    std::fs::write(&file, "linger.ms=1\nclient.id=from-file\n").unwrap();
    let scenario = vec![
        ("linger.ms".to_string(), SettingValue::Text("0".into())),
        ("acks".to_string(), SettingValue::Text("all".into())),
    ];
    let s = Sources::default()
        .scenario(&scenario, &dir.path().join("scenario.json"))
        .properties_file(&file)
        .unwrap()
        .flags(&["client.id=from-flag".to_string()])
        .unwrap()
        .resolve()
        .unwrap();
    assert_eq!(s.get("acks"), Some("all"));
    assert_eq!(s.get("linger.ms"), Some("1"));
    assert_eq!(s.get("client.id"), Some("from-flag"));
    assert!(
        s.origin("linger.ms")
            .unwrap()
            .ends_with("client.properties line 1")
    );
    assert!(
        s.origin("acks")
            .unwrap()
            .ends_with("scenario.json kafka.config.acks")
    );
}

#[test]
fn secrets_come_from_the_environment_or_files_and_are_redacted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw.txt"), "s3cret\n").unwrap();
    std::fs::write(dir.path().join("creds.properties"), "password=from-props\n").unwrap();
    // SAFETY: the name is this test's own; no other test reads or writes it.
    unsafe { std::env::set_var("FIXPROOF_SETTINGS_TEST_PW", "from-env") };
    let scenario = vec![
        (
            "sasl.password".to_string(),
            SettingValue::File("pw.txt".into()),
        ),
        (
            "ssl.key.password".to_string(),
            SettingValue::Env("FIXPROOF_SETTINGS_TEST_PW".into()),
        ),
    ];
    let s = Sources::default()
        .scenario(&scenario, &dir.path().join("scenario.json"))
        .resolve()
        .unwrap();
    assert_eq!(s.get("sasl.password"), Some("s3cret"));
    assert_eq!(s.get("ssl.key.password"), Some("from-env"));
    let debug = format!("{s:?}");
    assert!(
        !debug.contains("s3cret") && !debug.contains("from-env"),
        "{debug}"
    );
    assert!(s.redacted().iter().all(|(_, v)| v == "***"));
    let props = format!(
        "sasl.password=${{file:{}:password}}",
        dir.path().join("creds.properties").display()
    );
    assert_eq!(
        flags(&[&props]).unwrap().get("sasl.password"),
        Some("from-props")
    );
    let env = flags(&["sasl.password=${env:FIXPROOF_SETTINGS_TEST_PW}"]).unwrap();
    assert_eq!(env.get("sasl.password"), Some("from-env"));
    assert!(env.describe("sasl.password").contains("sasl.password=***"));
}

#[test]
fn an_unset_variable_or_a_missing_file_names_the_setting() {
    let e = flags(&["sasl.password=${env:FIXPROOF_SETTINGS_TEST_UNSET}"]).unwrap_err();
    assert_eq!(e.origin, "--kafka-config sasl.password");
    assert!(
        e.message
            .contains("FIXPROOF_SETTINGS_TEST_UNSET is not set"),
        "{e}"
    );
    let e = flags(&["sasl.password=${file:/nonexistent/fixproof-pw}"]).unwrap_err();
    assert!(
        e.message.contains("cannot read /nonexistent/fixproof-pw"),
        "{e}"
    );
}

#[test]
fn jaas_for_plain_and_scram_becomes_username_and_password() {
    let plain = flags(&[
        "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"bob\" password=\"b s\";",
    ])
    .unwrap();
    assert_eq!(
        pairs(&plain),
        kv(&[
            ("sasl.username", "bob"),
            ("sasl.password", "b s"),
            ("sasl.mechanism", "PLAIN")
        ])
    );
    let scram = flags(&[
        "sasl.mechanism=SCRAM-SHA-512",
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username='x' password=\"pw\";",
    ]);
    // A quote other than '"' is not JAAS; unquoted values end at a space.
    assert_eq!(scram.unwrap().get("sasl.username"), Some("'x'"));
    let e = flags(&[
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"a\" password=\"b\";",
    ])
    .unwrap_err();
    assert!(
        e.message
            .contains("sasl.mechanism=SCRAM-SHA-256 or SCRAM-SHA-512"),
        "{e}"
    );
}

#[test]
fn jaas_for_oauthbearer_becomes_oidc_settings() {
    let s = flags(&[
        "sasl.oauthbearer.token.endpoint.url=https://idp.example/token",
        "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId=\"app\" clientSecret=\"cs\" scope=\"kafka\";",
    ])
    .unwrap();
    assert_eq!(s.get("sasl.oauthbearer.method"), Some("oidc"));
    assert_eq!(s.get("sasl.oauthbearer.client.id"), Some("app"));
    assert_eq!(s.get("sasl.oauthbearer.client.secret"), Some("cs"));
    assert_eq!(s.get("sasl.oauthbearer.scope"), Some("kafka"));
    assert_eq!(s.get("sasl.mechanism"), Some("OAUTHBEARER"));
}

#[test]
fn gssapi_and_msk_iam_are_refused_with_what_to_use() {
    for input in [
        "sasl.mechanism=GSSAPI",
        "sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true;",
    ] {
        let e = flags(&[input]).unwrap_err();
        assert!(
            e.message.contains("GSSAPI (Kerberos) is not supported"),
            "{e}"
        );
    }
    for input in [
        "sasl.mechanism=AWS_MSK_IAM",
        "sasl.jaas.config=software.amazon.msk.auth.iam.IAMLoginModule required;",
    ] {
        let e = flags(&[input]).unwrap_err();
        assert!(e.message.contains("SCRAM-SHA-512"), "{e}");
    }
}

#[test]
fn stores_become_librdkafka_locations_or_an_error_naming_them() {
    let pem = flags(&[
        "ssl.truststore.type=PEM",
        "ssl.truststore.location=/etc/ca.pem",
    ])
    .unwrap();
    assert_eq!(pairs(&pem), kv(&[("ssl.ca.location", "/etc/ca.pem")]));
    let e = flags(&[
        "ssl.truststore.location=/etc/truststore.jks",
        "ssl.truststore.password=x",
    ])
    .unwrap_err();
    assert!(
        e.message.contains("ssl.ca.location") && e.message.contains("JKS"),
        "{e}"
    );
    assert_eq!(e.origin, "--kafka-config ssl.truststore.location");
    let p12 = flags(&[
        "ssl.keystore.type=PKCS12",
        "ssl.keystore.location=/etc/client.p12",
        "ssl.keystore.password=pw",
    ])
    .unwrap();
    assert_eq!(
        pairs(&p12),
        kv(&[
            ("ssl.keystore.location", "/etc/client.p12"),
            ("ssl.keystore.password", "pw")
        ])
    );
    let key = flags(&[
        "ssl.keystore.type=PEM",
        "ssl.keystore.location=/etc/client.pem",
    ])
    .unwrap();
    assert_eq!(key.get("ssl.certificate.location"), Some("/etc/client.pem"));
    assert_eq!(key.get("ssl.key.location"), Some("/etc/client.pem"));
    let e = flags(&["ssl.keystore.location=/etc/keystore.jks"]).unwrap_err();
    assert!(
        e.message.contains("ssl.keystore.location") && e.message.contains("PKCS12"),
        "{e}"
    );
}

#[test]
fn java_only_properties_are_refused_with_the_equivalent() {
    let e = flags(&["ssl.enabled.protocols=TLSv1.3"]).unwrap_err();
    assert!(
        e.message.contains("Java client property") && e.message.contains("OpenSSL"),
        "{e}"
    );
    let e = flags(&["key.serializer=org.apache.kafka.common.serialization.StringSerializer"])
        .unwrap_err();
    assert!(e.message.contains("raw bytes"), "{e}");
    let host = flags(&["ssl.endpoint.identification.algorithm="]).unwrap();
    assert_eq!(
        host.get("ssl.endpoint.identification.algorithm"),
        Some("none")
    );
}

#[test]
fn secret_keys_are_recognised() {
    for key in [
        "sasl.password",
        "ssl.key.password",
        "sasl.oauthbearer.client.secret",
        "ssl.key.pem",
        "sasl.jaas.config",
        "ssl.keystore.password",
    ] {
        assert!(is_secret(key), "{key}");
    }
    for key in ["sasl.username", "security.protocol", "ssl.ca.location"] {
        assert!(!is_secret(key), "{key}");
    }
}
