//! Schema-driven fuzzing (issue 17 item 7): the schema is read by introspection and every
//! query and mutation field is called with hostile values of the right shape in each
//! argument position (input objects recursively, list items included), the other arguments
//! holding valid minimal values. Every answer must be below HTTP 500, GraphQL-shaped and
//! free of INTERNAL; the input policy's values (NUL and other control characters, strings
//! over 10,000 characters) must be BAD_USER_INPUT; and afterwards the database must hold
//! nothing half-written and the other tenant's rows must be untouched.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use api::graphql::ids::Kind;
use entity::{
    account, api_key, channel, enums::FulfillmentStatus, enums::WaybillStatus, idempotency_key, job, label_template,
    membership, order, order_item, organization, sku, user, waybill,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::{
    db_tests,
    fixtures::{self, gid, open_channel},
    helpers::{PASSWORD, Session, TestApp, session_from},
};

db_tests!(fuzz_every_operation);

const INTROSPECTION: &str = r"query Fuzz { __schema { queryType { name } mutationType { name }
  types { kind name
    fields(includeDeprecated: true) { name args { ...IV } type { ...TR } }
    inputFields { ...IV }
    enumValues(includeDeprecated: true) { name } } } }
fragment IV on __InputValue { name defaultValue type { ...TR } }
fragment TR on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

