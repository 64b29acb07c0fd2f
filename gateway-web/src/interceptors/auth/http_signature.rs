//! `kind: http_signature`: RFC 9421 HTTP Message Signatures. The request carries `Signature-Input`
//! (the covered components and the parameters `created`, `keyid`, optionally `alg`, `expires`,
//! `nonce`) and `Signature`; `keyid` is a consumer's app key. `hmac-sha256` verifies with the
//! consumer's shared secrets (either of two, during a rotation), `ed25519` with its public keys. The
//! signature base is rebuilt from the request as RFC 9421 section 2.5 says; a body must be covered
//! through `content-digest`, which must match it.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use api_model::policy::NonceFallback;
use async_trait::async_trait;
use http::HeaderName;
use ring::{hmac, signature as ed};

use super::consumers::{ConsumerEntry, Consumers};
use super::structured::{Bare, Item, Member, Params, parse_dictionary, serialize_inner_list};
use super::{authenticated, check_nonce, consumer_identity, digest, ensure_enabled};
use crate::access::{Exchange, Identity, Reply};
use crate::error::{ErrorKind, GatewayError};
use crate::interceptors::{Interceptor, Next};
use crate::stores::{CredentialUsage, NonceStore};

pub const SIGNATURE_INPUT: HeaderName = HeaderName::from_static("signature-input");
pub const SIGNATURE: HeaderName = HeaderName::from_static("signature");
const CONTENT_DIGEST: &str = "content-digest";

pub struct HttpSignature {
    pub required_components: Vec<String>,
    pub clock_skew: Duration,
    pub require_nonce: bool,
    pub on_store_down: NonceFallback,
    pub consumers: Arc<Consumers>,
    pub nonces: Arc<NonceStore>,
    pub usage: Arc<CredentialUsage>,
}

fn invalid(message: impl Into<std::borrow::Cow<'static, str>>) -> GatewayError {
    GatewayError::new(ErrorKind::SignatureInvalid, message)
}

fn header_text(exchange: &Exchange, name: &HeaderName) -> Result<String, GatewayError> {
    let values: Vec<&str> = exchange
        .headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.is_empty() {
        return Err(invalid(format!("a signed request needs the {name} header")));
    }
    Ok(values.join(", "))
}

/// The parameters of one signature.
struct Signed {
    label: String,
    components: Vec<String>,
    items: Vec<Item>,
    params: Params,
    signature: Vec<u8>,
}

impl Signed {
    fn param(&self, name: &str) -> Option<&Bare> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    fn string_param(&self, name: &str) -> Result<Option<&str>, GatewayError> {
        match self.param(name) {
            None => Ok(None),
            Some(Bare::String(s)) => Ok(Some(s)),
            Some(_) => Err(invalid(format!(
                "signature parameter `{name}` must be a string"
            ))),
        }
    }

    fn integer_param(&self, name: &str) -> Result<Option<i64>, GatewayError> {
        match self.param(name) {
            None => Ok(None),
            Some(Bare::Integer(n)) => Ok(Some(*n)),
            Some(_) => Err(invalid(format!(
                "signature parameter `{name}` must be an integer"
            ))),
        }
    }
}

/// The first signature of `Signature-Input` that `Signature` carries.
fn pick(exchange: &Exchange) -> Result<Signed, GatewayError> {
    let inputs = parse_dictionary(&header_text(exchange, &SIGNATURE_INPUT)?)
        .map_err(|why| invalid(format!("Signature-Input: {why}")))?;
    let signatures = parse_dictionary(&header_text(exchange, &SIGNATURE)?)
        .map_err(|why| invalid(format!("Signature: {why}")))?;
    for (label, member) in inputs {
        let Member::InnerList(items, params) = member else {
            continue;
        };
        let Some((
            _,
            Member::Item(Item {
                value: Bare::Bytes(signature),
                ..
            }),
        )) = signatures.iter().find(|(l, _)| *l == label)
        else {
            continue;
        };
        let mut components = Vec::with_capacity(items.len());
        for item in &items {
            let Bare::String(name) = &item.value else {
                return Err(invalid("covered components are strings"));
            };
            if !item.params.is_empty() {
                return Err(invalid(format!(
                    "component `{name}` has parameters, which this gateway does not verify"
                )));
            }
            components.push(name.clone());
        }
        return Ok(Signed {
            label,
            components,
            items,
            params,
            signature: signature.clone(),
        });
    }
    Err(invalid(
        "no signature in Signature matches a label of Signature-Input",
    ))
}

