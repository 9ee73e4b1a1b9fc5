//! The operation layer: borrowed request bodies with the checks their schema implies
//! (`bodies.rs`), and per vendor the typed endpoints, the account settings and the client
//! (`client.rs`).
//!
//! Body types are read from the bundled schema, not from typify: a body borrows the caller's
//! data (`&str`, [`Joined`] lists, slices of item bodies) and serialises to the bytes typify's
//! owned model would make (same field names, same order: properties sorted by name).
//!
//! Schema keywords the emitter reads beside draft-07 (declared in the spec, never coded per
//! vendor): `x-list` (a string the wire carries as a list joined by this separator), `x-role`
//! (`numbers`, `number`, `ids`, `content`, `sender-id`: which checks and which
//! `operations.json` limits apply), `x-same-count-as` (a list as long as another field) and
//! `x-rule` (a pattern's rule in words, for error messages).
//!
//! [`Joined`]: https://docs.rs/smsgate-transport (smsgate_transport::endpoint::Joined)

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use crate::GenError;
use crate::spec::{OperationSpec, VendorSpec};

/// What a body field is checked as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Plain,
    Content,
    SenderId,
    Number,
    /// One number in E.164 with its `+` (Twilio).
    NumberE164,
    Numbers,
    Ids,
}

impl Role {
    fn parse(value: Option<&Value>, at: &str) -> Result<Self, GenError> {
        Ok(match value.and_then(Value::as_str) {
            None => Self::Plain,
            Some("content") => Self::Content,
            Some("sender-id") => Self::SenderId,
            Some("number") => Self::Number,
            Some("number-e164") => Self::NumberE164,
            Some("numbers") => Self::Numbers,
            Some("ids") => Self::Ids,
            Some(other) => {
                return Err(GenError::Emit(format!(
                    "{at}: unknown x-role {other:?} (content, sender-id, number, number-e164, numbers, ids)"
                )));
            }
        })
    }
}

/// The shape of one body field.
#[derive(Debug, Clone)]
enum Kind {
    /// A string.
    Text {
        role: Role,
        min_length: u64,
        max_length: Option<u64>,
        pattern: Option<(String, String)>,
    },
    /// A string the wire carries as a joined list.
    List {
        role: Role,
        separator: char,
        same_count_as: Option<String>,
    },
    /// A closed string enum: the model's type, by value.
    Enum(String),
    /// An array of item bodies.
    Items {
        item: String,
        non_empty: bool,
        max_items: Option<u64>,
    },
    /// An integer or boolean, by value.
    Scalar(TokenStream),
}

#[derive(Debug, Clone)]
struct BodyField {
    json: String,
    ident: proc_macro2::Ident,
    doc: Option<String>,
    required: bool,
    kind: Kind,
    /// `x-in: path`: the value fills the operation path's `{json}` placeholder and is left out
    /// of the body.
    in_path: bool,
}

#[derive(Debug, Clone)]
struct BodyType {
    name: String,
    doc: String,
    fields: Vec<BodyField>,
    /// `x-required-any`: optional text fields of which at least one must be set.
    required_any: Vec<BodyField>,
}

/// `appId` → `app_id`, as typify names fields (a Rust keyword gets a `_`: `type` → `type_`).
pub fn snake(name: &str) -> String {
    let out = snake_words(name);
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
        "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true",
        "type", "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final",
        "gen", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
    ];
    if KEYWORDS.contains(&out.as_str()) {
        format!("{out}_")
    } else {
        out
    }
}

fn snake_words(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c == '-' {
            out.push('_');
        } else {
            out.push(c);
        }
    }
    out
}

fn definition<'s>(defs: &'s Value, name: &str, at: &str) -> Result<&'s Value, GenError> {
    defs.get(name)
        .ok_or_else(|| GenError::Emit(format!("{at}: no definition {name:?}")))
}

fn ref_name(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/definitions/"))
}

/// A property's schema with its `$ref` followed; the property's own keywords win.
fn resolved(defs: &Value, property: &Value, at: &str) -> Result<(Value, Option<String>), GenError> {
    let Some(name) = ref_name(property) else {
        return Ok((property.clone(), None));
    };
    let mut merged = definition(defs, name, at)?.clone();
    if let (Value::Object(target), Value::Object(own)) = (&mut merged, property) {
        for (key, value) in own {
            if key != "$ref" {
                target.insert(key.clone(), value.clone());
            }
        }
    }
    Ok((merged, Some(name.to_owned())))
}

fn types_of(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn field_kind(
    defs: &Value,
    schema: &Value,
    ref_name: Option<&str>,
    at: &str,
    queue: &mut Vec<String>,
) -> Result<Kind, GenError> {
    let types = types_of(schema);
    if schema.get("enum").is_some() {
        let name = ref_name.ok_or_else(|| {
            GenError::Emit(format!(
                "{at}: an enum in a request body must be a named definition"
            ))
        })?;
        return Ok(Kind::Enum(name.to_owned()));
    }
    match types.as_slice() {
        ["string"] => {
            let role = Role::parse(schema.get("x-role"), at)?;
            if let Some(separator) = schema.get("x-list").and_then(Value::as_str) {
                let mut chars = separator.chars();
                let (Some(separator), None) = (chars.next(), chars.next()) else {
                    return Err(GenError::Emit(format!(
                        "{at}: x-list must be one character"
                    )));
                };
                if !matches!(role, Role::Numbers | Role::Ids) {
                    return Err(GenError::Emit(format!(
                        "{at}: an x-list field needs x-role numbers or ids"
                    )));
                }
                // Its pattern is the role's (digits, or no separator inside an id), checked per
                // item; lengths of the joined string are not.
                refuse(schema, &["minLength", "maxLength"], at)?;
                return Ok(Kind::List {
                    role,
                    separator,
                    same_count_as: schema
                        .get("x-same-count-as")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                });
            }
            // Every pattern is checked, role or not (a role's own check may be looser).
            let pattern = schema
                .get("pattern")
                .and_then(Value::as_str)
                .map(|pattern| {
                    let rule = schema
                        .get("x-rule")
                        .and_then(Value::as_str)
                        .map_or_else(|| format!("matches {pattern}"), str::to_owned);
                    (pattern.to_owned(), rule)
                });
            let min_length = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0);
            if min_length > 1 {
                return Err(GenError::Emit(format!(
                    "{at}: minLength {min_length} is not supported (0 or 1: optional or non-empty)"
                )));
            }
            Ok(Kind::Text {
                role,
                min_length,
                max_length: schema.get("maxLength").and_then(Value::as_u64),
                pattern,
            })
        }
        ["integer"] | ["number"] | ["boolean"] => {
            refuse(
                schema,
                &[
                    "minimum",
                    "maximum",
                    "exclusiveMinimum",
                    "exclusiveMaximum",
                    "multipleOf",
                ],
                at,
            )?;
            Ok(Kind::Scalar(match types[0] {
                "integer" => quote!(i64),
                "number" => quote!(f64),
                _ => quote!(bool),
            }))
        }
        ["array"] => {
            let items = schema.get("items").unwrap_or(&Value::Null);
            let name = ref_name_of_object(defs, items, at)?;
            queue.push(name.clone());
            let min_items = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            if min_items > 1 {
                return Err(GenError::Emit(format!(
                    "{at}: minItems {min_items} is not supported (0 or 1: may be empty or not)"
                )));
            }
            Ok(Kind::Items {
                item: name,
                non_empty: min_items == 1,
                max_items: schema.get("maxItems").and_then(Value::as_u64),
            })
        }
        other => Err(GenError::Emit(format!(
            "{at}: a request body field of type {other:?} is not supported (string, list, enum, integer, boolean, array of objects)"
        ))),
    }
}

