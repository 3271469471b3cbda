//! Bounds checked before anything recursive sees a request, whatever its text: the
//! nesting of the document (lists, input objects, selection sets, arguments) is measured
//! by a flat scan of the text before the parser runs (a list nested 1,600 deep used to
//! overflow the parser's stack and abort the process); after parsing, fragment-spread
//! chains and the variables' JSON are measured the same way, aliases and field selections
//! (`__typename` included) are counted, and every String value — in the document and in
//! the variables — meets one input policy: at most [`MAX_STRING_CHARS`] characters and no
//! control characters but tab, line feed and carriage return. Every refusal is an ordinary
//! GraphQL error with `extensions.code` BAD_USER_INPUT (and `field` naming the value).

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Name, ServerError, ServerResult, ValidationResult, Value, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation},
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};

use crate::error::ErrorCode;

/// Deepest nesting of `{`, `[` and `(` in the document text, and of the variables' JSON.
pub const MAX_NESTING: usize = 64;
/// Longest chain of fragment spreads (a fragment spreading one that spreads another…).
pub const MAX_FRAGMENT_CHAIN: usize = 32;
/// Aliased fields in one document.
pub const MAX_ALIASES: usize = 100;
/// Field selections in one document, `__typename` included.
pub const MAX_SELECTIONS: usize = 2_000;
/// Longest String value, in characters.
pub const MAX_STRING_CHARS: usize = 10_000;

pub struct RequestLimits;

impl ExtensionFactory for RequestLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestLimitsExt)
    }
}

struct RequestLimitsExt;

fn refuse(message: impl Into<String>, field: Option<String>) -> ServerError {
    let mut e = ServerError::new(message, None);
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", ErrorCode::BadUserInput.as_str());
    if let Some(f) = field {
        ext.set("field", f);
    }
    e.extensions = Some(ext);
    e
}

#[async_trait::async_trait]
impl Extension for RequestLimitsExt {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if text_nesting(query) > MAX_NESTING {
            return Err(refuse(format!("The document is nested more than {MAX_NESTING} levels deep."), None));
        }
        check_variables(variables)?;
        let doc = next.run(ctx, query, variables).await.map_err(with_code)?;
        check_document(&doc)?;
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| errors.into_iter().map(with_code).collect())
    }
}

/// Errors async-graphql raises itself while parsing and validating (syntax, recursion
/// depth, unknown fields, limits) carry no code: they are all the client's input. Coded
/// here, so graphql-ws clients get the same `extensions.code` as HTTP ones.
fn with_code(mut e: ServerError) -> ServerError {
    let has_code = e.extensions.as_ref().is_some_and(|ext| ext.get("code").is_some());
    if !has_code {
        e.extensions.get_or_insert_with(Default::default).set("code", ErrorCode::BadUserInput.as_str());
    }
    e
}

