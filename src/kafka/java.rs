//! Java client properties, as users paste them from a `client.properties`, turned into
//! librdkafka's: `sasl.jaas.config` for PLAIN, SCRAM and OAUTHBEARER into `sasl.username`,
//! `sasl.password` and `sasl.oauthbearer.*`; PEM and PKCS#12 stores into `ssl.ca.location`,
//! `ssl.certificate.location`, `ssl.key.location` and `ssl.keystore.location`. A Java-only
//! property gets an error naming what to use instead. Everything else goes to librdkafka as it
//! is, which refuses the properties it does not know.

use super::settings::{Entry, SettingsError};

/// Translates the Java properties among `entries`; the others are kept in order.
pub(crate) fn translate(entries: Vec<Entry>) -> Result<Vec<Entry>, SettingsError> {
    let find = |key: &str| entries.iter().find(|e| e.key == key);
    let mut out: Vec<Entry> = Vec::new();
    let mut add = |key: &str, value: &str, from: &Entry| {
        out.retain(|e| e.key != key);
        out.push(Entry {
            key: key.into(),
            value: value.into(),
            origin: from.origin.clone(),
        });
    };
    for e in &entries {
        let refuse = |message: String| Err(SettingsError::new(&e.origin, message));
        match e.key.as_str() {
            "sasl.jaas.config" => {
                let mechanism = find("sasl.mechanism").or(find("sasl.mechanisms"));
                for (key, value) in jaas(&e.value, mechanism.map(|m| m.value.as_str()))
                    .map_err(|m| SettingsError::new(&e.origin, m))?
                {
                    add(key, &value, e);
                }
            }
            "sasl.mechanism" | "sasl.mechanisms" => {
                mechanism(&e.value).map_err(|m| SettingsError::new(&e.origin, m))?;
                add("sasl.mechanism", &e.value, e);
            }
            "ssl.truststore.location" => match store_type(&entries, "ssl.truststore.type") {
                "PEM" => add("ssl.ca.location", &e.value, e),
                other => {
                    return refuse(format!(
                        "a {other} truststore is Java-only: librdkafka reads the CA certificates as PEM from ssl.ca.location (export them with `keytool -exportcert -rfc -keystore {} -alias ALIAS > ca.pem`, or set ssl.truststore.type=PEM if the file is PEM)",
                        e.value
                    ));
                }
            },
            "ssl.truststore.certificates" => add("ssl.ca.pem", &e.value, e),
            "ssl.keystore.location" => match store_type(&entries, "ssl.keystore.type") {
                "PEM" => {
                    add("ssl.certificate.location", &e.value, e);
                    add("ssl.key.location", &e.value, e);
                }
                "PKCS12" => add("ssl.keystore.location", &e.value, e),
                other => {
                    return refuse(format!(
                        "a {other} keystore is Java-only: librdkafka takes a PKCS#12 file in ssl.keystore.location (convert it with `keytool -importkeystore -srckeystore {} -destkeystore client.p12 -deststoretype PKCS12` and set ssl.keystore.type=PKCS12), or PEM files in ssl.certificate.location and ssl.key.location",
                        e.value
                    ));
                }
            },
            "ssl.keystore.key" => add("ssl.key.pem", &e.value, e),
            "ssl.keystore.certificate.chain" => add("ssl.certificate.pem", &e.value, e),
            "ssl.keystore.password" => {
                if store_type(&entries, "ssl.keystore.type") == "PKCS12" {
                    add("ssl.keystore.password", &e.value, e);
                }
            }
            // Read with the store's location; a PEM truststore has no password.
            "ssl.truststore.type" | "ssl.keystore.type" | "ssl.truststore.password" => {}
            "ssl.endpoint.identification.algorithm" => {
                let value = if e.value.trim().is_empty() {
                    "none"
                } else {
                    &e.value
                };
                add(&e.key, value, e);
            }
            key => {
                if let Some(instead) = java_only(key) {
                    return refuse(format!("{key} is a Java client property: {instead}"));
                }
                add(key, &e.value, e);
            }
        }
    }
    Ok(out)
}

/// A Java store's type (`ssl.truststore.type`, `ssl.keystore.type`); Java's default is JKS.
fn store_type<'a>(entries: &'a [Entry], key: &str) -> &'a str {
    entries
        .iter()
        .find(|e| e.key == key)
        .map_or("JKS", |e| e.value.trim())
}

/// Refuses the mechanisms this build cannot do, with what a user gets instead.
fn mechanism(value: &str) -> Result<(), String> {
    match value.trim().to_ascii_uppercase().as_str() {
        "GSSAPI" => Err("GSSAPI (Kerberos) is not supported: fixproof's librdkafka is built without Cyrus SASL; use SCRAM-SHA-512, PLAIN or OAUTHBEARER if the cluster offers one".into()),
        "AWS_MSK_IAM" => Err("AWS_MSK_IAM is not supported; on Amazon MSK enable SASL/SCRAM for the cluster and use sasl.mechanism=SCRAM-SHA-512 with its secret".into()),
        _ => Ok(()),
    }
}