/// Refuses a keyword the emitter does not check: a spec must never promise a check that is not
/// made.
fn refuse(schema: &Value, keywords: &[&str], at: &str) -> Result<(), GenError> {
    match keywords.iter().find(|k| schema.get(**k).is_some()) {
        Some(keyword) => Err(GenError::Emit(format!(
            "{at}: `{keyword}` is not checked on this kind of request field; remove it or teach the generator"
        ))),
        None => Ok(()),
    }
}

fn ref_name_of_object(defs: &Value, items: &Value, at: &str) -> Result<String, GenError> {
    let name = ref_name(items).ok_or_else(|| {
        GenError::Emit(format!(
            "{at}: array items in a request body must be a named object"
        ))
    })?;
    let def = definition(defs, name, at)?;
    if types_of(def) != ["object"] {
        return Err(GenError::Emit(format!(
            "{at}: array items {name} must be an object"
        )));
    }
    Ok(name.to_owned())
}

/// Every body type reachable from `roots` (request types), in name order.
fn body_types(
    schema: &Value,
    roots: &BTreeSet<String>,
    at: &str,
) -> Result<Vec<BodyType>, GenError> {
    let defs = &schema["definitions"];
    let mut queue: Vec<String> = roots.iter().cloned().collect();
    let mut done: BTreeMap<String, BodyType> = BTreeMap::new();
    while let Some(name) = queue.pop() {
        if done.contains_key(&name) {
            continue;
        }
        let here = format!("{at}#/definitions/{name}");
        let def = definition(defs, &name, &here)?;
        if types_of(def) != ["object"] {
            return Err(GenError::Emit(format!(
                "{here}: a request body must be an object"
            )));
        }
        let required: BTreeSet<&str> = def
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut properties: Vec<(&String, &Value)> = def
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.iter().collect())
            .unwrap_or_default();
        properties.sort_by(|a, b| a.0.cmp(b.0));
        let mut fields = Vec::new();
        for (json, property) in properties {
            let field_at = format!("{here}/properties/{json}");
            let (schema, ref_name) = resolved(defs, property, &field_at)?;
            let kind = field_kind(defs, &schema, ref_name.as_deref(), &field_at, &mut queue)?;
            let in_path = match schema.get("x-in").and_then(Value::as_str) {
                None => false,
                Some("path")
                    if required.contains(json.as_str()) && matches!(kind, Kind::Text { .. }) =>
                {
                    true
                }
                Some(other) => {
                    return Err(GenError::Emit(format!(
                        "{field_at}: x-in {other:?} is not supported (\"path\", on a required string)"
                    )));
                }
            };
            fields.push(BodyField {
                in_path,
                json: json.clone(),
                ident: format_ident!("{}", snake(json)),
                doc: schema
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                required: required.contains(json.as_str()),
                kind,
            });
        }
        for field in &fields {
            if let Kind::List {
                same_count_as: Some(other),
                ..
            } = &field.kind
            {
                if !fields
                    .iter()
                    .any(|f| &f.json == other && matches!(f.kind, Kind::List { .. }))
                {
                    return Err(GenError::Emit(format!(
                        "{here}: x-same-count-as names {other:?}, which is not a list field"
                    )));
                }
            }
        }
        let mut required_any = Vec::new();
        if let Some(any) = def.get("x-required-any") {
            let names = any
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>());
            let Some(names) = names.filter(|n| n.len() >= 2) else {
                return Err(GenError::Emit(format!(
                    "{here}: x-required-any must list at least two field names"
                )));
            };
            for json in names {
                match fields.iter().find(|f| f.json == json) {
                    Some(f) if !f.required && !f.in_path && matches!(f.kind, Kind::Text { .. }) => {
                        required_any.push(f.clone());
                    }
                    _ => {
                        return Err(GenError::Emit(format!(
                            "{here}: x-required-any names {json:?}, which is not an optional string field"
                        )));
                    }
                }
            }
        }
        let doc = def
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        done.insert(
            name.clone(),
            BodyType {
                name,
                doc,
                fields,
                required_any,
            },
        );
    }
    Ok(done.into_values().collect())
}