/// The deepest nesting of `{`, `[` and `(` outside strings and comments: one pass, no
/// recursion, so any text can be measured.
pub fn text_nesting(query: &str) -> usize {
    let b = query.as_bytes();
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if b[i..].starts_with(b"\"\"\"") => {
                // Block string: ends at the next `"""` not escaped as `\"""`.
                i += 3;
                while i < b.len() && !(b[i..].starts_with(b"\"\"\"") && b[i - 1] != b'\\') {
                    i += 1;
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    max
}

/// Variables: nesting bounded (serde_json already stops at 128) and every string checked.
fn check_variables(variables: &Variables) -> ServerResult<()> {
    let mut stack: Vec<(&Value, String, usize)> =
        variables.iter().map(|(k, v)| (v, format!("variables.{k}"), 1)).collect();
    while let Some((v, path, depth)) = stack.pop() {
        if depth > MAX_NESTING {
            return Err(refuse(format!("The variables are nested more than {MAX_NESTING} levels deep."), None));
        }
        match v {
            Value::String(s) => check_string(s, &path)?,
            Value::List(items) => {
                stack.extend(items.iter().enumerate().map(|(i, v)| (v, format!("{path}.{i}"), depth + 1)))
            }
            Value::Object(map) => stack.extend(map.iter().map(|(k, v)| (v, format!("{path}.{k}"), depth + 1))),
            _ => {}
        }
    }
    Ok(())
}

pub fn check_string(s: &str, path: &str) -> ServerResult<()> {
    if s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        return Err(refuse(format!("{path} contains a control character."), Some(path.to_owned())));
    }
    if s.chars().nth(MAX_STRING_CHARS).is_some() {
        return Err(refuse(format!("{path} is longer than {MAX_STRING_CHARS} characters."), Some(path.to_owned())));
    }
    Ok(())
}

/// Fragment chains, aliases, selections and the strings written in the document. The
/// selection sets are walked with an explicit stack (their depth is bounded by the text
/// check already, but nothing here relies on it). Aliases and selections are counted as
/// executed: a fragment counts each time it is spread.
fn check_document(doc: &ExecutableDocument) -> ServerResult<()> {
    // Per operation (None) and per fragment: its own counts and the fragments it spreads.
    let mut owners: HashMap<Option<&Name>, (Counts, Vec<&Name>)> = HashMap::new();
    for (name, op) in doc.operations.iter() {
        let label = name.map_or_else(|| "query".to_owned(), |n| n.to_string());
        for var in &op.node.variable_definitions {
            if let Some(default) = &var.node.default_value {
                check_const_strings(default.node.clone(), format!("variables.{}", var.node.name.node))?;
            }
        }
        // One operation at a time: its spreads are expanded below, before the next.
        let mut own = (Counts::default(), Vec::new());
        walk(&op.node.selection_set.node, label, &mut own)?;
        owners.insert(None, own);
        let total = expanded_total(&mut owners, doc)?;
        if total.selections > MAX_SELECTIONS {
            return Err(refuse(format!("The document selects more than {MAX_SELECTIONS} fields."), None));
        }
        if total.aliases > MAX_ALIASES {
            return Err(refuse(format!("The document uses more than {MAX_ALIASES} aliases."), None));
        }
    }
    Ok(())
}

/// Counts and strings of one selection set (the owner's own, spreads listed).
fn walk<'a>(root: &'a SelectionSet, path: String, own: &mut (Counts, Vec<&'a Name>)) -> ServerResult<()> {
    let mut sets: Vec<(&SelectionSet, String)> = vec![(root, path)];
    while let Some((set, path)) = sets.pop() {
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    let f = &f.node;
                    own.0.selections += 1;
                    if f.alias.is_some() {
                        own.0.aliases += 1;
                    }
                    let at = format!("{path}.{}", f.name.node);
                    let directive_args = f.directives.iter().flat_map(|d| d.node.arguments.iter());
                    for (arg, value) in f.arguments.iter().chain(directive_args) {
                        let value = value
                            .node
                            .clone()
                            .into_const_with(|_| Ok::<_, std::convert::Infallible>(Value::Null))
                            .unwrap_or(Value::Null);
                        check_const_strings(value, format!("{at}.{}", arg.node))?;
                    }
                    sets.push((&f.selection_set.node, at));
                }
                Selection::InlineFragment(inline) => sets.push((&inline.node.selection_set.node, path.clone())),
                Selection::FragmentSpread(s) => own.1.push(&s.node.fragment_name.node),
            }
        }
        if own.0.selections > MAX_SELECTIONS {
            return Err(refuse(format!("The document selects more than {MAX_SELECTIONS} fields."), None));
        }
    }
    Ok(())
}

/// The operation's counts with every spread expanded (fragments walked once, memoised;
/// chains longer than [`MAX_FRAGMENT_CHAIN`] or cyclic are refused first).
fn expanded_total<'a>(
    owners: &mut HashMap<Option<&'a Name>, (Counts, Vec<&'a Name>)>,
    doc: &'a ExecutableDocument,
) -> ServerResult<Counts> {
    // Walk every fragment reachable from the operation.
    let mut todo: Vec<&Name> = owners.get(&None).map(|o| o.1.clone()).unwrap_or_default();
    while let Some(name) = todo.pop() {
        if owners.contains_key(&Some(name)) {
            continue;
        }
        // Unknown fragments are for validation to name.
        let Some((_, fragment)) = doc.fragments.iter().find(|(n, _)| *n == name) else {
            owners.insert(Some(name), (Counts::default(), Vec::new()));
            continue;
        };
        let mut own = (Counts::default(), Vec::new());
        walk(&fragment.node.selection_set.node, format!("fragment {name}"), &mut own)?;
        todo.extend(own.1.iter().copied());
        owners.insert(Some(name), own);
    }
    let graph: HashMap<&Name, Vec<&Name>> = owners.iter().filter_map(|(k, v)| k.map(|k| (k, v.1.clone()))).collect();
    if longest_chain(&graph) > MAX_FRAGMENT_CHAIN {
        return Err(refuse(format!("Fragments spread each other more than {MAX_FRAGMENT_CHAIN} levels deep."), None));
    }
    // Bounded depth (checked above): a memoised post-order sum.
    fn total<'a>(
        key: Option<&'a Name>,
        owners: &HashMap<Option<&'a Name>, (Counts, Vec<&'a Name>)>,
        memo: &mut HashMap<Option<&'a Name>, Counts>,
    ) -> Counts {
        if let Some(c) = memo.get(&key) {
            return *c;
        }
        let Some((own, spreads)) = owners.get(&key) else { return Counts::default() };
        let mut sum = *own;
        for s in spreads {
            let c = total(Some(s), owners, memo);
            sum.selections = sum.selections.saturating_add(c.selections);
            sum.aliases = sum.aliases.saturating_add(c.aliases);
        }
        memo.insert(key, sum);
        sum
    }
    Ok(total(None, owners, &mut HashMap::new()))
}

