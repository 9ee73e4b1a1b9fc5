//! [`EntryMatcher`]: which submitted entry a line of a provider's answer speaks of.

use crate::provider::Entry;

/// Finds which submitted entry a line of a provider's answer speaks of: by the reference the
/// provider echoed, else by number; each entry is claimed at most once (the first line wins).
///
/// Answers usually list entries in the order they were sent, so the line's own position is
/// tried first; only a miss builds a lookup table. Matching a whole answer is linear.
#[derive(Debug)]
pub struct EntryMatcher<'e> {
    entries: &'e [Entry<'e>],
    /// Entry index in the order the request carried them (`sent[k]`: k-th sent entry); `None`:
    /// in the entries' own order.
    sent: Option<Vec<usize>>,
    claimed: Vec<bool>,
    by_reference: Option<std::collections::HashMap<&'e str, usize>>,
    same_number: fn(&str, &str) -> bool,
}

impl<'e> EntryMatcher<'e> {
    /// A matcher for `entries`, sent in the order `sent` gives (entry indexes); numbers compare
    /// equal when `same_number` says so.
    pub fn new(
        entries: &'e [Entry<'e>],
        sent: Vec<usize>,
        same_number: fn(&str, &str) -> bool,
    ) -> Self {
        Self {
            entries,
            sent: Some(sent),
            claimed: vec![false; entries.len()],
            by_reference: None,
            same_number,
        }
    }

    /// A matcher for `entries`, sent in their own order.
    pub fn in_order(entries: &'e [Entry<'e>], same_number: fn(&str, &str) -> bool) -> Self {
        Self {
            entries,
            sent: None,
            claimed: vec![false; entries.len()],
            by_reference: None,
            same_number,
        }
    }

    /// The entry sent `position`-th.
    fn sent_at(&self, position: usize) -> Option<usize> {
        match &self.sent {
            Some(sent) => sent.get(position).copied(),
            None => (position < self.entries.len()).then_some(position),
        }
    }

    /// The entry the `position`-th line of the answer speaks of (`reference` echoed, `number`
    /// as listed), claimed; `None` if no unclaimed entry matches.
    pub fn find(
        &mut self,
        position: usize,
        reference: Option<&str>,
        number: Option<&str>,
    ) -> Option<usize> {
        let guess = self.sent_at(position);
        let by_reference = reference
            .filter(|r| !r.is_empty())
            .and_then(|reference| match guess {
                Some(i) if self.entries[i].reference == reference => Some(i),
                _ => {
                    let entries = self.entries;
                    self.by_reference
                        .get_or_insert_with(|| {
                            let mut map = std::collections::HashMap::with_capacity(entries.len());
                            for (i, entry) in entries.iter().enumerate() {
                                map.entry(entry.reference).or_insert(i);
                            }
                            map
                        })
                        .get(reference)
                        .copied()
                }
            });
        let found = match by_reference {
            // A reference we sent: that entry, unless an earlier line already settled it.
            Some(i) if !self.claimed[i] => i,
            Some(_) => return None,
            // No reference, or one we did not send: the first unclaimed entry with this number,
            // the line's own position first.
            None => {
                let number = number.filter(|n| !n.is_empty())?;
                let (entries, claimed, same) = (self.entries, &self.claimed, self.same_number);
                let matches = |i: usize| !claimed[i] && same(entries[i].number, number);
                guess.filter(|&i| matches(i)).or_else(|| match &self.sent {
                    Some(sent) => sent.iter().copied().find(|&i| matches(i)),
                    None => (0..entries.len()).find(|&i| matches(i)),
                })?
            }
        };
        self.claimed[found] = true;
        Some(found)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::{Entry, EntryMatcher};

    fn entry<'a>(reference: &'a str, number: &'a str) -> Entry<'a> {
        Entry {
            reference,
            number,
            content: "hi",
            sender_id: None,
        }
    }

    fn exact(sent: &str, echoed: &str) -> bool {
        sent == echoed
    }

    #[test]
    fn matches_by_reference_in_any_order_and_claims_once() {
        let entries = [entry("r0", "111"), entry("r1", "222"), entry("r2", "333")];
        let mut matcher = EntryMatcher::new(&entries, vec![0, 1, 2], exact);
        // In order, then out of order, then a repeat and an unknown reference without number.
        assert_eq!(matcher.find(0, Some("r0"), Some("111")), Some(0));
        assert_eq!(matcher.find(1, Some("r2"), Some("333")), Some(2));
        assert_eq!(
            matcher.find(2, Some("r2"), Some("333")),
            None,
            "first line wins"
        );
        assert_eq!(matcher.find(3, Some("zz"), None), None);
        assert_eq!(matcher.find(4, Some("r1"), None), Some(1));
    }

    #[test]
    fn in_order_guesses_each_line_s_own_position() {
        let entries = [entry("r0", "111"), entry("r1", "222")];
        let mut matcher = EntryMatcher::in_order(&entries, exact);
        assert_eq!(
            matcher.find(0, None, Some("222")),
            Some(1),
            "scans past a wrong guess"
        );
        assert_eq!(matcher.find(1, Some("r0"), None), Some(0));
        assert_eq!(
            matcher.find(2, None, Some("111")),
            None,
            "past the end, all claimed"
        );
    }

    #[test]
    fn falls_back_to_the_number_without_a_usable_reference() {
        // The same number twice (duplicates allowed): each line settles one entry.
        let entries = [entry("r0", "111"), entry("r1", "222"), entry("r2", "111")];
        let mut matcher = EntryMatcher::new(&entries, vec![0, 2, 1], exact);
        assert_eq!(matcher.find(0, None, Some("222")), Some(1));
        // Line 1 speaks of the entry sent second (entry 2), line 2 of the one left.
        assert_eq!(matcher.find(1, Some(""), Some("111")), Some(2));
        assert_eq!(matcher.find(2, Some("unknown"), Some("111")), Some(0));
        assert_eq!(matcher.find(3, None, Some("111")), None, "no entry left");
        assert_eq!(matcher.find(4, None, None), None);
    }
}