/// JSON that `serde_json::Value` cannot hold (numbers out of range, lone surrogates): a
/// marker string in the value, replaced by the raw text in the serialised body.
const RAW: [(&str, &str); 6] = [
    ("@@I64_OVER@@", "9223372036854775808"),
    ("@@U64_OVER@@", "18446744073709551616"),
    ("@@E309@@", "1e309"),
    ("@@NEG_E309@@", "-1e309"),
    ("@@SURROGATE@@", r#""\ud800""#),
    ("@@SURROGATES@@", r#""a\udfffb\ud83d""#),
];

fn raw(name: &str) -> Value {
    Value::String(format!("@@{name}@@"))
}

fn unraw(mut text: String) -> String {
    for (marker, raw) in RAW {
        text = text.replace(&format!("\"{marker}\""), raw);
    }
    text
}

#[derive(Clone, Debug)]
enum Ty {
    NonNull(Box<Ty>),
    List(Box<Ty>),
    Named(String),
}

impl Ty {
    fn parse(v: &Value) -> Ty {
        match v["kind"].as_str() {
            Some("NON_NULL") => Ty::NonNull(Box::new(Ty::parse(&v["ofType"]))),
            Some("LIST") => Ty::List(Box::new(Ty::parse(&v["ofType"]))),
            _ => Ty::Named(v["name"].as_str().expect("named type").to_owned()),
        }
    }
    fn sdl(&self) -> String {
        match self {
            Ty::NonNull(t) => format!("{}!", t.sdl()),
            Ty::List(t) => format!("[{}]", t.sdl()),
            Ty::Named(n) => n.clone(),
        }
    }
    fn named(&self) -> &str {
        match self {
            Ty::NonNull(t) | Ty::List(t) => t.named(),
            Ty::Named(n) => n,
        }
    }
    fn nullable(&self) -> &Ty {
        match self {
            Ty::NonNull(t) => t,
            t => t,
        }
    }
    fn is_non_null(&self) -> bool {
        matches!(self, Ty::NonNull(_))
    }
}

#[derive(Clone, Debug)]
struct InputValue {
    name: String,
    ty: Ty,
    has_default: bool,
}

impl InputValue {
    fn parse(v: &Value) -> InputValue {
        InputValue {
            name: v["name"].as_str().expect("name").to_owned(),
            ty: Ty::parse(&v["type"]),
            has_default: !v["defaultValue"].is_null(),
        }
    }
    fn required(&self) -> bool {
        self.ty.is_non_null() && !self.has_default
    }
}

#[derive(Clone, Debug)]
struct FieldDef {
    name: String,
    args: Vec<InputValue>,
    ty: Ty,
}

#[derive(Debug, Default)]
struct TypeDef {
    kind: String,
    fields: Vec<FieldDef>,
    input_fields: Vec<InputValue>,
    enum_values: Vec<String>,
}

struct Introspected {
    types: HashMap<String, TypeDef>,
    query: String,
    mutation: String,
}

impl Introspected {
    fn parse(body: &Value) -> Introspected {
        let s = &body["data"]["__schema"];
        let mut types = HashMap::new();
        for t in s["types"].as_array().expect("types") {
            let list = |k: &str| t[k].as_array().cloned().unwrap_or_default();
            let def = TypeDef {
                kind: t["kind"].as_str().expect("kind").to_owned(),
                fields: list("fields")
                    .iter()
                    .map(|f| FieldDef {
                        name: f["name"].as_str().expect("field name").to_owned(),
                        args: f["args"].as_array().expect("args").iter().map(InputValue::parse).collect(),
                        ty: Ty::parse(&f["type"]),
                    })
                    .collect(),
                input_fields: list("inputFields").iter().map(InputValue::parse).collect(),
                enum_values: list("enumValues").iter().map(|e| e["name"].as_str().expect("enum").to_owned()).collect(),
            };
            types.insert(t["name"].as_str().expect("type name").to_owned(), def);
        }
        Introspected {
            types,
            query: s["queryType"]["name"].as_str().expect("query type").to_owned(),
            mutation: s["mutationType"]["name"].as_str().expect("mutation type").to_owned(),
        }
    }
    fn kind(&self, name: &str) -> &str {
        self.types.get(name).map_or("SCALAR", |t| t.kind.as_str())
    }
    fn def(&self, name: &str) -> &TypeDef {
        self.types.get(name).unwrap_or_else(|| panic!("type {name} not introspected"))
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Seg {
    Field(String),
    Item,
}

fn path_text(path: &[Seg]) -> String {
    path.iter()
        .map(|s| match s {
            Seg::Field(f) => f.clone(),
            Seg::Item => "0".into(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// What a hostile value must produce, beyond the rules every answer obeys.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Expect {
    /// Any well-formed answer (no INTERNAL, no 5xx).
    Sane,
    /// The edge's input policy (or the body limit) refuses it: BAD_USER_INPUT or 413.
    Refused,
}

struct Hostile {
    label: &'static str,
    value: Value,
    expect: Expect,
}

fn h(label: &'static str, value: Value, expect: Expect) -> Hostile {
    Hostile { label, value, expect }
}

/// Ids the fuzz fills `ID` arguments with: the caller's own objects (valid minimal), the
/// other tenant's, and throwaway ones that destructive mutations may consume.
struct Ids {
    own: HashMap<&'static str, String>,
    foreign: HashMap<&'static str, String>,
    warehouse_account: String,
    victim_refresh: String,
}

const KIND_NAMES: [(&str, Kind); 13] = [
    ("LabelTemplate", Kind::LabelTemplate),
    ("InboundOrder", Kind::InboundOrder),
    ("OrderItem", Kind::OrderItem),
    ("AuditEvent", Kind::AuditEvent),
    ("Organization", Kind::Organization),
    ("ApiKey", Kind::ApiKey),
    ("Account", Kind::Account),
    ("Waybill", Kind::Waybill),
    ("Channel", Kind::Channel),
    ("Order", Kind::Order),
    ("User", Kind::User),
    ("Sku", Kind::Sku),
    ("Job", Kind::Job),
];

/// The kind an `ID` argument names: `orderIds` → Order, `templateId` → LabelTemplate; a
/// bare `id` takes the operation's (`updateWaybill` → Waybill, `node` → Order).
fn kind_for(op: &str, name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    let stem = lower.trim_end_matches('s').trim_end_matches("id");
    if stem == "template" {
        return "LabelTemplate";
    }
    let hay = if stem.is_empty() { op.to_ascii_lowercase() } else { stem.to_owned() };
    KIND_NAMES.iter().map(|(n, _)| *n).find(|n| hay.contains(&n.to_ascii_lowercase())).unwrap_or("Order")
}

fn uses_warehouse(op: &str) -> bool {
    let op = op.to_ascii_lowercase();
    ["warehouse", "inbound", "inventory", "stock", "clearance"].iter().any(|w| op.contains(w))
}

fn random_gid(kind: &str) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    URL_SAFE_NO_PAD.encode(format!("{kind}:{}", Uuid::now_v7().simple()))
}

fn malformed_gid() -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    URL_SAFE_NO_PAD.encode("Order:not-a-uuid'; DROP TABLE orders; --")
}

struct Fuzz<'a> {
    app: &'a TestApp,
    oversized: reqwest::Client,
    schema: Introspected,
    ids: Ids,
    seq: AtomicUsize,
    calls: usize,
    per_op: BTreeMap<String, usize>,
    failures: Vec<String>,
    slow: Vec<(Duration, String)>,
    outcomes: BTreeMap<String, usize>,
}

impl Fuzz<'_> {
    fn next(&self) -> usize {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// A valid minimal scalar for an argument or input field called `name`.
    fn scalar(&self, op: &str, ty: &str, name: &str) -> Value {
        let lower = name.to_ascii_lowercase();
        match ty {
            "Int" => json!(match lower.as_str() {
                "first" => 10,
                "widthmm" | "heightmm" => 100,
                "start" => 1000,
                "end" => 999_999,
                "lowstockthreshold" => 5,
                _ => 1,
            }),
            "Float" => json!(if lower.ends_with("mm") && lower.starts_with(['x', 'y']) { 0.0 } else { 10.0 }),
            "Boolean" => json!(false),
            "DateTime" => json!("2026-01-01T00:00:00Z"),
            "NaiveDate" => json!("2026-12-01"),
            "JSON" => json!({}),
            "Upload" => Value::Null,
            "ID" => {
                let kind = kind_for(op, name);
                if kind == "Account" && uses_warehouse(op) {
                    return json!(self.ids.warehouse_account);
                }
                json!(self.ids.own.get(kind).cloned().unwrap_or_else(|| random_gid(kind)))
            }
            _ => {
                let n = self.next();
                json!(match lower.as_str() {
                    l if l.contains("email") => format!("fuzz-{n}@example.com"),
                    l if l.contains("password") || l == "appsecret" => PASSWORD.to_owned(),
                    "refreshtoken" => self.ids.victim_refresh.clone(),
                    l if l.contains("country") => "GB".to_owned(),
                    "currency" => "USD".to_owned(),
                    "hscode" => "691200".to_owned(),
                    l if l.contains("region") => "UK".to_owned(),
                    "idempotencykey" | "sellerinboundnumber" | "sellercartonnumber" => format!("fuzz-{n}"),
                    l if l.contains("code") => format!("FZ{n}"),
                    "prefix" => "RR".to_owned(),
                    "suffix" => "CN".to_owned(),
                    l if l.contains("url") => "https://example.com/x".to_owned(),
                    "filetype" => "PL".to_owned(),
                    _ => format!("fuzz {n}"),
                })
            }
        }
    }

    /// A valid minimal value of `ty`, except at `target`'s path where the hostile value goes.
    fn build(&self, op: &str, ty: &Ty, name: &str, target: Option<(&[Seg], &Value)>) -> Value {
        if let Some(([], v)) = target {
            return v.clone();
        }
        match ty {
            Ty::NonNull(inner) => self.build(op, inner, name, target),
            Ty::List(inner) => {
                let rest = target.map(|(p, v)| {
                    assert_eq!(p[0], Seg::Item);
                    (&p[1..], v)
                });
                json!([self.build(op, inner, name, rest)])
            }
            Ty::Named(n) => match self.schema.kind(n) {
                "INPUT_OBJECT" => self.object(op, &self.schema.def(n).input_fields, target),
                "ENUM" => json!(self.schema.def(n).enum_values[0]),
                _ => self.scalar(op, n, name),
            },
        }
    }

    /// An object of the required fields of `fields` plus the one on `target`'s path.
    fn object(&self, op: &str, fields: &[InputValue], target: Option<(&[Seg], &Value)>) -> Value {
        let mut m = Map::new();
        for f in fields {
            let on_path = target.and_then(|(p, v)| match p.first() {
                Some(Seg::Field(x)) if *x == f.name => Some((&p[1..], v)),
                _ => None,
            });
            if on_path.is_some() || f.required() {
                m.insert(f.name.clone(), self.build(op, &f.ty, &f.name, on_path));
            }
        }
        Value::Object(m)
    }

    /// Every position a hostile value can take: each argument, each input field
    /// (recursively) and each list's items.
    fn positions(&self, ty: &Ty, name: &str, path: Vec<Seg>, depth: usize, out: &mut Vec<(Vec<Seg>, Ty, String)>) {
        out.push((path.clone(), ty.clone(), name.to_owned()));
        if depth > 6 {
            return;
        }
        match ty.nullable() {
            Ty::List(inner) => {
                let mut p = path;
                p.push(Seg::Item);
                self.positions(inner, name, p, depth + 1, out);
            }
            Ty::Named(n) if self.schema.kind(n) == "INPUT_OBJECT" => {
                for f in &self.schema.def(n).input_fields {
                    let mut p = path.clone();
                    p.push(Seg::Field(f.name.clone()));
                    self.positions(&f.ty, &f.name, p, depth + 1, out);
                }
            }
            _ => {}
        }
    }

    fn hostile(&self, op: &str, ty: &Ty, name: &str) -> Vec<Hostile> {
        use Expect::{Refused, Sane};
        let mut out = vec![h("null", Value::Null, Sane)];
        match ty.nullable() {
            Ty::List(inner) => {
                let item = self.build(op, inner, name, None);
                out.push(h("empty list", json!([]), Sane));
                out.push(h("1,000 items", Value::Array(vec![item.clone(); 1_000]), Sane));
                out.push(h("10,000 items", Value::Array(vec![item.clone(); 10_000]), Sane));
                out.push(h("list of null", json!([null]), Sane));
                out.push(h("bare item", item, Sane));
            }
            Ty::Named(n) => match (self.schema.kind(n), n.as_str()) {
                ("INPUT_OBJECT", _) => {
                    out.push(h("empty object", json!({}), Sane));
                    out.push(h("unknown field", json!({ "zzUnknown": 1 }), Sane));
                    out.push(h("string for object", json!("x"), Sane));
                }
                ("ENUM", _) => {
                    let first = &self.schema.def(n).enum_values[0];
                    out.push(h("unknown enum value", json!("NOT_A_VALUE"), Sane));
                    out.push(h("lower-case enum", json!(first.to_ascii_lowercase()), Sane));
                    out.push(h("number for enum", json!(7), Sane));
                    out.push(h("NUL in enum", json!(format!("{first}\u{0}")), Refused));
                }
                (_, "Int") => {
                    out.push(h("-1", json!(-1), Sane));
                    out.push(h("0", json!(0), Sane));
                    out.push(h("i32 max", json!(i32::MAX), Sane));
                    out.push(h("i32 max+1", json!(i64::from(i32::MAX) + 1), Sane));
                    out.push(h("i32 min-1", json!(i64::from(i32::MIN) - 1), Sane));
                    out.push(h("i64 max+1", raw("I64_OVER"), Sane));
                    out.push(h("1e309", raw("E309"), Sane));
                    out.push(h("1.5", json!(1.5), Sane));
                    out.push(h("string for Int", json!("12"), Sane));
                }
                (_, "Float") => {
                    out.push(h("-1", json!(-1.0), Sane));
                    out.push(h("f64 max", json!(f64::MAX), Sane));
                    out.push(h("1e309", raw("E309"), Sane));
                    out.push(h("-1e309", raw("NEG_E309"), Sane));
                    out.push(h("u64 max+1", raw("U64_OVER"), Sane));
                }
                (_, "Boolean") => {
                    out.push(h("string for Boolean", json!("true"), Sane));
                    out.push(h("number for Boolean", json!(1), Sane));
                }
                (_, "Upload") => out.push(h("string for Upload", json!("0"), Sane)),
                (_, scalar) => {
                    if scalar == "ID" {
                        let kind = kind_for(op, name);
                        out.push(h("malformed id", json!("%%%"), Sane));
                        out.push(h("empty id", json!(""), Sane));
                        out.push(h("id with bad uuid", json!(malformed_gid()), Sane));
                        out.push(h("missing id", json!(random_gid(kind)), Sane));
                        out.push(h("unknown kind", json!(random_gid("Nope")), Sane));
                        if let Some(f) = self.ids.foreign.get(kind) {
                            out.push(h("other tenant's id", json!(f), Sane));
                        }
                        let wrong = if kind == "Sku" { "Channel" } else { "Sku" };
                        out.push(h("id of another type", json!(self.ids.own[wrong]), Sane));
                    }
                    if scalar == "DateTime" {
                        out.push(h("impossible date", json!("2026-13-45T99:99:99Z"), Sane));
                        out.push(h("year 275760", json!("+275760-09-13T00:00:00Z"), Sane));
                        out.push(h("year 262143", json!("+262143-12-31T23:59:59Z"), Sane));
                        out.push(h("year -9999", json!("-009999-01-01T00:00:00Z"), Sane));
                        out.push(h("year 0", json!("0000-01-01T00:00:00Z"), Sane));
                        out.push(h("number for date", raw("E309"), Sane));
                    }
                    if scalar == "NaiveDate" {
                        out.push(h("impossible date", json!("2026-02-30"), Sane));
                        out.push(h("year 262143", json!("+262143-12-31"), Sane));
                        out.push(h("year -9999", json!("-9999-01-01"), Sane));
                        out.push(h("year 0", json!("0000-01-01"), Sane));
                    }
                    out.push(h("NUL", json!("a\u{0}b"), Refused));
                    out.push(h("control char", json!("bell\u{7}\u{1b}[31m"), Refused));
                    out.push(h("10,000 chars", json!("x".repeat(10_000)), Sane));
                    out.push(h("10,000 emoji", json!("📦".repeat(10_000)), Sane));
                    out.push(h("10,001 chars", json!("x".repeat(10_001)), Refused));
                    out.push(h("200,000 chars", json!("y".repeat(200_000)), Refused));
                    out.push(h("lone surrogate", raw("SURROGATE"), Sane));
                    out.push(h("lone surrogates", raw("SURROGATES"), Sane));
                    out.push(h("RTL marks", json!("\u{202e}gnp.exe\u{200f}\u{200e}"), Sane));
                    out.push(h("emoji", json!("📦🚚👩‍👩‍👧 ✓"), Sane));
                    out.push(h("zero-width", json!("\u{200b}\u{feff}"), Sane));
                    out.push(h("SQL", json!("'; DROP TABLE orders; --"), Sane));
                    out.push(h("SQL or", json!("x' OR '1'='1"), Sane));
                    out.push(h("LIKE metacharacters", json!("%_\\%"), Sane));
                    out.push(h("JSON metacharacters", json!("\"}, {\"$ne\": null}"), Sane));
                    out.push(h("backslash", json!("\\"), Sane));
                    out.push(h("tab newline CR", json!("a\tb\nc\r\n"), Sane));
                    out.push(h("empty", json!(""), Sane));
                    out.push(h("spaces", json!("   "), Sane));
                }
            },
            Ty::NonNull(_) => {}
        }
        out
    }

    /// `{ a b c { d } }` for `ty`: fields without arguments, objects down to `depth`.
    fn selection(&self, ty: &str, depth: usize) -> String {
        match self.schema.kind(ty) {
            "OBJECT" | "INTERFACE" => {
                let mut parts = vec!["__typename".to_owned()];
                for f in &self.schema.def(ty).fields {
                    if !f.args.is_empty() {
                        continue;
                    }
                    match self.schema.kind(f.ty.named()) {
                        "OBJECT" | "INTERFACE" | "UNION" => {
                            if depth > 0 {
                                parts.push(format!("{} {}", f.name, self.selection(f.ty.named(), depth - 1)));
                            }
                        }
                        _ => parts.push(f.name.clone()),
                    }
                }
                format!("{{ {} }}", parts.join(" "))
            }
            "UNION" => "{ __typename }".into(),
            _ => String::new(),
        }
    }

    fn document(&self, keyword: &str, field: &FieldDef, vars: &Map<String, Value>, selection: &str) -> String {
        let decls: Vec<String> = field
            .args
            .iter()
            .filter(|a| vars.contains_key(&a.name))
            .map(|a| format!("${}: {}", a.name, a.ty.sdl()))
            .collect();
        let args: Vec<String> =
            field.args.iter().filter(|a| vars.contains_key(&a.name)).map(|a| format!("{0}: ${0}", a.name)).collect();
        let decls = if decls.is_empty() { String::new() } else { format!("({})", decls.join(", ")) };
        let args = if args.is_empty() { String::new() } else { format!("({})", args.join(", ")) };
        format!("{keyword} Fuzz{decls} {{ {}{args} {selection} }}", field.name)
    }

    /// The same call with every argument written inline in the document.
    fn inline_document(&self, keyword: &str, field: &FieldDef, vars: &Map<String, Value>, selection: &str) -> String {
        let args: Vec<String> = field
            .args
            .iter()
            .filter_map(|a| vars.get(&a.name).map(|v| format!("{}: {}", a.name, self.literal(v, &a.ty))))
            .collect();
        let args = if args.is_empty() { String::new() } else { format!("({})", args.join(", ")) };
        format!("{keyword} {{ {}{args} {selection} }}", field.name)
    }

    fn literal(&self, v: &Value, ty: &Ty) -> String {
        match (v, ty.nullable()) {
            (Value::Null, _) => "null".into(),
            (Value::Array(items), Ty::List(inner)) => {
                format!("[{}]", items.iter().map(|i| self.literal(i, inner)).collect::<Vec<_>>().join(", "))
            }
            (Value::Object(m), Ty::Named(n)) => {
                let fields = &self.schema.def(n).input_fields;
                let parts: Vec<String> = m
                    .iter()
                    .map(|(k, v)| {
                        let fty =
                            fields.iter().find(|f| f.name == *k).map_or(Ty::Named("String".into()), |f| f.ty.clone());
                        format!("{k}: {}", self.literal(v, &fty))
                    })
                    .collect();
                format!("{{ {} }}", parts.join(", "))
            }
            (Value::String(s), Ty::Named(n)) if self.schema.kind(n) == "ENUM" && !s.contains('\0') => s.clone(),
            (v, _) => v.to_string(),
        }
    }

    /// Sends one operation and checks the answer; returns the body.
    async fn call(
        &mut self,
        op: &str,
        label: &str,
        doc: &str,
        vars: &Value,
        bearer: Option<&str>,
        expect: Expect,
    ) -> Value {
        let body = unraw(serde_json::to_string(&json!({ "query": doc, "variables": vars })).expect("serialise"));
        // Bodies over the limit go on a connection of their own: the server answers 413
        // without reading the rest and drops that connection, which a pooled client could
        // otherwise pick for the next call.
        let client = if body.len() > 256 * 1024 { &self.oversized } else { &self.app.client };
        let mut req = client.post(self.app.url("/graphql")).header("content-type", "application/json").body(body);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        self.calls += 1;
        *self.per_op.entry(op.to_owned()).or_default() += 1;
        let started = Instant::now();
        let resp = req.send().await;
        let took = started.elapsed();
        if took > Duration::from_millis(500) {
            self.slow.push((took, format!("{op} [{label}]")));
        }
        let resp = match resp {
            Ok(r) => r,
            Err(e) => {
                self.failures.push(format!("{op} [{label}]: no answer: {e}"));
                return Value::Null;
            }
        };
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let short = |s: &str| s.chars().take(400).collect::<String>();
        if status >= 500 {
            self.failures.push(format!("{op} [{label}]: HTTP {status}: {}", short(&text)));
            return body;
        }
        let shaped = body.as_object().is_some_and(|o| o.contains_key("data") || o.contains_key("errors"))
            && body.get("errors").is_none_or(|errs| {
                errs.as_array().is_some_and(|a| {
                    !a.is_empty() && a.iter().all(|e| e["message"].is_string() && e["extensions"]["code"].is_string())
                })
            });
        if !shaped {
            self.failures.push(format!("{op} [{label}]: HTTP {status}, not GraphQL-shaped: {}", short(&text)));
            return body;
        }
        let codes: Vec<&str> = body["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["extensions"]["code"].as_str()).collect())
            .unwrap_or_default();
        *self.outcomes.entry(format!("{status} {}", codes.first().unwrap_or(&"ok"))).or_default() += 1;
        if codes.contains(&"INTERNAL") {
            self.failures.push(format!("{op} [{label}]: INTERNAL: {}", short(&text)));
        } else if expect == Expect::Refused && status != 413 && codes.first() != Some(&"BAD_USER_INPUT") {
            self.failures
                .push(format!("{op} [{label}]: expected BAD_USER_INPUT or 413, got HTTP {status}: {}", short(&text)));
        }
        body
    }

    /// The deepest selection the limits accept for a minimal valid call.
    async fn selection_for(&mut self, keyword: &str, field: &FieldDef, bearer: Option<&str>) -> String {
        let vars = self.args(&field.name, &field.args, None);
        for depth in [2, 1, 0] {
            let sel = self.selection(field.ty.named(), depth);
            let doc = self.document(keyword, field, &vars, &sel);
            let body =
                self.call(&field.name, "minimal valid", &doc, &Value::Object(vars.clone()), bearer, Expect::Sane).await;
            let text = body["errors"].to_string();
            if !(text.contains("too complex") || text.contains("nested too deep")) {
                return sel;
            }
        }
        self.selection(field.ty.named(), 0)
    }

    fn args(&self, op: &str, args: &[InputValue], target: Option<(&[Seg], &Value)>) -> Map<String, Value> {
        match self.object(op, args, target) {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    /// Every hostile value in every position of `field`, as `bearer`.
    async fn fuzz_field(&mut self, keyword: &str, field: &FieldDef, bearer: Option<&str>) {
        let op = field.name.clone();
        let sel = self.selection_for(keyword, field, bearer).await;
        let mut positions = Vec::new();
        for a in &field.args {
            self.positions(&a.ty, &a.name, vec![Seg::Field(a.name.clone())], 0, &mut positions);
        }
        let mut huge_sent = false;
        for (path, ty, name) in positions {
            for hv in self.hostile(&op, &ty, &name) {
                let vars = self.args(&op, &field.args, Some((&path, &hv.value)));
                let doc = self.document(keyword, field, &vars, &sel);
                let label = format!("{} = {}", path_text(&path), hv.label);
                self.call(&op, &label, &doc, &Value::Object(vars.clone()), bearer, hv.expect).await;
                // The same value written inline in the document, for the values the policy
                // refuses and a few that reach the resolvers.
                if matches!(hv.label, "NUL" | "control char" | "SQL" | "RTL marks" | "10,001 chars" | "lone surrogate")
                {
                    let doc = self.inline_document(keyword, field, &vars, &sel);
                    let expect = if hv.label == "lone surrogate" { Expect::Sane } else { hv.expect };
                    self.call(&op, &format!("{label} (inline)"), &unraw(doc), &json!({}), bearer, expect).await;
                }
                // One 1 MB string per operation: the body limit answers before any parsing.
                if hv.label == "NUL" && !huge_sent {
                    huge_sent = true;
                    let vars = self.args(&op, &field.args, Some((&path, &json!("z".repeat(1 << 20)))));
                    let doc = self.document(keyword, field, &vars, &sel);
                    let label = format!("{} = 1 MB", path_text(&path));
                    self.call(&op, &label, &doc, &Value::Object(vars), bearer, Expect::Refused).await;
                }
            }
        }
        // Required arguments left out altogether.
        if field.args.iter().any(InputValue::required) {
            let doc = format!("{keyword} {{ {} {sel} }}", field.name);
            self.call(&op, "required arguments missing", &doc, &json!({}), bearer, Expect::Sane).await;
        }
    }

    /// A minimal valid call and a NUL in the first string position, as `bearer`.
    async fn probe_field(&mut self, keyword: &str, field: &FieldDef, bearer: Option<&str>, who: &str) {
        let op = field.name.clone();
        let sel = self.selection(field.ty.named(), 0);
        let vars = self.args(&op, &field.args, None);
        let doc = self.document(keyword, field, &vars, &sel);
        self.call(&op, &format!("{who}: minimal valid"), &doc, &Value::Object(vars), bearer, Expect::Sane).await;
        let mut positions = Vec::new();
        for a in &field.args {
            self.positions(&a.ty, &a.name, vec![Seg::Field(a.name.clone())], 0, &mut positions);
        }
        let stringy = positions.into_iter().find(|(_, ty, _)| {
            matches!(ty.nullable(), Ty::Named(n) if matches!(n.as_str(), "String" | "ID" | "DateTime" | "NaiveDate"))
        });
        if let Some((path, _, _)) = stringy {
            for (label, v, expect) in [
                ("NUL", json!("a\u{0}b"), Expect::Refused),
                ("200,000 chars", json!("y".repeat(200_000)), Expect::Refused),
                ("SQL", json!("'; DROP TABLE users; --"), Expect::Sane),
            ] {
                let vars = self.args(&op, &field.args, Some((&path, &v)));
                let doc = self.document(keyword, field, &vars, &sel);
                let label = format!("{who}: {} = {label}", path_text(&path));
                self.call(&op, &label, &doc, &Value::Object(vars), bearer, expect).await;
            }
        }
    }
}

/// Mutations that end sessions or remove what later calls use go last.
fn destructive(name: &str) -> bool {
    ["logout", "delete", "disable", "deactivate", "revoke", "updateUserRole"].iter().any(|p| name.starts_with(p))
}

struct Tenant {
    owner: Session,
    org: Uuid,
    account: Uuid,
    sku: Uuid,
    order: Uuid,
    channel: String,
    waybill: String,
    template: String,
}

async fn tenant(app: &TestApp, name: &str, email: &str) -> Tenant {
    let owner = app.sign_up(name, email).await;
    let org = fixtures::org_of(app, email).await;
    let account = fixtures::account(app, org).await;
    let sku = fixtures::sku(app, org, &format!("MUG-{name}"), fixtures::MUG).await;
    let order =
        fixtures::order(app, org, account, &fixtures::addr("Ann O'Neil", "1 Main St", "IE"), &[(Some(sku), 1)]).await;
    let channel = fixtures::channel(app, &owner, open_channel(&format!("FZ{}", &name[..1]))).await;
    let body = app
        .gql(
            "mutation($i: CreateWaybillInput!) { createWaybill(input: $i) { waybill { id } userErrors { code } } }",
            json!({ "i": { "channelId": channel,
                "recipient": { "name": "A", "line1": "1 St", "city": "X", "countryCode": "US" },
                "lines": [{ "quantity": 1, "nameEn": "Book", "unitValueMinor": 100, "currency": "USD", "unitWeightGrams": 100 }] } }),
            Some(&owner.access),
        )
        .await;
    let waybill = body["data"]["createWaybill"]["waybill"]["id"].as_str().expect("waybill").to_owned();
    let blocks = json!([
        { "kind": "BARCODE", "xMm": 5.0, "yMm": 5.0, "widthMm": 80.0, "heightMm": 20.0, "fontSize": 9.0 },
        { "kind": "RECIPIENT", "xMm": 5.0, "yMm": 30.0, "widthMm": 80.0, "heightMm": 40.0, "fontSize": 9.0 },
    ]);
    let body = app
        .gql(
            "mutation($i: CreateLabelTemplateInput!) { createLabelTemplate(input: $i) { labelTemplate { id } userErrors { code message } } }",
            json!({ "i": { "code": format!("T-{name}"), "name": "t", "widthMm": 100, "heightMm": 100, "blocks": blocks } }),
            Some(&owner.access),
        )
        .await;
    let template = body["data"]["createLabelTemplate"]["labelTemplate"]["id"].as_str().expect("template").to_owned();
    Tenant { owner, org, account, sku, order, channel, waybill, template }
}

/// (id, updated_at) of every row the other tenant owns, to prove nothing of theirs moved.
async fn fingerprint(app: &TestApp, org: Uuid) -> Vec<String> {
    let db = &app.state.services.db;
    let mut rows = Vec::new();
    for o in order::Entity::find().filter(order::Column::OrganizationId.eq(org)).all(db).await.unwrap() {
        rows.push(format!("order {} {} {:?}", o.id, o.updated_at, o.fulfillment_status));
    }
    for s in sku::Entity::find().filter(sku::Column::OrganizationId.eq(org)).all(db).await.unwrap() {
        rows.push(format!("sku {} {}", s.id, s.updated_at));
    }
    for a in account::Entity::find().filter(account::Column::OrganizationId.eq(org)).all(db).await.unwrap() {
        rows.push(format!("account {} {} {:?}", a.id, a.updated_at, a.status));
    }
    for c in channel::Entity::find().filter(channel::Column::OrganizationId.eq(org)).all(db).await.unwrap() {
        rows.push(format!("channel {} {}", c.id, c.updated_at));
    }
    for w in waybill::Entity::find().filter(waybill::Column::OrganizationId.eq(org)).all(db).await.unwrap() {
        rows.push(format!("waybill {} {} {:?}", w.id, w.updated_at, w.status));
    }
    for t in
        label_template::Entity::find().filter(label_template::Column::OrganizationId.eq(org)).all(db).await.unwrap()
    {
        rows.push(format!("template {} {}", t.id, t.updated_at));
    }
    for k in api_key::Entity::find().filter(api_key::Column::OrganizationId.eq(org)).all(db).await.unwrap() {
        rows.push(format!("api key {} {} {:?}", k.id, k.updated_at, k.revoked_at));
    }
    for m in membership::Entity::find().filter(membership::Column::OrganizationId.eq(org)).all(db).await.unwrap() {
        rows.push(format!("membership {} {:?} {}", m.id, m.role, m.updated_at));
    }
    rows.sort();
    rows
}

/// Invariants a half-written request would break.
async fn half_written(app: &TestApp) -> Vec<String> {
    let db = &app.state.services.db;
    let mut bad = Vec::new();
    let orders = order::Entity::find().all(db).await.unwrap();
    let waybills = waybill::Entity::find().all(db).await.unwrap();
    let jobs = job::Entity::find().filter(job::Column::Kind.eq("orders.push")).all(db).await.unwrap();
    let queued: HashSet<String> = jobs
        .iter()
        .flat_map(|j| j.payload["order_ids"].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let skus: HashMap<Uuid, Uuid> =
        sku::Entity::find().all(db).await.unwrap().into_iter().map(|s| (s.id, s.organization_id)).collect();
    let channels: HashMap<Uuid, Option<Uuid>> =
        channel::Entity::find().all(db).await.unwrap().into_iter().map(|c| (c.id, c.organization_id)).collect();
    let order_org: HashMap<Uuid, Uuid> = orders.iter().map(|o| (o.id, o.organization_id)).collect();
    for o in &orders {
        let live_waybill = waybills.iter().any(|w| w.order_id == Some(o.id) && w.status != WaybillStatus::Cancelled);
        if o.fulfillment_status == FulfillmentStatus::Pushing && !queued.contains(&o.id.to_string()) {
            bad.push(format!("order {} PUSHING without a push job", o.id));
        }
        if matches!(o.fulfillment_status, FulfillmentStatus::Pushing | FulfillmentStatus::Pushed) && !live_waybill {
            bad.push(format!("order {} {:?} without a waybill", o.id, o.fulfillment_status));
        }
        if o.fulfillment_status == FulfillmentStatus::Pushed && o.tracking_number.is_none() {
            bad.push(format!("order {} PUSHED without a tracking number", o.id));
        }
        if let Some(c) = o.channel_id
            && channels.get(&c).is_some_and(|owner| owner.is_some_and(|org| org != o.organization_id))
        {
            bad.push(format!("order {} uses another tenant's channel", o.id));
        }
    }
    for w in &waybills {
        if matches!(w.status, WaybillStatus::Forecasted | WaybillStatus::Printed | WaybillStatus::Shipped)
            && w.tracking_number.is_none()
        {
            bad.push(format!("waybill {} {:?} without a tracking number", w.id, w.status));
        }
        if w.order_id.is_some_and(|o| order_org.get(&o) != Some(&w.organization_id)) {
            bad.push(format!("waybill {} of another tenant's order", w.id));
        }
        if channels.get(&w.channel_id).is_some_and(|owner| owner.is_some_and(|org| org != w.organization_id)) {
            bad.push(format!("waybill {} on another tenant's channel", w.id));
        }
    }
    for i in order_item::Entity::find().all(db).await.unwrap() {
        if let Some(s) = i.sku_id
            && skus.get(&s) != Some(&i.organization_id)
        {
            bad.push(format!("order item {} linked to another tenant's SKU", i.id));
        }
    }
    let memberships = membership::Entity::find().all(db).await.unwrap();
    for u in user::Entity::find().all(db).await.unwrap() {
        if !memberships.iter().any(|m| m.user_id == u.id) {
            bad.push(format!("user {} ({}) without an organization", u.id, u.email));
        }
    }
    for o in organization::Entity::find().all(db).await.unwrap() {
        if !memberships.iter().any(|m| m.organization_id == o.id && m.role == entity::enums::Role::Owner) {
            bad.push(format!("organization {} without an owner", o.id));
        }
    }
    for k in idempotency_key::Entity::find().all(db).await.unwrap() {
        if k.response.is_none() {
            bad.push(format!("idempotency key {} without its response", k.key));
        }
    }
    bad
}

async fn fuzz_every_operation(app: TestApp) {
    let started = Instant::now();
    let a = tenant(&app, "Alpha", "fuzz-a@example.com").await;
    let b = tenant(&app, "Bravo", "fuzz-b@example.com").await;
    let victim = app.add_user(&a.owner, "fuzz-victim@example.com", "OPERATOR").await;
    let key = |role: &str| {
        app.gql(
            "mutation($r: Role!) { createApiKey(input: { name: \"fuzz\", role: $r }) { apiKey { id } secret } }",
            json!({ "r": role }),
            Some(&a.owner.access),
        )
    };
    let viewer = key("VIEWER").await["data"]["createApiKey"]["secret"].as_str().expect("viewer key").to_owned();
    let doomed = key("OPERATOR").await["data"]["createApiKey"]["apiKey"]["id"].as_str().expect("key id").to_owned();
    let victim_refresh = session_from(&app.login("fuzz-victim@example.com", PASSWORD).await["data"]["login"]).refresh;
    let warehouse = fixtures::account(&app, a.org).await;
    {
        use sea_orm::{ActiveModelTrait, Set};
        account::ActiveModel {
            id: Set(warehouse),
            platform: Set(entity::enums::Platform::Orangeconnex),
            ..Default::default()
        }
        .update(&app.state.services.db)
        .await
        .unwrap();
    }
    let item = order_item::Entity::find().filter(order_item::Column::OrderId.eq(a.order)).one(&app.state.services.db);
    let item = item.await.unwrap().expect("order item").id;
    let b_item = order_item::Entity::find().filter(order_item::Column::OrderId.eq(b.order)).one(&app.state.services.db);
    let b_item = b_item.await.unwrap().expect("order item").id;
    let own: HashMap<&'static str, String> = HashMap::from([
        ("User", victim.user_id.clone()),
        ("Organization", gid(Kind::Organization, a.org)),
        ("ApiKey", doomed),
        ("Account", gid(Kind::Account, a.account)),
        ("Order", gid(Kind::Order, a.order)),
        ("OrderItem", gid(Kind::OrderItem, item)),
        ("Channel", a.channel.clone()),
        ("Waybill", a.waybill.clone()),
        ("Sku", gid(Kind::Sku, a.sku)),
        ("LabelTemplate", a.template.clone()),
    ]);
    let foreign: HashMap<&'static str, String> = HashMap::from([
        ("User", b.owner.user_id.clone()),
        ("Organization", gid(Kind::Organization, b.org)),
        ("Account", gid(Kind::Account, b.account)),
        ("Order", gid(Kind::Order, b.order)),
        ("OrderItem", gid(Kind::OrderItem, b_item)),
        ("Channel", b.channel.clone()),
        ("Waybill", b.waybill.clone()),
        ("Sku", gid(Kind::Sku, b.sku)),
        ("LabelTemplate", b.template.clone()),
    ]);
    let theirs_before = fingerprint(&app, b.org).await;

    // The schema, as each kind of caller sees it.
    let introspected = app.gql(INTROSPECTION, json!({}), Some(&a.owner.access)).await;
    assert!(introspected["errors"].is_null(), "{introspected}");
    for bearer in [None, Some(viewer.as_str())] {
        let body = app.gql(INTROSPECTION, json!({}), bearer).await;
        assert!(body["errors"].is_null(), "{body}");
        assert_eq!(body["data"], introspected["data"], "the schema is the same for every caller");
    }
    let schema = Introspected::parse(&introspected);
    let setup = started.elapsed();

    let mut fuzz = Fuzz {
        app: &app,
        oversized: reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client"),
        schema,
        ids: Ids { own, foreign, warehouse_account: gid(Kind::Account, warehouse), victim_refresh },
        seq: AtomicUsize::new(0),
        calls: 0,
        per_op: BTreeMap::new(),
        failures: Vec::new(),
        slow: Vec::new(),
        outcomes: BTreeMap::new(),
    };
    let mut ops: Vec<(&'static str, FieldDef)> = Vec::new();
    for f in &fuzz.schema.def(&fuzz.schema.query).fields {
        ops.push(("query", f.clone()));
    }
    let mut mutations = fuzz.schema.def(&fuzz.schema.mutation).fields.clone();
    mutations.sort_by_key(|f| destructive(&f.name));
    ops.extend(mutations.into_iter().map(|f| ("mutation", f)));
    let positions: usize = ops
        .iter()
        .map(|(_, f)| {
            let mut p = Vec::new();
            for a in &f.args {
                fuzz.positions(&a.ty, &a.name, vec![Seg::Field(a.name.clone())], 0, &mut p);
            }
            p.len()
        })
        .sum();

    // Anonymous and VIEWER-key callers first (they must not change anything), then the OWNER.
    for (keyword, f) in &ops {
        fuzz.probe_field(keyword, f, None, "anonymous").await;
        fuzz.probe_field(keyword, f, Some(&viewer), "viewer key").await;
    }
    let owner = a.owner.access.clone();
    for (keyword, f) in &ops {
        let t = Instant::now();
        let before = fuzz.calls;
        fuzz.fuzz_field(keyword, f, Some(&owner)).await;
        eprintln!("fuzz: {keyword} {}: {} calls in {:?}", f.name, fuzz.calls - before, t.elapsed());
    }

    // The server still answers, and the owner is still signed in.
    let me = app.gql("{ me { email } }", json!({}), Some(&owner)).await;
    assert_eq!(me["data"]["me"]["email"], "fuzz-a@example.com", "{me}");

    let half = half_written(&app).await;
    let theirs_after = fingerprint(&app, b.org).await;
    fuzz.slow.sort_by_key(|s| std::cmp::Reverse(s.0));
    eprintln!(
        "fuzz: {} operations ({} queries, {} mutations), {} argument positions, {} calls in {:?} (setup {:?}); slowest: {:?}",
        ops.len(),
        ops.iter().filter(|(k, _)| *k == "query").count(),
        ops.iter().filter(|(k, _)| *k == "mutation").count(),
        positions,
        fuzz.calls,
        started.elapsed(),
        setup,
        fuzz.slow.iter().take(5).collect::<Vec<_>>(),
    );
    eprintln!("fuzz: answers by HTTP status and first error code: {:?}", fuzz.outcomes);
    assert!(fuzz.per_op.len() == ops.len(), "every operation was called");
    assert!(
        fuzz.failures.is_empty(),
        "{} of {} calls failed:\n{}",
        fuzz.failures.len(),
        fuzz.calls,
        fuzz.failures.join("\n")
    );
    assert!(half.is_empty(), "half-written records:\n{}", half.join("\n"));
    let moved: Vec<_> = theirs_after.iter().filter(|r| !theirs_before.contains(r)).collect();
    assert!(moved.is_empty(), "the other tenant's rows changed: {moved:?}");
}
