//! Strict JSON reading: like `serde_json::from_str`, but a repeated key in an object is an error
//! (serde_json keeps the last one silently, which would let two spec definitions of the same
//! name merge without a word).

use std::cell::RefCell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// Not JSON: serde_json's message with line and column.
    Syntax(String),
    /// An object repeats a key; `pointer` is the JSON pointer of the second occurrence.
    DuplicateKey {
        /// JSON pointer of the repeated member.
        pointer: String,
    },
}

/// Parses `text`, refusing objects that repeat a key.
pub fn parse_strict(text: &str) -> Result<Value, JsonError> {
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let result = StrictSeed {
        pointer: String::new(),
        duplicate: &duplicate,
    }
    .deserialize(&mut de)
    .and_then(|value| de.end().map(|()| value));
    match (result, duplicate.into_inner()) {
        (_, Some(pointer)) => Err(JsonError::DuplicateKey { pointer }),
        (Ok(value), None) => Ok(value),
        (Err(err), None) => Err(JsonError::Syntax(err.to_string())),
    }
}

/// Escapes one reference token of a JSON pointer (RFC 6901).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

struct StrictSeed<'a> {
    pointer: String,
    duplicate: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let seed = StrictSeed {
                pointer: format!("{}/{}", self.pointer, items.len()),
                duplicate: self.duplicate,
            };
            match seq.next_element_seed(seed)? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let pointer = format!("{}/{}", self.pointer, escape_token(&key));
            if object.contains_key(&key) {
                *self.duplicate.borrow_mut() = Some(pointer);
                return Err(A::Error::custom("duplicate key"));
            }
            let value = map.next_value_seed(StrictSeed {
                pointer,
                duplicate: self.duplicate,
            })?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ordinary_json() {
        let value = parse_strict(r#"{"a":[1,-2,3.5,"x",null,true,{"b":{}}]}"#).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"a":[1,-2,3.5,"x",null,true,{"b":{}}]})
        );
    }

    #[test]
    fn refuses_a_repeated_key_with_its_pointer() {
        let err = parse_strict(r#"{"definitions":{"A":{},"B":[{"x":1,"x":2}]}}"#).unwrap_err();
        assert_eq!(
            err,
            JsonError::DuplicateKey {
                pointer: "/definitions/B/0/x".into()
            }
        );
    }

    #[test]
    fn reports_syntax_errors_with_position() {
        let JsonError::Syntax(message) = parse_strict("{\"a\": 'x'}").unwrap_err() else {
            panic!("expected a syntax error");
        };
        assert!(message.contains("line 1"), "{message}");
    }

    #[test]
    fn escapes_pointer_tokens() {
        assert_eq!(escape_token("a/b~c"), "a~1b~0c");
    }
}