/// The librdkafka properties of a `sasl.jaas.config`.
fn jaas(value: &str, mechanism: Option<&str>) -> Result<Vec<(&'static str, String)>, String> {
    let module = value.split_whitespace().next().unwrap_or("");
    let options = jaas_options(value)?;
    let option = |name: &str| {
        options
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let credentials = || -> Result<Vec<(&'static str, String)>, String> {
        match (option("username"), option("password")) {
            (Some(user), Some(password)) => {
                Ok(vec![("sasl.username", user), ("sasl.password", password)])
            }
            _ => Err(format!(
                "{module} needs username=\"...\" and password=\"...\" (librdkafka: sasl.username and sasl.password)"
            )),
        }
    };
    match module.rsplit('.').next().unwrap_or("") {
        "PlainLoginModule" => {
            let mut out = credentials()?;
            if mechanism.is_none() {
                out.push(("sasl.mechanism", "PLAIN".into()));
            }
            Ok(out)
        }
        "ScramLoginModule" => {
            if mechanism.is_none() {
                return Err("ScramLoginModule needs sasl.mechanism=SCRAM-SHA-256 or SCRAM-SHA-512, as the cluster's users were made".into());
            }
            credentials()
        }
        "OAuthBearerLoginModule" => {
            let mut out = vec![("sasl.oauthbearer.method", "oidc".to_string())];
            for (java, ours) in [
                ("clientId", "sasl.oauthbearer.client.id"),
                ("clientSecret", "sasl.oauthbearer.client.secret"),
                ("scope", "sasl.oauthbearer.scope"),
            ] {
                if let Some(v) = option(java) {
                    out.push((ours, v));
                }
            }
            if mechanism.is_none() {
                out.push(("sasl.mechanism", "OAUTHBEARER".into()));
            }
            Ok(out)
        }
        "Krb5LoginModule" => Err(self::mechanism("GSSAPI").err().unwrap_or_default()),
        "IAMLoginModule" => Err(self::mechanism("AWS_MSK_IAM").err().unwrap_or_default()),
        _ => Err(format!(
            "unknown login module '{module}': fixproof translates PlainLoginModule, ScramLoginModule and OAuthBearerLoginModule; give sasl.username and sasl.password instead"
        )),
    }
}

/// The `name="value"` options of a JAAS entry (`Module required a="x" b="y";`).
fn jaas_options(value: &str) -> Result<Vec<(String, String)>, String> {
    let body = value.trim().trim_end_matches(';');
    let mut rest = body
        .split_once(char::is_whitespace)
        .map_or("", |(_, r)| r)
        .trim_start();
    for flag in ["required", "requisite", "sufficient", "optional"] {
        if let Some(r) = rest.strip_prefix(flag) {
            rest = r;
            break;
        }
    }
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return Ok(out);
        }
        let (name, after) = rest.split_once('=').ok_or_else(|| {
            format!("cannot read sasl.jaas.config near '{rest}': expected name=\"value\"")
        })?;
        let after = after.trim_start();
        let (val, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted
                .find('"')
                .ok_or("sasl.jaas.config has a value without its closing '\"'")?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            after.split_at(after.find(char::is_whitespace).unwrap_or(after.len()))
        };
        out.push((name.trim().to_string(), val.to_string()));
        rest = next;
    }
}

/// What to use instead of a Java-only property, `None` for a property librdkafka may know.
fn java_only(key: &str) -> Option<&'static str> {
    Some(match key {
        "key.serializer" | "value.serializer" | "key.deserializer" | "value.deserializer" => {
            "fixproof sends and reads raw bytes; remove it"
        }
        "ssl.protocol" | "ssl.enabled.protocols" => {
            "librdkafka negotiates the newest TLS version OpenSSL offers; remove it (ssl.cipher.suites and ssl.curves.list tune OpenSSL)"
        }
        "ssl.keymanager.algorithm"
        | "ssl.trustmanager.algorithm"
        | "ssl.provider"
        | "ssl.secure.random.implementation"
        | "ssl.engine.factory.class" => "librdkafka uses OpenSSL; remove it",
        "sasl.login.callback.handler.class"
        | "sasl.client.callback.handler.class"
        | "sasl.login.class" => {
            "librdkafka has no Java callbacks; for OIDC set sasl.oauthbearer.method=oidc with sasl.oauthbearer.client.id, sasl.oauthbearer.client.secret and sasl.oauthbearer.token.endpoint.url"
        }
        "client.dns.lookup" => "librdkafka resolves every address itself; remove it",
        "interceptor.classes" | "metric.reporters" => "librdkafka has no Java plugins; remove it",
        _ => return None,
    })
}