#[derive(Default, Clone, Copy)]
struct Counts {
    selections: usize,
    aliases: usize,
}

/// Strings written in an argument's value (variables are checked on their own, so a
/// variable reference stands for null here).
fn check_const_strings(v: Value, path: String) -> ServerResult<()> {
    let mut stack: Vec<(Value, String)> = vec![(v, path)];
    while let Some((v, path)) = stack.pop() {
        match v {
            Value::String(s) => check_string(&s, &path)?,
            Value::List(items) => stack.extend(items.into_iter().enumerate().map(|(i, v)| (v, format!("{path}.{i}")))),
            Value::Object(map) => stack.extend(map.into_iter().map(|(k, v)| (v, format!("{path}.{k}")))),
            _ => {}
        }
    }
    Ok(())
}

/// The longest chain of fragment spreads, without recursion. A cycle counts as endless
/// (validation names it; here it only must not loop).
fn longest_chain(spreads: &HashMap<&Name, Vec<&Name>>) -> usize {
    let mut depth: HashMap<&Name, usize> = HashMap::new();
    for start in spreads.keys() {
        if depth.contains_key(start) {
            continue;
        }
        // Iterative post-order DFS; `on_path` detects cycles.
        let mut on_path: std::collections::HashSet<&Name> = std::collections::HashSet::new();
        let mut stack: Vec<(&Name, usize)> = vec![(start, 0)];
        on_path.insert(start);
        while let Some((node, child)) = stack.pop() {
            let children = spreads.get(node).map(Vec::as_slice).unwrap_or_default();
            if let Some(next) = children.get(child) {
                stack.push((node, child + 1));
                if on_path.contains(next) {
                    return usize::MAX;
                }
                if !depth.contains_key(next) {
                    on_path.insert(next);
                    stack.push((next, 0));
                }
                continue;
            }
            let d = 1 + children.iter().filter_map(|c| depth.get(c)).copied().max().unwrap_or(0);
            depth.insert(node, d);
            on_path.remove(node);
            if d > MAX_FRAGMENT_CHAIN {
                return d;
            }
        }
    }
    depth.values().copied().max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_measured_outside_strings_and_comments() {
        assert_eq!(text_nesting("{ a { b(x: [1, {c: 2}]) } }"), 5);
        assert_eq!(text_nesting(r#"{ a(s: "{{{[[[") }"#), 2);
        assert_eq!(text_nesting("{ a(s: \"\"\"{{{ \\\"\"\" [[[ \"\"\") }"), 2);
        assert_eq!(text_nesting("# {{{{{\n{ a }"), 1);
        let bomb = format!("{{ nodes(ids: {}\"x\"{}) {{ id }} }}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(text_nesting(&bomb), 100_002);
    }

    #[test]
    fn strings() {
        assert!(check_string("Zoë O'Brien & Co — 茶具 🚚 \u{200f}", "x").is_ok());
        assert!(check_string("a\u{0}b", "x").is_err());
        assert!(check_string("line\nbreak\ttab", "x").is_ok());
        assert!(check_string(&"x".repeat(MAX_STRING_CHARS), "x").is_ok());
        assert!(check_string(&"x".repeat(MAX_STRING_CHARS + 1), "x").is_err());
    }
}