/// The authority as the client addressed it: lowercase, without a default port.
fn authority(exchange: &Exchange) -> Option<String> {
    let raw = exchange
        .uri
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| exchange.header("host").map(str::to_string))?;
    let lowered = raw.to_ascii_lowercase();
    let default = if exchange.scheme() == "https" {
        ":443"
    } else {
        ":80"
    };
    Some(
        lowered
            .strip_suffix(default)
            .unwrap_or(&lowered)
            .to_string(),
    )
}

fn component_value(exchange: &Exchange, name: &str) -> Result<String, GatewayError> {
    let path = if exchange.path.is_empty() {
        "/"
    } else {
        exchange.path.as_str()
    };
    let query = exchange.uri.query();
    let with_query = |base: String| match query {
        Some(q) => format!("{base}?{q}"),
        None => base,
    };
    Ok(match name {
        "@method" => exchange.method.as_str().to_string(),
        "@scheme" => exchange.scheme().to_string(),
        "@authority" => {
            authority(exchange).ok_or_else(|| invalid("@authority: the request names no host"))?
        }
        "@path" => path.to_string(),
        "@query" => format!("?{}", query.unwrap_or("")),
        "@request-target" => with_query(path.to_string()),
        "@target-uri" => {
            let authority = authority(exchange)
                .ok_or_else(|| invalid("@target-uri: the request names no host"))?;
            with_query(format!("{}://{authority}{path}", exchange.scheme()))
        }
        derived if derived.starts_with('@') => {
            return Err(invalid(format!(
                "component `{derived}` is not one this gateway verifies"
            )));
        }
        field => {
            let name = HeaderName::from_bytes(field.as_bytes())
                .map_err(|_| invalid(format!("`{field}` is not a header name")))?;
            let values: Vec<String> = exchange
                .headers
                .get_all(&name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
                .collect();
            if values.is_empty() {
                return Err(invalid(format!(
                    "covered header `{field}` is not in the request"
                )));
            }
            values.join(", ")
        }
    })
}

/// RFC 9421 section 2.5: one line per covered component, then `@signature-params`.
fn signature_base(exchange: &Exchange, signed: &Signed) -> Result<String, GatewayError> {
    let mut base = String::with_capacity(256);
    for name in &signed.components {
        base.push('"');
        base.push_str(name);
        base.push_str("\": ");
        base.push_str(&component_value(exchange, name)?);
        base.push('\n');
    }
    base.push_str("\"@signature-params\": ");
    base.push_str(&serialize_inner_list(&signed.items, &signed.params));
    Ok(base)
}

/// Whether the covered components include `required`, directly or inside a larger one: `@target-uri`
/// holds the scheme, authority, path and query; `@request-target` the path and query.
fn covers(components: &[String], required: &str) -> bool {
    components.iter().any(|c| {
        c == required
            || (c == "@target-uri"
                && matches!(
                    required,
                    "@scheme" | "@authority" | "@path" | "@query" | "@request-target"
                ))
            || (c == "@request-target" && matches!(required, "@path" | "@query"))
    })
}

fn verify_with(
    consumer: &ConsumerEntry,
    alg: Option<&str>,
    base: &[u8],
    signature: &[u8],
) -> Result<String, GatewayError> {
    let hmac_ok = || {
        consumer
            .live_hmac()
            .find(|k| hmac::verify(&k.key, base, signature).is_ok())
            .map(|k| k.id.clone())
    };
    let ed_ok = || {
        consumer
            .ed25519
            .iter()
            .filter(|k| k.is_live())
            .find(|k| {
                ed::UnparsedPublicKey::new(&ed::ED25519, &k.key)
                    .verify(base, signature)
                    .is_ok()
            })
            .map(|k| k.id.clone())
    };
    let found = match alg {
        Some("hmac-sha256") => hmac_ok(),
        Some("ed25519") => ed_ok(),
        Some(other) => {
            return Err(invalid(format!(
                "alg `{other}` is not accepted: use hmac-sha256 or ed25519"
            )));
        }
        // Without `alg` the key decides; each key verifies only with its own algorithm.
        None => hmac_ok().or_else(ed_ok),
    };
    found.ok_or_else(|| invalid("the signature does not verify with the keys of this keyid"))
}

impl HttpSignature {
    async fn verify(&self, exchange: &mut Exchange) -> Result<Identity, GatewayError> {
        let signed = pick(exchange)?;
        for required in &self.required_components {
            if !covers(&signed.components, required) {
                return Err(invalid(format!(
                    "this API needs the signature to cover `{required}`"
                )));
            }
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs() as i64;
        let skew = self.clock_skew.as_secs() as i64;
        let created = signed
            .integer_param("created")?
            .ok_or_else(|| invalid("the signature needs a `created` parameter"))?;
        if (now - created).abs() > skew {
            return Err(GatewayError::new(
                ErrorKind::SignatureExpired,
                format!(
                    "`created` is {} s from the gateway's clock; the window is {skew} s",
                    (now - created).abs()
                ),
            ));
        }
        if let Some(expires) = signed.integer_param("expires")?
            && now > expires
        {
            return Err(GatewayError::new(
                ErrorKind::SignatureExpired,
                "the signature has expired",
            ));
        }
        let keyid = signed
            .string_param("keyid")?
            .ok_or_else(|| invalid("the signature needs a `keyid` parameter (the app key)"))?
            .to_string();
        let alg = signed.string_param("alg")?.map(str::to_string);
        let nonce = signed.string_param("nonce")?.map(str::to_string);
        if self.require_nonce && nonce.is_none() {
            return Err(invalid(
                "this API needs a `nonce` parameter in the signature",
            ));
        }
        let body = exchange.body().await?;
        if !body.is_empty() {
            if !signed.components.iter().any(|c| c == CONTENT_DIGEST) {
                return Err(invalid("a request with a body must sign `content-digest`"));
            }
            let field = header_text(exchange, &HeaderName::from_static(CONTENT_DIGEST))?;
            digest::verify(&field, &body).map_err(invalid)?;
        }
        let consumer = self
            .consumers
            .by_app_key(&keyid)
            .cloned()
            .ok_or_else(|| invalid(format!("keyid `{keyid}` is not a known app key")))?;
        let base = signature_base(exchange, &signed)?;
        let credential = verify_with(
            &consumer,
            alg.as_deref(),
            base.as_bytes(),
            &signed.signature,
        )?;
        ensure_enabled(&consumer)?;
        if let Some(nonce) = &nonce {
            check_nonce(
                &self.nonces,
                &keyid,
                nonce,
                self.clock_skew * 2,
                self.on_store_down,
            )
            .await?;
        }
        tracing::trace!(label = %signed.label, "http signature verified");
        Ok(consumer_identity(&consumer, "http_signature", &credential))
    }
}

#[async_trait]
impl Interceptor for HttpSignature {
    async fn intercept(
        &self,
        mut exchange: Exchange,
        next: Next<'_>,
    ) -> Result<Reply, GatewayError> {
        if !exchange.headers.contains_key(&SIGNATURE_INPUT)
            && !exchange.headers.contains_key(&SIGNATURE)
        {
            return next.run(exchange).await;
        }
        let identity = self.verify(&mut exchange).await?;
        exchange.headers.remove(&SIGNATURE_INPUT);
        exchange.headers.remove(&SIGNATURE);
        authenticated(&mut exchange, identity, &self.usage);
        next.run(exchange).await
    }
}
