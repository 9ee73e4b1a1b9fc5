//! The one request trait every generated endpoint implements, and the borrowed list type that
//! generated request bodies serialise from the caller's data.
//!
//! `cargo xtask gen` writes, for every operation of `specs/<vendor>/operations.json`, a type
//! implementing [`Endpoint`]: its [`Operation`] (method, path, encoding, auth scheme, limits), a
//! borrowed body, every check the body's schema and the operation's limits imply
//! ([`Endpoint::validate`]), and how to read the status of its answer. A client core
//! ([`crate::client::ClientCore`]) validates, serialises once, signs and sends any endpoint.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ValidationError;
use crate::spec::{CodeTable, ErrorClass, Operation};

/// One operation of a vendor, with its body: what the generator emits per operation.
pub trait Endpoint {
    /// The body serialised on the wire (JSON body or query string, as the operation says).
    type Body: Serialize;
    /// The decoded answer (the generated response model).
    type Response: DeserializeOwned;
    /// The status table of the answer's code.
    type Code: CodeTable<Class = ErrorClass>;

    /// Method, path, encoding, auth scheme and documented limits.
    const OPERATION: Operation;

    /// The body to serialise.
    fn body(&self) -> &Self::Body;

    /// Every check the schema and the operation's limits imply, run once before any traffic.
    fn validate(&self) -> Result<(), ValidationError>;

    /// How many recipients the request carries (for logs and error accounting).
    fn recipients(&self) -> usize;

    /// The answer's status code and reason; the call succeeded when the code's class is
    /// [`ErrorClass::Success`]. `None` for a vendor whose answers carry no call-level code
    /// (`answer` absent from `operations.json`): any 2xx answer that decodes succeeded.
    fn status(response: &Self::Response) -> Option<(Self::Code, &str)>;

    /// The value of a `{name}` placeholder of the operation's path that the request carries
    /// (a body field marked `x-in: path`, left out of the body itself).
    fn path_param(&self, name: &str) -> Option<&str> {
        let _ = name;
        None
    }

    /// A 4xx answer's body read as the vendor's error answer (`errorAnswer` in
    /// `operations.json`): its code and reason, when the vendor sends one. `None` (the default)
    /// leaves the answer an unexpected status.
    fn refusal(body: &[u8]) -> Option<(Self::Code, String)> {
        let _ = body;
        None
    }
}

/// A list of strings, read by index: what a [`Joined`] list borrows.
///
/// Implemented for slices and arrays of anything that is `AsRef<str>`, so a caller's
/// `Vec<String>` or `[&str; N]` is sent as it is.
pub trait StrList: Sync {
    /// Number of items.
    fn len(&self) -> usize;
    /// Item `index` (`index < len()`).
    fn get(&self, index: usize) -> &str;
    /// Whether the list is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<S: AsRef<str> + Sync> StrList for [S] {
    fn len(&self) -> usize {
        <[S]>::len(self)
    }
    fn get(&self, index: usize) -> &str {
        self[index].as_ref()
    }
}

impl<S: AsRef<str> + Sync> StrList for &[S] {
    fn len(&self) -> usize {
        <[S]>::len(self)
    }
    fn get(&self, index: usize) -> &str {
        self[index].as_ref()
    }
}

impl<S: AsRef<str> + Sync, const N: usize> StrList for [S; N] {
    fn len(&self) -> usize {
        N
    }
    fn get(&self, index: usize) -> &str {
        self[index].as_ref()
    }
}

impl<S: AsRef<str> + Sync> StrList for Vec<S> {
    fn len(&self) -> usize {
        <[S]>::len(self)
    }
    fn get(&self, index: usize) -> &str {
        self[index].as_ref()
    }
}

/// A list the wire carries as one string, its items joined by a separator (`"861,862"`),
/// borrowed from the caller's slice: bodies hold no copy of it (serialising several items
/// joins them into one transient buffer).
#[derive(Clone, Copy)]
pub struct Joined<'a> {
    items: &'a dyn StrList,
    separator: char,
}

static NO_ITEMS: [&str; 0] = [];

impl<'a> Joined<'a> {
    /// `items` joined with commas, the vendors' list separator.
    pub fn commas(items: &'a dyn StrList) -> Self {
        Self::new(items, ',')
    }

    /// `items` joined with `separator`. Crate-private: the generated checks assume the
    /// schema's separator, and every spec's lists use commas (a spec with another one gets its
    /// own constructor).
    pub(crate) fn new(items: &'a dyn StrList, separator: char) -> Self {
        Self { items, separator }
    }

    /// The items.
    pub fn items(&self) -> &'a dyn StrList {
        self.items
    }

    /// The separator.
    pub fn separator(&self) -> char {
        self.separator
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is no item.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The items in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + '_ {
        let items = self.items;
        (0..items.len()).map(move |i| items.get(i))
    }
}

impl Default for Joined<'_> {
    /// No items (what a required list looks like before it is set: validation refuses it).
    fn default() -> Self {
        Self::commas(&NO_ITEMS)
    }
}

impl fmt::Display for Joined<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                fmt::Write::write_char(f, self.separator)?;
            }
            f.write_str(item)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Joined<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Joined<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.items.len() {
            // One item (most requests): the caller's string as it is.
            1 => serializer.serialize_str(self.items.get(0)),
            // Several: one transient buffer, escaped in one pass — streaming the pieces
            // through `collect_str` escapes each piece separately, which measured 1.4x slower
            // at 1000 numbers (BENCHMARKS.md, item 1).
            _ => {
                let len = self.iter().map(|item| item.len() + 1).sum::<usize>();
                let mut joined = String::with_capacity(len);
                for (i, item) in self.iter().enumerate() {
                    if i > 0 {
                        joined.push(self.separator);
                    }
                    joined.push_str(item);
                }
                serializer.serialize_str(&joined)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_serialises_like_the_joined_string() {
        let numbers = vec!["8613800138000".to_owned(), "8613800138001".to_owned()];
        let joined = Joined::commas(&numbers);
        assert_eq!(
            serde_json::to_string(&joined).ok().as_deref(),
            Some("\"8613800138000,8613800138001\"")
        );
        let quoted = ["a\"b"];
        assert_eq!(
            serde_json::to_string(&Joined::commas(&quoted))
                .ok()
                .as_deref(),
            Some(r#""a\"b""#)
        );
        assert_eq!(Joined::default().to_string(), "");
        assert_eq!(format!("{:?}", Joined::commas(&quoted)), r#"["a\"b"]"#);
    }
}