fn field_type(field: &BodyField) -> TokenStream {
    let ty = match &field.kind {
        Kind::Text { .. } => quote!(&'a str),
        Kind::List { .. } => quote!(::smsgate_transport::endpoint::Joined<'a>),
        Kind::Enum(name) => {
            let ident = format_ident!("{}", name);
            quote!(super::models::#ident)
        }
        Kind::Items { item, .. } => {
            let ident = format_ident!("{}", item);
            quote!(&'a [#ident<'a>])
        }
        Kind::Scalar(ty) => ty.clone(),
    };
    if field.required {
        ty
    } else {
        quote!(::std::option::Option<#ty>)
    }
}

fn pattern_static(ty: &str, field: &BodyField) -> proc_macro2::Ident {
    format_ident!(
        "{}_{}_PATTERN",
        snake(ty).to_ascii_uppercase(),
        snake(&field.json).to_ascii_uppercase()
    )
}

/// The checks of one field, on `value` (a `&str`, a `Joined`, a slice).
fn field_checks(ty: &BodyType, field: &BodyField, value: &TokenStream) -> TokenStream {
    let json = Literal::string(&field.json);
    let at = quote!(field(#json));
    match &field.kind {
        Kind::Text {
            role,
            min_length,
            max_length,
            pattern,
        } => {
            let max = max_length.map(|n| {
                let n = Literal::usize_unsuffixed(n as usize);
                quote!(check.max_chars(#at, #value, Some(#n))?;)
            });
            // Content and a number refuse an empty value themselves.
            let required = (*min_length > 0
                && !matches!(role, Role::Content | Role::Number | Role::NumberE164))
            .then(|| quote!(check.required(#at, #value)?;));
            let role_check = match role {
                Role::Content => quote!(check.content(#at, #value)?;),
                Role::SenderId => quote!(check.sender_id(#at, #value)?;),
                Role::Number => quote!(check.number(#at, #value)?;),
                Role::NumberE164 => quote!(check.number_e164(#at, #value)?;),
                _ => quote!(),
            };
            let pattern = pattern.as_ref().map(|(pattern, rule)| {
                let rule = Literal::string(rule);
                let matches = match simple_pattern(pattern) {
                    Some(class) => class.tokens(value),
                    None => {
                        let stat = pattern_static(&ty.name, field);
                        quote!(#stat.find(#value).is_some())
                    }
                };
                quote!(check.format(#at, #matches, #rule)?;)
            });
            quote!(#required #role_check #max #pattern)
        }
        Kind::List {
            role,
            separator,
            same_count_as,
        } => {
            let same = same_count_as.as_ref().map(|other| {
                let other_ident = format_ident!("{}", snake(other));
                let other_lit = Literal::string(other);
                let other_len = match ty.fields.iter().find(|f| &f.json == other) {
                    Some(f) if !f.required => {
                        quote!(self.#other_ident.map_or(0, |list| list.len()))
                    }
                    _ => quote!(self.#other_ident.len()),
                };
                quote!(check.same_count(#at, #value.len(), #other_lit, #other_len)?;)
            });
            let list = match role {
                Role::Numbers => quote!(check.numbers(#at, #value.items(), None)?;),
                _ => {
                    let sep = Literal::character(*separator);
                    quote!(check.ids(#at, #value.items(), #sep, None)?;)
                }
            };
            quote!(#same #list)
        }
        Kind::Items {
            max_items,
            non_empty,
            ..
        } => {
            let max = match max_items {
                Some(n) => {
                    let n = Literal::usize_unsuffixed(*n as usize);
                    quote!(Some(#n))
                }
                None => quote!(None),
            };
            let count = if *non_empty {
                quote!(check.items(#at, #value.len(), #max)?;)
            } else {
                quote!(check.count(#at, #value.len(), #max)?;)
            };
            quote! {
                #count
                for (index, item) in #value.iter().enumerate() {
                    item.validate(check, Some((#json, index)))?;
                }
            }
        }
        Kind::Enum(_) | Kind::Scalar(_) => quote!(),
    }
}

fn recipients_of(field: &BodyField) -> Option<TokenStream> {
    let ident = &field.ident;
    let (one, many) = match &field.kind {
        Kind::Text {
            role: Role::Number | Role::NumberE164,
            ..
        } => (quote!(1), None),
        Kind::List {
            role: Role::Numbers,
            ..
        } => (quote!(list.len()), Some(quote!(self.#ident.len()))),
        Kind::Items { .. } => (
            quote!(list.iter().map(|item| item.recipients()).sum::<usize>()),
            Some(quote!(self.#ident.iter().map(|item| item.recipients()).sum::<usize>())),
        ),
        _ => return None,
    };
    Some(match (field.required, many) {
        (true, Some(many)) => many,
        (true, None) => one,
        (false, _) => quote!(self.#ident.map_or(0, |list| { let _ = &list; #one })),
    })
}

fn body_tokens(ty: &BodyType) -> TokenStream {
    let ident = format_ident!("{}", ty.name);
    let doc = crate::emit::docs(&format!(
        "{}\n\nBorrowed: serialises to the bytes of [`{}`](super::models::{}) without copying the \
         caller's data. [`{}::validate`] runs every check the schema gives these fields.",
        ty.doc, ty.name, ty.name, ty.name
    ));
    let fields = ty.fields.iter().map(|field| {
        let name = &field.ident;
        let json = &field.json;
        let ty = field_type(field);
        let doc = field.doc.as_deref().map(crate::emit::docs);
        let rename = (name != json).then(|| quote!(rename = #json,));
        let skip = if field.in_path {
            Some(quote!(skip,))
        } else {
            (!field.required)
                .then(|| quote!(skip_serializing_if = "::std::option::Option::is_none",))
        };
        let serde = (rename.is_some() || skip.is_some()).then(|| quote!(#[serde(#rename #skip)]));
        quote!(#doc #serde pub #name: #ty,)
    });
    let checks = ty.fields.iter().map(|field| {
        let name = &field.ident;
        let copy = matches!(field.kind, Kind::Enum(_) | Kind::Scalar(_));
        if copy {
            return quote!();
        }
        if field.required {
            field_checks(ty, field, &quote!(self.#name))
        } else {
            let inner = field_checks(ty, field, &quote!(value));
            if inner.is_empty() {
                return quote!();
            }
            quote!(if let Some(value) = self.#name { #inner })
        }
    });
    let required_any = (!ty.required_any.is_empty()).then(|| {
        let unset = ty.required_any.iter().map(|f| {
            let name = &f.ident;
            quote!(self.#name.is_none_or(str::is_empty))
        });
        let names = ty
            .required_any
            .iter()
            .map(|f| f.json.as_str())
            .collect::<Vec<_>>()
            .join(" or ");
        quote! {
            if #(#unset)&&* {
                return Err(check.error(field(#names), ::smsgate_transport::ValidationKind::Empty));
            }
        }
    });
    let recipients: Vec<TokenStream> = ty.fields.iter().filter_map(recipients_of).collect();
    let recipients = if recipients.is_empty() {
        quote!(0)
    } else {
        quote!(#(#recipients)+*)
    };
    let default = ty
        .fields
        .iter()
        .all(|f| !f.required || !matches!(f.kind, Kind::Enum(_)))
        .then(|| quote!(Default,));
    let borrows = ty.fields.iter().any(|f| {
        matches!(
            f.kind,
            Kind::Text { .. } | Kind::List { .. } | Kind::Items { .. }
        )
    });
    let marker = (!borrows).then(|| {
        quote! {
            /// Nothing borrowed: keeps the lifetime every body has.
            #[serde(skip)]
            pub marker: ::std::marker::PhantomData<&'a ()>,
        }
    });
    quote! {
        #doc
        #[derive(Debug, Clone, Copy, #default ::serde::Serialize)]
        pub struct #ident<'a> {
            #(#fields)*
            #marker
        }

        impl #ident<'_> {
            /// Checks every rule the schema gives these fields (`item`: the list and index the
            /// body sits at, for error messages); the operation's own limits are the endpoint's.
            pub fn validate(
                &self,
                check: &::smsgate_transport::validate::Checker<'_>,
                item: ::std::option::Option<(&'static str, usize)>,
            ) -> ::std::result::Result<(), ::smsgate_transport::ValidationError> {
                let field = |name: &'static str| ::smsgate_transport::validate::Field::at(item, name);
                let _ = (&field, check);
                #required_any
                #(#checks)*
                Ok(())
            }

            /// Phone numbers the body carries (items included).
            pub fn recipients(&self) -> usize {
                #recipients
            }
        }
    }
}

/// A pattern that is one ASCII character class repeated (`^[0-9A-Za-z]{1,20}$`, `^[0-9]+$`):
/// checked byte by byte, without a regex engine (the checks run per item on every request).
struct SimplePattern {
    ranges: Vec<(u8, u8)>,
    min: usize,
    max: Option<usize>,
}

impl SimplePattern {
    fn tokens(&self, value: &TokenStream) -> TokenStream {
        let arms = self.ranges.iter().map(|&(lo, hi)| {
            // `b'0'..=b'9'` alone is written `u8::is_ascii_digit` (below).
            let (lo, hi) = (Literal::byte_character(lo), Literal::byte_character(hi));
            if lo.to_string() == hi.to_string() {
                quote!(#lo)
            } else {
                quote!(#lo..=#hi)
            }
        });
        let min = Literal::usize_unsuffixed(self.min);
        let length = match (self.min, self.max) {
            (_, Some(max)) => {
                let max = Literal::usize_unsuffixed(max);
                quote!((#min..=#max).contains(&#value.len()))
            }
            (0, None) => quote!(true),
            (1, None) => quote!(!#value.is_empty()),
            (_, None) => quote!(#value.len() >= #min),
        };
        let each = if self.ranges == [(b'0', b'9')] {
            quote!(|b| b.is_ascii_digit())
        } else {
            quote!(|b| matches!(b, #(#arms)|*))
        };
        quote!(#length && #value.bytes().all(#each))
    }
}

fn simple_pattern(pattern: &str) -> Option<SimplePattern> {
    let body = pattern.strip_prefix("^[")?.strip_suffix('$')?;
    let (class, quantifier) = body.split_once(']')?;
    let (min, max) = match quantifier {
        "+" => (1, None),
        "*" => (0, None),
        q => {
            let (min, max) = q.strip_prefix('{')?.strip_suffix('}')?.split_once(',')?;
            (min.parse().ok()?, Some(max.parse().ok()?))
        }
    };
    let bytes = class.as_bytes();
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if !c.is_ascii_alphanumeric() && c != b'-' && c != b'_' {
            return None;
        }
        if bytes.get(i + 1) == Some(&b'-') && i + 2 < bytes.len() {
            ranges.push((c, bytes[i + 2]));
            i += 3;
        } else {
            ranges.push((c, c));
            i += 1;
        }
    }
    let valid = !ranges.is_empty()
        && ranges.iter().all(|(lo, hi)| lo <= hi)
        && max.is_none_or(|max| min <= max);
    // Anything else is left to the regex engine, which refuses what does not compile.
    valid.then_some(SimplePattern { ranges, min, max })
}

fn pattern_statics(types: &[BodyType]) -> Result<Vec<TokenStream>, GenError> {
    let mut out = Vec::new();
    for ty in types {
        for field in &ty.fields {
            if let Kind::Text {
                pattern: Some((pattern, _)),
                ..
            } = &field.kind
                && simple_pattern(pattern).is_none()
            {
                // Compiled here once, so the generated `expect` cannot fire.
                regress::Regex::new(pattern).map_err(|err| {
                    GenError::Emit(format!(
                        "{}.{}: pattern {pattern:?} does not compile: {err}",
                        ty.name, field.json
                    ))
                })?;
                let stat = pattern_static(&ty.name, field);
                let lit = Literal::string(pattern);
                let doc = crate::emit::docs(&format!("`{}.{}`: `{pattern}`.", ty.name, field.json));
                out.push(quote! {
                    #doc
                    #[allow(clippy::expect_used)] // the pattern compiled in cargo xtask gen
                    static #stat: ::std::sync::LazyLock<::regress::Regex> = ::std::sync::LazyLock::new(|| {
                        ::regress::Regex::new(#lit).expect("checked by cargo xtask gen")
                    });
                });
            }
        }
    }
    Ok(out)
}

/// `bodies.rs` of a folder: borrowed bodies of `roots` (and the item types they hold); those
/// in `imports` are re-exported from the platform crate instead.
pub fn bodies_tokens(
    folder: &str,
    schema: &Value,
    roots: &BTreeSet<String>,
    imports: &BTreeMap<String, String>,
    specs_display: &str,
) -> Result<TokenStream, GenError> {
    let at = format!("{specs_display}/{folder}/models.schema.json");
    let (imported, own): (BTreeSet<String>, BTreeSet<String>) = roots
        .iter()
        .cloned()
        .partition(|name| imports.contains_key(name));
    let types = body_types(schema, &own, &at)?;
    let mut reexports: BTreeMap<&str, Vec<proc_macro2::Ident>> = BTreeMap::new();
    for name in &imported {
        if let Some(platform) = imports.get(name) {
            reexports
                .entry(platform.as_str())
                .or_default()
                .push(format_ident!("{}", name));
        }
    }
    // Item types of imported bodies come with them.
    for (platform, names) in reexports.iter_mut() {
        let items = body_types(schema, &imported, &at)?;
        for ty in items {
            let ident = format_ident!("{}", ty.name);
            if !names.contains(&ident)
                && imports.get(&ty.name).map(String::as_str) == Some(platform)
            {
                names.push(ident);
            }
        }
        names.sort();
    }
    let uses = reexports.iter().map(|(platform, names)| {
        let krate = format_ident!(
            "{}",
            crate::emit::platform_crate(platform).replace('-', "_")
        );
        quote!(pub use ::#krate::bodies::{#(#names),*};)
    });
    let statics = pattern_statics(&types)?;
    let bodies = types.iter().map(body_tokens);
    let counts = count_accessors(schema, imports);
    let doc = crate::emit::inner_docs(&format!(
        "Request bodies of {folder}, borrowed (`{at}`): each serialises to the bytes of the model \
         of the same name in [`models`](super::models) straight from the caller's data, and \
         checks itself against its schema (`validate`) before any traffic."
    ));
    Ok(quote! {
        #doc
        #(#uses)*
        #(#statics)*
        #(#bodies)*
        #(#counts)*
    })
}

/// For every model of this folder with `x-count` properties (counts the wire carries as decimal
/// strings): an accessor per property reading it as a number.
fn count_accessors(schema: &Value, imports: &BTreeMap<String, String>) -> Vec<TokenStream> {
    let Some(defs) = schema["definitions"].as_object() else {
        return Vec::new();
    };
    defs.iter()
        .filter(|(name, _)| !imports.contains_key(*name))
        .filter_map(|(name, def)| {
            let required: BTreeSet<&str> = def["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let accessors: Vec<TokenStream> = def["properties"]
                .as_object()?
                .iter()
                .filter(|(_, p)| p.get("x-count").and_then(Value::as_bool) == Some(true))
                .map(|(json, _)| {
                    let field = format_ident!("{}", snake(json));
                    let accessor = format_ident!("{}_count", snake(json));
                    let doc = crate::emit::docs(&format!(
                        "`{json}` read as a count (`x-count`: the wire sends a decimal string): \
                         `None` when absent, 0 when empty, an error when not a number."
                    ));
                    let value = if required.contains(json.as_str()) {
                        quote!(Some(self.#field.as_str()))
                    } else {
                        quote!(self.#field.as_deref())
                    };
                    quote! {
                        #doc
                        pub fn #accessor(&self) -> ::std::option::Option<::std::result::Result<u64, ::std::num::ParseIntError>> {
                            #value.map(|text| match text.trim() {
                                "" => Ok(0),
                                text => text.parse(),
                            })
                        }
                    }
                })
                .collect();
            if accessors.is_empty() {
                return None;
            }
            let ident = format_ident!("{}", name);
            Some(quote! {
                impl super::models::#ident {
                    #(#accessors)*
                }
            })
        })
        .collect()
}

/// The request types of `spec`'s operations.
pub fn request_roots(spec: &VendorSpec) -> BTreeSet<String> {
    spec.operations
        .operations
        .iter()
        .map(|op| op.request.clone())
        .collect()
}

/// Where a limit of `operations.json` applies in a request type.
struct LimitTargets {
    /// Field name for the total count of numbers (`numbers`, `array[].numbers`), if any.
    numbers: Option<String>,
    /// Top-level ids list.
    ids: Option<(String, proc_macro2::Ident, bool)>,
    /// Top-level items list.
    items: Option<(String, proc_macro2::Ident)>,
}

fn limit_targets(schema: &Value, request: &str, at: &str) -> Result<LimitTargets, GenError> {
    let mut roots = BTreeSet::new();
    roots.insert(request.to_owned());
    let types = body_types(schema, &roots, at)?;
    let find = |name: &str| types.iter().find(|t| t.name == name);
    let mut targets = LimitTargets {
        numbers: None,
        ids: None,
        items: None,
    };
    let Some(top) = find(request) else {
        return Ok(targets);
    };
    for field in &top.fields {
        match &field.kind {
            Kind::List {
                role: Role::Numbers,
                ..
            } => targets.numbers = Some(field.json.clone()),
            Kind::List {
                role: Role::Ids,
                same_count_as: None,
                ..
            } => {
                targets.ids = Some((field.json.clone(), field.ident.clone(), field.required));
            }
            Kind::Items { item, .. } => {
                targets.items = Some((field.json.clone(), field.ident.clone()));
                if targets.numbers.is_none() {
                    if let Some(inner) = find(item).and_then(|t| {
                        t.fields.iter().find(|f| {
                            matches!(
                                f.kind,
                                Kind::List {
                                    role: Role::Numbers,
                                    ..
                                } | Kind::Text {
                                    role: Role::Number,
                                    ..
                                }
                            )
                        })
                    }) {
                        targets.numbers = Some(format!("{}[].{}", field.json, inner.json));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(targets)
}

fn endpoint_tokens(
    spec: &VendorSpec,
    op: &OperationSpec,
    at: &str,
) -> Result<TokenStream, GenError> {
    let ident = format_ident!("{}", crate::emit::pascal(&op.name));
    let konst = format_ident!("{}", crate::emit::screaming(&op.name));
    let body = format_ident!("{}", op.request);
    let response = format_ident!("{}", op.response);
    let code = format_ident!("{}", op.status_table);
    let targets = limit_targets(&spec.bundled_models, &op.request, at)?;
    let limits = &op.limits;
    let mut limit_checks = Vec::new();
    if let (Some(_), Some(field)) = (limits.max_numbers, &targets.numbers) {
        limit_checks.push(quote!(check.count(#field, self.body.recipients(), Self::OPERATION.limits.max_numbers)?;));
    }
    if let (Some(_), Some((json, ident, required))) = (limits.max_ids, &targets.ids) {
        let len = if *required {
            quote!(self.body.#ident.len())
        } else {
            quote!(self.body.#ident.map_or(0, |list| list.len()))
        };
        limit_checks.push(quote!(check.count(#json, #len, Self::OPERATION.limits.max_ids)?;));
    }
    if let (Some(_), Some((json, ident))) = (limits.max_items, &targets.items) {
        limit_checks.push(
            quote!(check.count(#json, self.body.#ident.len(), Self::OPERATION.limits.max_items)?;),
        );
    }
    let status = match &spec.operations.answer {
        Some(answer) => {
            let (code_value, reason) = answer_tokens(spec, op, answer, at)?;
            quote!(Some((<Self::Code as ::smsgate_transport::spec::CodeTable>::from_code(#code_value), #reason)))
        }
        None => quote!({
            let _ = response;
            None
        }),
    };
    let refusal = refusal_tokens(spec, at)?;
    let path_fields = path_fields(&spec.bundled_models, &op.request, at)?;
    let path_param = (!path_fields.is_empty()).then(|| {
        let arms = path_fields
            .iter()
            .map(|(json, ident)| quote!(#json => Some(self.body.#ident),));
        quote! {
            fn path_param(&self, name: &str) -> Option<&str> {
                match name {
                    #(#arms)*
                    _ => None,
                }
            }
        }
    });
    let doc = crate::emit::docs(&format!(
        "`{}`: {}\n\nValidates against the schema of [`{}`](super::bodies::{}) and the operation's \
         limits, then sends [`operations::{}`](super::operations::{}).",
        op.name, op.summary, op.request, op.request, konst, konst
    ));
    Ok(quote! {
        #doc
        #[derive(Debug, Clone, Copy)]
        pub struct #ident<'r, 'a> {
            /// The body.
            pub body: &'r super::bodies::#body<'a>,
        }

        impl<'r, 'a> ::smsgate_transport::endpoint::Endpoint for #ident<'r, 'a> {
            type Body = super::bodies::#body<'a>;
            type Response = super::models::#response;
            type Code = super::codes::#code;
            const OPERATION: ::smsgate_transport::spec::Operation = super::operations::#konst;

            fn body(&self) -> &Self::Body {
                self.body
            }

            fn validate(&self) -> ::std::result::Result<(), ::smsgate_transport::ValidationError> {
                let check = ::smsgate_transport::validate::Checker::new(&Self::OPERATION);
                self.body.validate(&check, None)?;
                #(#limit_checks)*
                Ok(())
            }

            fn recipients(&self) -> usize {
                self.body.recipients()
            }

            fn status(response: &Self::Response) -> ::std::option::Option<(Self::Code, &str)> {
                #status
            }

            #refusal

            #path_param
        }
    })
}

/// Where an operation's answer carries its code (a `&str` expression) and reason.
fn answer_tokens(
    spec: &VendorSpec,
    op: &OperationSpec,
    answer: &crate::spec::AnswerSpec,
    at: &str,
) -> Result<(TokenStream, TokenStream), GenError> {
    let code_field = format_ident!("{}", snake(&answer.code));
    let code_schema = &spec.bundled_models["definitions"][&op.response]["properties"][&answer.code];
    let response_def = &spec.bundled_models["definitions"][&op.response];
    if code_schema.is_null() {
        return Err(GenError::Emit(format!(
            "{at}: answer field {:?} is not a property of {}",
            answer.code, op.response
        )));
    }
    let code_value = if types_of(code_schema) == ["string"] {
        quote!(&response.#code_field)
    } else {
        quote!(&response.#code_field.to_string())
    };
    let reason = match &answer.reason {
        None => quote!(""),
        Some(field) => {
            if response_def["properties"][field].is_null() {
                return Err(GenError::Emit(format!(
                    "{at}: answer field {field:?} is not a property of {}",
                    op.response
                )));
            }
            let ident = format_ident!("{}", snake(field));
            let required = response_def["required"]
                .as_array()
                .is_some_and(|r| r.iter().any(|v| v.as_str() == Some(field.as_str())));
            if required {
                quote!(&response.#ident)
            } else {
                quote!(response.#ident.as_deref().unwrap_or(""))
            }
        }
    };
    Ok((code_value, reason))
}

/// The top-level fields of `request` marked `x-in: path`: (JSON name, field).
pub fn path_fields(
    schema: &Value,
    request: &str,
    at: &str,
) -> Result<Vec<(String, proc_macro2::Ident)>, GenError> {
    let mut roots = BTreeSet::new();
    roots.insert(request.to_owned());
    let types = body_types(schema, &roots, at)?;
    Ok(types
        .iter()
        .find(|t| t.name == request)
        .map(|t| {
            t.fields
                .iter()
                .filter(|f| f.in_path)
                .map(|f| (f.json.clone(), f.ident.clone()))
                .collect()
        })
        .unwrap_or_default())
}

/// `Endpoint::refusal` from `errorAnswer`: the 4xx body decoded into its model, its code read
/// with the operation's table.
fn refusal_tokens(spec: &VendorSpec, at: &str) -> Result<Option<TokenStream>, GenError> {
    let Some(error) = &spec.operations.error_answer else {
        return Ok(None);
    };
    let def = &spec.bundled_models["definitions"][&error.type_name];
    let field = |name: &str| -> Result<(proc_macro2::Ident, bool, bool), GenError> {
        let schema = &def["properties"][name];
        if schema.is_null() {
            return Err(GenError::Emit(format!(
                "{at}: errorAnswer field {name:?} is not a property of {}",
                error.type_name
            )));
        }
        let required = def["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|v| v.as_str() == Some(name)));
        Ok((
            format_ident!("{}", snake(name)),
            types_of(schema) == ["string"],
            required,
        ))
    };
    let (code, code_is_string, code_required) = field(&error.code)?;
    let (reason, _, reason_required) = field(&error.reason)?;
    let code = match (code_is_string, code_required) {
        (true, true) => quote!(answer.#code.clone()),
        (false, true) => quote!(answer.#code.to_string()),
        (true, false) => quote!(answer.#code.clone()?),
        (false, false) => quote!(answer.#code.as_ref()?.to_string()),
    };
    let reason = if reason_required {
        quote!(answer.#reason)
    } else {
        quote!(answer.#reason.unwrap_or_default())
    };
    let ty = format_ident!("{}", error.type_name);
    Ok(Some(quote! {
        fn refusal(body: &[u8]) -> Option<(Self::Code, String)> {
            let answer: super::models::#ty = ::serde_json::from_slice(body).ok()?;
            let code = #code;
            Some((<Self::Code as ::smsgate_transport::spec::CodeTable>::from_code(&code), #reason))
        }
    }))
}

fn credentials_tokens(spec: &VendorSpec) -> TokenStream {
    let ops = &spec.operations;
    let vendor = &ops.vendor;
    let prefix = vendor.to_ascii_uppercase();
    let path = |scheme: crate::spec::SchemeSpec| -> TokenStream {
        scheme.signer_path().parse().unwrap_or_else(|_| quote!(()))
    };
    let main_signer = path(ops.auth.scheme);
    let signer = match &ops.auth.alternative {
        Some(alt) if alt.scheme != ops.auth.scheme => {
            let alt_signer = path(alt.scheme);
            quote!(::smsgate_transport::sign::Alternatives<#main_signer, #alt_signer>)
        }
        _ => main_signer.clone(),
    };
    let fields = ops.settings.iter().map(|s| {
        let ident = format_ident!("{}", s.key);
        let mut doc = s.doc.clone();
        if s.secret {
            doc.push_str(" Never printed.");
        }
        if let Some(body) = &s.body {
            doc.push_str(&format!(
                " Fills `{body}` of a request that leaves it empty."
            ));
        }
        let doc = crate::emit::docs(&doc);
        let ty = match (s.secret, s.required) {
            (true, _) => quote!(::smsgate_transport::secret::Secret),
            (false, true) => quote!(::std::string::String),
            (false, false) => quote!(::std::option::Option<::std::string::String>),
        };
        quote!(#doc pub #ident: #ty,)
    });
    let keys = ops.settings.iter().map(|s| {
        let (key, doc, secret, required) = (&s.key, &s.doc, s.secret, s.required);
        let values = s.values.iter().flatten();
        quote!(::smsgate_transport::spec::ConfigKey { name: #key, doc: #doc, required: #required, secret: #secret, url: false, values: &[#(#values),*] })
    });
    let reads = ops.settings.iter().map(|s| {
        let ident = format_ident!("{}", s.key);
        let key = &s.key;
        // Missing required values are refused by `check`, once, in settings order.
        match (s.secret, s.required) {
            (true, _) => quote!(#ident: value(#key).unwrap_or_default().into(),),
            (false, true) => quote!(#ident: value(#key).unwrap_or_default(),),
            (false, false) => quote!(#ident: value(#key).filter(|v| !v.is_empty()),),
        }
    });
    let checks = ops.settings.iter().filter(|s| s.required).map(|s| {
        let ident = format_ident!("{}", s.key);
        let missing = format!("{vendor} {}", s.key);
        quote!(if self.#ident.is_empty() { return Err(::smsgate_transport::ConfigError::Missing(#missing.to_owned())); })
    });
    let auth_checks = auth_checks(ops);
    let value_checks = ops.settings.iter().filter_map(|s| {
        let values = s.values.as_ref()?;
        let ident = format_ident!("{}", s.key);
        let value = if s.required {
            quote!(Some(self.#ident.as_str()))
        } else {
            quote!(self.#ident.as_deref())
        };
        let reason = format!("{} must be one of {}", s.key, values.join(", "));
        Some(quote! {
            if let Some(value) = #value {
                if ![#(#values),*].contains(&value) {
                    return Err(::smsgate_transport::ConfigError::Invalid(#reason.to_owned()));
                }
            }
        })
    });
    let path_checks = ops.settings.iter().filter(|s| s.path.is_some()).map(|s| {
        let ident = format_ident!("{}", s.key);
        let reason = format!("{} must start with /", s.key);
        quote! {
            if let Some(path) = &self.#ident {
                if !path.starts_with('/') {
                    return Err(::smsgate_transport::ConfigError::BaseUrl {
                        url: ::smsgate_transport::redact::redact_url(path).into_owned(),
                        reason: #reason.to_owned(),
                    });
                }
            }
        }
    });
    let overrides: Vec<TokenStream> = ops
        .settings
        .iter()
        .filter_map(|s| {
            let op = s.path.as_ref()?;
            let ident = format_ident!("{}", s.key);
            Some(quote!(#op => self.#ident.as_deref(),))
        })
        .collect();
    let params: Vec<TokenStream> = ops
        .settings
        .iter()
        .filter_map(|s| {
            let param = s.path_param.as_ref()?;
            let ident = format_ident!("{}", s.key);
            let value = if s.required {
                quote!(Some(self.#ident.as_str()))
            } else {
                quote!(self.#ident.as_deref())
            };
            Some(quote!(#param => #value,))
        })
        .collect();
    let path_param = (!params.is_empty()).then(|| {
        quote! {
            fn path_param(&self, name: &str) -> Option<&str> {
                match name {
                    #(#params)*
                    _ => None,
                }
            }
        }
    });
    let path_override = (!overrides.is_empty()).then(|| {
        quote! {
            fn path_override(&self, operation: &::smsgate_transport::spec::Operation) -> Option<&str> {
                match operation.name {
                    #(#overrides)*
                    _ => None,
                }
            }
        }
    });
    let signer_body = signer_tokens(ops);
    let doc = crate::emit::docs(&format!(
        "The settings of a {vendor} account (`operations.json` `settings`): config-file keys, \
         environment variables `{prefix}_<KEY>`."
    ));
    quote! {
        #doc
        #[derive(Debug, Clone, Default)]
        pub struct Credentials {
            #(#fields)*
        }

        impl ::smsgate_transport::client::Credentials for Credentials {
            type Signer = #signer;
            type Client = Client;
            const VENDOR: &'static str = super::operations::VENDOR;
            const ENV_PREFIX: &'static str = #prefix;
            const SETTINGS: &'static [::smsgate_transport::spec::ConfigKey] = &[#(#keys,)* ::smsgate_transport::spec::ConfigKey::BASE_URL];

            fn from_settings(
                value: &mut dyn FnMut(&str) -> Option<String>,
            ) -> ::std::result::Result<Self, ::smsgate_transport::ConfigError> {
                let credentials = Self { #(#reads)* };
                ::smsgate_transport::client::Credentials::check(&credentials)?;
                Ok(credentials)
            }

            fn check(&self) -> ::std::result::Result<(), ::smsgate_transport::ConfigError> {
                #(#checks)*
                #auth_checks
                #(#value_checks)*
                #(#path_checks)*
                Ok(())
            }

            fn signer(&self) -> Self::Signer {
                #signer_body
            }

            #path_override

            #path_param
        }
    }
}

/// A setting as expressions: `(is set, is unset, its value as a String)`.
fn setting_value(
    ops: &crate::spec::OperationsSpec,
    key: &str,
) -> (TokenStream, TokenStream, TokenStream) {
    let ident = format_ident!("{}", key);
    let setting = ops.settings.iter().find(|s| s.key == key);
    match setting.map(|s| (s.secret, s.required)) {
        Some((true, _)) | Some((false, true)) | None => (
            quote!(!self.#ident.is_empty()),
            quote!(self.#ident.is_empty()),
            quote!(self.#ident.clone()),
        ),
        Some((false, false)) => (
            quote!(self.#ident.as_deref().is_some_and(|v| !v.is_empty())),
            quote!(self.#ident.as_deref().is_none_or(str::is_empty)),
            quote!(self.#ident.clone().unwrap_or_default()),
        ),
    }
}

/// The checks of the auth modes: the chosen mode's key and secret are set.
fn auth_checks(ops: &crate::spec::OperationsSpec) -> TokenStream {
    let vendor = &ops.vendor;
    let require = |keys: &[&String], why: &str| {
        let checks = keys.iter().map(|key| {
            let (_, unset, _) = setting_value(ops, key);
            let missing = format!("{vendor} {key}{why}");
            quote!(if #unset { return Err(::smsgate_transport::ConfigError::Missing(#missing.to_owned())); })
        });
        quote!(#(#checks)*)
    };
    match &ops.auth.alternative {
        // Both are required settings (the reader checks): their own checks cover them.
        None => quote!(),
        Some(alt) => {
            let (when, _, _) = setting_value(ops, &alt.when);
            let why = format!(" (with {} set)", alt.when);
            // `when` itself is set in this branch.
            let keys: Vec<&String> = [&alt.key, &alt.secret]
                .into_iter()
                .filter(|key| **key != alt.when)
                .collect();
            let alternative = require(&keys, &why);
            let main = require(&[&ops.auth.key, &ops.auth.secret], "");
            quote!(if #when { #alternative } else { #main })
        }
    }
}

/// `Credentials::signer`: the main mode's signer, or the alternative's when its `when`
/// setting is set.
fn signer_tokens(ops: &crate::spec::OperationsSpec) -> TokenStream {
    let build =
        |scheme: crate::spec::SchemeSpec, key: &str, secret: &str, variant: Option<&String>| {
            let ty: TokenStream = scheme.signer_path().parse().unwrap_or_else(|_| quote!(()));
            let (_, _, key) = setting_value(ops, key);
            let secret = format_ident!("{}", secret);
            let signer =
                quote!(<#ty as ::smsgate_transport::sign::Signer>::new(#key, self.#secret.clone()));
            match variant {
                None => signer,
                Some(v) => {
                    let (_, _, value) = setting_value(ops, v);
                    quote!(::smsgate_transport::sign::Signer::with_variant(#signer, &#value))
                }
            }
        };
    let auth = &ops.auth;
    let main = build(auth.scheme, &auth.key, &auth.secret, auth.variant.as_ref());
    let Some(alt) = &auth.alternative else {
        return main;
    };
    let other = build(alt.scheme, &alt.key, &alt.secret, alt.variant.as_ref());
    let (when, _, _) = setting_value(ops, &alt.when);
    if alt.scheme == auth.scheme {
        quote!(if #when { #other } else { #main })
    } else {
        let main_set = [&auth.key, &auth.secret].map(|key| setting_value(ops, key).0);
        quote! {
            if #when {
                // The main mode's signer too, for the operations only it signs.
                let main = (#(#main_set)&&*).then(|| #main);
                ::smsgate_transport::sign::Alternatives::Alternative(#other, main)
            } else {
                ::smsgate_transport::sign::Alternatives::Main(#main)
            }
        }
    }
}

fn method_tokens(spec: &VendorSpec, op: &OperationSpec) -> TokenStream {
    let endpoint = format_ident!("{}", crate::emit::pascal(&op.name));
    let send = format_ident!("{}", snake(&op.name));
    let prepare = format_ident!("prepare_{}", snake(&op.name));
    let body = format_ident!("{}", op.request);
    let response = format_ident!("{}", op.response);
    let code = format_ident!("{}", op.status_table);
    let request_def = &spec.bundled_models["definitions"][&op.request];
    let fills: Vec<TokenStream> = spec
        .operations
        .settings
        .iter()
        .filter_map(|s| {
            let json = s.body.as_ref()?;
            request_def["properties"].get(json)?;
            let field = format_ident!("{}", snake(json));
            let setting = format_ident!("{}", s.key);
            let required = request_def["required"]
                .as_array()
                .is_some_and(|r| r.iter().any(|v| v.as_str() == Some(json.as_str())));
            Some(match (required, s.required) {
                (true, true) => quote! {
                    if body.#field.is_empty() {
                        body.#field = &self.core.credentials().#setting;
                    }
                },
                (true, false) => quote! {
                    if body.#field.is_empty() {
                        body.#field = self.core.credentials().#setting.as_deref().unwrap_or_default();
                    }
                },
                (false, true) => quote! {
                    if body.#field.is_none_or(str::is_empty) {
                        body.#field = Some(&self.core.credentials().#setting);
                    }
                },
                (false, false) => quote! {
                    if body.#field.is_none_or(str::is_empty) {
                        body.#field = self.core.credentials().#setting.as_deref().or(body.#field);
                    }
                },
            })
        })
        .collect();
    let filled = if fills.is_empty() {
        quote!(let body = *body;)
    } else {
        quote!(let mut body = *body; #(#fills)*)
    };
    let doc_prepare = crate::emit::docs(&format!(
        "The exact signed `{}` request for `body`, after every check, without sending it.",
        op.name
    ));
    let doc_send = crate::emit::docs(&format!(
        "{}\n\n`{} {}`.",
        op.summary,
        op.method.as_str(),
        op.path
    ));
    quote! {
        #doc_prepare
        pub fn #prepare(
            &self,
            body: &super::bodies::#body<'_>,
        ) -> ::std::result::Result<::smsgate_transport::wire::WireRequest, ::smsgate_transport::Error<super::codes::#code>> {
            #filled
            self.core.prepare(&#endpoint { body: &body })
        }

        #doc_send
        pub async fn #send(
            &self,
            body: &super::bodies::#body<'_>,
        ) -> ::std::result::Result<super::models::#response, ::smsgate_transport::Error<super::codes::#code>> {
            #filled
            self.core.send(&#endpoint { body: &body }).await
        }
    }
}

/// The vendor's builder: a typed setter per setting over the shared core builder.
fn builder_tokens(spec: &VendorSpec) -> TokenStream {
    let setters = spec.operations.settings.iter().map(|s| {
        let ident = format_ident!("{}", s.key);
        let key = &s.key;
        let mut doc = format!("Sets `{key}`: {}", s.doc);
        if s.secret {
            doc.push_str(" Never printed.");
        }
        let doc = crate::emit::docs(&doc);
        if s.secret {
            quote! {
                #doc
                pub fn #ident(self, value: impl Into<::smsgate_transport::secret::Secret>) -> Self {
                    Self(self.0.setting(#key, value.into().expose()))
                }
            }
        } else {
            quote! {
                #doc
                pub fn #ident(self, value: impl Into<String>) -> Self {
                    Self(self.0.setting(#key, value))
                }
            }
        }
    });
    quote! {
        /// Builds a [`Client`]: a typed setter per setting, over the builder every vendor shares
        /// ([`smsgate_transport::client::ClientBuilder`]).
        #[derive(Debug, Default)]
        pub struct ClientBuilder(::smsgate_transport::client::ClientBuilder<Credentials>);

        impl ClientBuilder {
            #(#setters)*

            /// All settings at once, typed.
            pub fn credentials(self, credentials: Credentials) -> Self {
                Self(self.0.credentials(credentials))
            }

            /// One setting by its config key (a key the vendor does not take fails the build).
            pub fn setting(self, key: &str, value: impl Into<String>) -> Self {
                Self(self.0.setting(key, value))
            }

            /// Every setting from the environment (`<PREFIX>_<KEY>`); a missing required one
            /// is an error naming the variable.
            pub fn from_env(self) -> ::std::result::Result<Self, ::smsgate_transport::ConfigError> {
                Ok(Self(self.0.from_env()?))
            }

            /// Replaces scheme and host of every operation (a proxy, a regional host, the simulator).
            pub fn base_url(self, base_url: impl Into<String>) -> Self {
                Self(self.0.base_url(base_url))
            }

            /// Time allowed to connect (default 5 s).
            pub fn connect_timeout(self, timeout: ::std::time::Duration) -> Self {
                Self(self.0.connect_timeout(timeout))
            }

            /// Time allowed for a whole request (default 30 s).
            pub fn timeout(self, timeout: ::std::time::Duration) -> Self {
                Self(self.0.timeout(timeout))
            }

            /// Sends every request through this proxy.
            pub fn proxy(self, proxy: impl Into<String>) -> Self {
                Self(self.0.proxy(proxy))
            }

            /// Most bytes of a response body read (default 1 MiB).
            pub fn max_body_bytes(self, limit: usize) -> Self {
                Self(self.0.max_body_bytes(limit))
            }

            /// All HTTP settings at once.
            pub fn http_config(self, config: ::smsgate_transport::http::HttpConfig) -> Self {
                Self(self.0.http_config(config))
            }

            /// The clock signing reads (tests pin it).
            pub fn clock(self, clock: impl ::smsgate_transport::clock::Clock + 'static) -> Self {
                Self(self.0.clock(clock))
            }

            /// Builds the client; fails naming the first missing setting or the invalid value.
            pub fn build(self) -> ::std::result::Result<Client, ::smsgate_transport::ConfigError> {
                self.0.build()
            }
        }
    }
}

/// `client.rs` of a vendor: its endpoints, settings and client.
pub fn client_tokens(spec: &VendorSpec, specs_display: &str) -> Result<TokenStream, GenError> {
    let vendor = &spec.vendor;
    let at = format!("{specs_display}/{vendor}/models.schema.json");
    let endpoints = spec
        .operations
        .operations
        .iter()
        .map(|op| endpoint_tokens(spec, op, &at))
        .collect::<Result<Vec<_>, _>>()?;
    let methods = spec
        .operations
        .operations
        .iter()
        .map(|op| method_tokens(spec, op));
    let credentials = credentials_tokens(spec);
    let builder = builder_tokens(spec);
    let tables: BTreeSet<&str> = spec
        .operations
        .operations
        .iter()
        .map(|op| op.status_table.as_str())
        .collect();
    let error_alias = (tables.len() == 1).then(|| {
        let table = format_ident!("{}", tables.iter().next().copied().unwrap_or_default());
        let doc = crate::emit::docs(&format!(
            "Error of a {vendor} call: the transport error with the [`{table}`](super::codes::{table}) table."
        ));
        quote!(#doc pub type Error = ::smsgate_transport::Error<super::codes::#table>;)
    });
    let doc = crate::emit::inner_docs(&format!(
        "The {vendor} client (`{specs_display}/{vendor}/operations.json`): one typed endpoint per \
         operation, the account settings, and a client with one method per operation."
    ));
    let client_doc = crate::emit::docs(&format!(
        "The {vendor} client: one method per operation. Cheap to clone (clones share the \
         connection pool). Build one with [`Client::builder`] or [`Client::from_env`]."
    ));
    Ok(quote! {
        #doc

        #error_alias

        #(#endpoints)*

        #credentials

        #client_doc
        #[derive(Debug, Clone)]
        pub struct Client {
            core: ::smsgate_transport::client::ClientCore<Credentials>,
        }

        impl ::std::convert::From<::smsgate_transport::client::ClientCore<Credentials>> for Client {
            fn from(core: ::smsgate_transport::client::ClientCore<Credentials>) -> Self {
                Self { core }
            }
        }

        #builder

        impl Client {
            /// A builder: settings ([`ClientBuilder::credentials`] or
            /// [`ClientBuilder::setting`]), base URL, HTTP options, clock.
            pub fn builder() -> ClientBuilder {
                ClientBuilder::default()
            }

            /// A client from the environment: every setting as `<PREFIX>_<KEY>`, and
            /// `<PREFIX>_BASE_URL` if set.
            pub fn from_env() -> ::std::result::Result<Self, ::smsgate_transport::ConfigError> {
                ClientBuilder::default().from_env()?.build()
            }

            /// The client core: settings, URLs, and [`send`](::smsgate_transport::client::ClientCore::send)
            /// for any endpoint.
            pub fn core(&self) -> &::smsgate_transport::client::ClientCore<Credentials> {
                &self.core
            }

            /// The account's settings.
            pub fn credentials(&self) -> &Credentials {
                self.core.credentials()
            }

            #(#methods)*
        }
    })
}

/// `conformance.rs` of a vendor (behind its `conformance` feature): the round trip of every
/// request, response and push type through its generated model, by type name — what the
/// workspace's sample-conformance test runs each `specs/<vendor>/examples/` fixture through.
pub fn conformance_tokens(spec: &VendorSpec, specs_display: &str) -> TokenStream {
    let mut names = BTreeSet::new();
    for op in &spec.operations.operations {
        names.insert(op.request.clone());
        names.insert(op.response.clone());
    }
    for push in &spec.operations.pushes {
        names.insert(push.body.clone());
    }
    if let Some(error) = &spec.operations.error_answer {
        names.insert(error.type_name.clone());
    }
    let arms = names.iter().map(|name| {
        let ident = format_ident!("{}", name);
        quote!(#name => Some(round_trip_as::<super::models::#ident>(value)),)
    });
    let doc = crate::emit::inner_docs(&format!(
        "Round trips through the generated models of {} (`{specs_display}/{}`), by type name: \
         the table the sample-conformance test uses. Built with the crate's `conformance` feature.",
        spec.vendor, spec.vendor
    ));
    quote! {
        #doc

        /// `value` decoded into the model named `type_name` and encoded again; `None` when no
        /// operation, error answer or push of the spec uses a type of that name.
        pub fn round_trip(
            type_name: &str,
            value: &::serde_json::Value,
        ) -> Option<::std::result::Result<::serde_json::Value, ::serde_json::Error>> {
            match type_name {
                #(#arms)*
                _ => None,
            }
        }

        fn round_trip_as<T: ::serde::de::DeserializeOwned + ::serde::Serialize>(
            value: &::serde_json::Value,
        ) -> ::std::result::Result<::serde_json::Value, ::serde_json::Error> {
            let typed: T = ::serde_json::from_value(value.clone())?;
            ::serde_json::to_value(&typed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_class_patterns_are_checked_without_a_regex() {
        let p = simple_pattern("^[0-9a-zA-Z-]{10,50}$").expect("simple");
        assert_eq!(
            p.ranges,
            [(b'0', b'9'), (b'a', b'z'), (b'A', b'Z'), (b'-', b'-')]
        );
        assert_eq!((p.min, p.max), (10, Some(50)));
        let digits = simple_pattern("^[0-9]+$").expect("simple");
        assert_eq!((digits.min, digits.max), (1, None));
        for complex in [
            "^[0-9]+(,[0-9]+)*$",
            "^[^,]+$",
            "^a[0-9]+$",
            "[0-9]+",
            "^[0-9]{3}$",
        ] {
            assert!(simple_pattern(complex).is_none(), "{complex}");
        }
        assert_eq!(snake("sysMessageId"), "sys_message_id");
    }
}
