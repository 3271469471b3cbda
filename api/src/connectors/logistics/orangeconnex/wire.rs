//! OrangeConnex wire DTOs (WIRE.md). Requests are built as JSON values with OC's exact key
//! spellings; responses are read leniently, because OC's own samples vary the casing of
//! keys (`eBayOrderId`/`ebayOrderId`, `MFSKUID`/`mfskuid`) and send numbers as strings.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::connectors::ConnectorError;

/// `{success, code, message, errors, data}`.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    #[serde(default)]
    pub success: Option<bool>,
    #[serde(default)]
    pub code: Option<Value>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub errors: Option<Vec<ErrorItem>>,
    #[serde(default)]
    pub data: Value,
}

#[derive(Debug, Deserialize, Clone)]
pub struct ErrorItem {
    /// OC's specific error code (a string such as `3A0529`), under the envelope's general one.
    #[serde(default)]
    pub code: Option<Value>,
    #[serde(default)]
    pub message: Option<String>,
}

/// A code as a string (`0` and `"0"` are the same).
pub fn code_str(v: &Option<Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

impl Envelope {
    /// The data, or the error the envelope reports (HTTP 200 + `success:false` included).
    pub fn into_data(self) -> Result<Value, ConnectorError> {
        let code = code_str(&self.code).unwrap_or_else(|| "0".into());
        if self.success != Some(false) && code == "0" {
            return Ok(self.data);
        }
        let detail: Vec<String> = self.errors.iter().flatten().filter_map(|e| e.message.clone()).collect();
        let message = match (self.message, detail.is_empty()) {
            (Some(m), true) => m,
            (Some(m), false) => format!("{m}: {}", detail.join("; ")),
            (None, _) => detail.join("; "),
        };
        // A business refusal (OC's documented `{"code":3,"errors":[{"code":"3A0529",…}]}`)
        // is named by its specific code; request and credential errors by the general one.
        let specific = self.errors.iter().flatten().find_map(|e| code_str(&e.code)).filter(|c| !c.is_empty());
        Err(match (code.as_str(), specific) {
            ("401", _) => ConnectorError::Unauthorized(message),
            ("400" | "403", _) | (_, None) => ConnectorError::Rejected { code, message },
            (_, Some(specific)) => ConnectorError::Rejected { code: specific, message },
        })
    }
}

/// Token endpoint answer.
#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default = "default_expiry", deserialize_with = "lenient_i64")]
    pub expires_in: i64,
}

fn default_expiry() -> i64 {
    3600
}

/// Spring OAuth error: `{"error","error_description"}`.
#[derive(Debug, Deserialize)]
pub struct TokenError {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
}

pub fn token_error(status: u16, body: &[u8]) -> ConnectorError {
    match serde_json::from_slice::<TokenError>(body) {
        Ok(e) => {
            let message = format!("{}: {}", e.error, e.error_description.unwrap_or_default());
            match e.error.as_str() {
                "invalid_grant" | "invalid_client" | "unauthorized_client" => {
                    ConnectorError::AuthorizationInvalid(message)
                }
                _ => ConnectorError::Rejected { code: e.error, message },
            }
        }
        Err(_) if status >= 500 => ConnectorError::Transient(format!("token endpoint HTTP {status}")),
        Err(_) => ConnectorError::Decode(format!("token endpoint HTTP {status} with an unreadable body")),
    }
}

fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = Value::deserialize(d)?;
    as_i64(&v).ok_or_else(|| serde::de::Error::custom(format!("not an integer: {v}")))
}

pub fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.round() as i64)),
        Value::String(s) => {
            s.trim().parse::<i64>().ok().or_else(|| s.trim().parse::<f64>().ok().map(|f| f.round() as i64))
        }
        _ => None,
    }
}

/// The value under `key`, matching the key case-insensitively.
pub fn get<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    let map = obj.as_object()?;
    map.get(key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

pub fn get_str(obj: &Value, key: &str) -> Option<String> {
    match get(obj, key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub fn get_i64(obj: &Value, key: &str) -> Option<i64> {
    get(obj, key).and_then(as_i64)
}

pub fn get_bool(obj: &Value, key: &str) -> Option<bool> {
    match get(obj, key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "y" | "yes" | "1" => Some(true),
            "false" | "n" | "no" | "0" => Some(false),
            _ => None,
        },
        Value::Number(n) => n.as_i64().map(|i| i != 0),
        _ => None,
    }
}

pub fn get_array<'a>(obj: &'a Value, key: &str) -> &'a [Value] {
    get(obj, key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

/// An item's refusal: (code, message, the id the item still names, e.g. the existing order
/// of a duplicate reference).
pub type ItemError = (String, String, Option<String>);

/// Per-item results of a batch call, in input order: `Ok(id)` or the item's first error.
pub fn item_results(
    data: &Value,
    id_key: &str,
    expected: usize,
) -> Result<Vec<Result<String, ItemError>>, ConnectorError> {
    let items = data.as_array().ok_or_else(|| ConnectorError::Decode("batch answer is not a list".into()))?;
    if items.len() != expected {
        return Err(ConnectorError::Decode(format!("batch answer has {} results for {expected} items", items.len())));
    }
    Ok(items
        .iter()
        .map(|item| {
            let ok = get_bool(item, "success").unwrap_or(false);
            let id = get_str(item, id_key);
            match (ok, id) {
                (true, Some(id)) => Ok(id),
                (_, id) => {
                    let errors = get_array(item, "errors");
                    // A duplicate reference wins over anything else the item complains about:
                    // it means the order exists.
                    let first = errors
                        .iter()
                        .find(|e| get_str(e, "code").as_deref() == Some("DUPLICATE_REFERENCE_NUMBER"))
                        .or(errors.first())
                        .cloned()
                        .unwrap_or(Value::Null);
                    let code = get_str(&first, "code").unwrap_or_else(|| "REJECTED".into());
                    let message: Vec<String> = errors.iter().filter_map(|e| get_str(e, "message")).collect();
                    let message =
                        if message.is_empty() { "refused without a message".to_owned() } else { message.join("; ") };
                    Err((code, message, id))
                }
            }
        })
        .collect())
}
