//! Routing: which providers may carry a message, and in which order they are tried.
//!
//! A [`Routing`] has a strategy and prefix rules. The first rule whose prefix starts the
//! message's number (E.164 digits, no `+`) gives the providers it may use, in order; without a
//! matching rule, every provider may, in the order they were added. The strategy picks the
//! first provider from that list; failover moves a message refused before sending along the
//! rest of the same list.

use std::sync::atomic::{AtomicU64, Ordering};

use super::Slot;

/// How the first provider of a message is chosen from its list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Strategy {
    /// The first of the list; the rest in order, for failover (the default).
    #[default]
    Priority,
    /// Each provider of the list in turn, message after message; failover goes on round the
    /// list.
    RoundRobin,
    /// Providers in proportion to their weights, message after message (a provider without a
    /// weight, or with weight 0, is never chosen first, only failed over to); failover goes
    /// through the rest of the list in order. The choice is deterministic: a low-discrepancy
    /// sequence, so that 4 messages at weights 3 and 1 split 3 to 1.
    Weighted(Vec<(String, u32)>),
}

/// One prefix rule: numbers starting with `prefix` use only `providers`, in that order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingRule {
    /// Leading digits of the number in E.164 (country code first, no `+`): `44`, `1415`.
    pub prefix: String,
    /// Provider names (as [`Provider::name`](crate::Provider::name) gives them), in order.
    pub providers: Vec<String>,
}

/// A strategy and prefix rules (first match wins). [`Routing::default`] is today's priority
/// order for every number.
///
/// ```
/// use smsgate::Routing;
/// let routing = Routing::weighted([("nxcloud", 3), ("itniotech", 1)])
///     .rule("44", ["itniotech"]);
/// assert_eq!(routing.rules().len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Routing {
    strategy: Strategy,
    rules: Vec<RoutingRule>,
}

impl Routing {
    /// Routing with `strategy` and no rule.
    pub fn new(strategy: Strategy) -> Self {
        Self {
            strategy,
            rules: Vec::new(),
        }
    }

    /// Each provider in turn ([`Strategy::RoundRobin`]).
    pub fn round_robin() -> Self {
        Self::new(Strategy::RoundRobin)
    }

    /// Providers in proportion to `weights` ([`Strategy::Weighted`]).
    pub fn weighted<N: Into<String>>(weights: impl IntoIterator<Item = (N, u32)>) -> Self {
        Self::new(Strategy::Weighted(
            weights
                .into_iter()
                .map(|(name, weight)| (name.into(), weight))
                .collect(),
        ))
    }

    /// Adds a rule after the others: numbers starting with `prefix` (digits, an optional
    /// leading `+` is ignored) use only `providers`, in that order.
    pub fn rule<N: Into<String>>(
        mut self,
        prefix: impl Into<String>,
        providers: impl IntoIterator<Item = N>,
    ) -> Self {
        let prefix = prefix.into();
        self.rules.push(RoutingRule {
            prefix: prefix.strip_prefix('+').unwrap_or(&prefix).to_owned(),
            providers: providers.into_iter().map(Into::into).collect(),
        });
        self
    }

    /// The strategy.
    pub fn strategy(&self) -> &Strategy {
        &self.strategy
    }

    /// The rules, in the order they are tried.
    pub fn rules(&self) -> &[RoutingRule] {
        &self.rules
    }

    /// What can be checked without the providers: every prefix is 1 to 15 digits, every rule
    /// names a provider, no name is given twice in a rule or in the weights.
    /// [`SmsGateBuilder::routing`](crate::SmsGateBuilder::routing) checks this and the names.
    pub fn check(&self) -> Result<(), RoutingError> {
        if let Strategy::Weighted(pairs) = &self.strategy {
            for (k, (name, _)) in pairs.iter().enumerate() {
                if pairs[..k].iter().any(|(earlier, _)| earlier == name) {
                    return Err(RoutingError::Repeated {
                        name: name.clone(),
                        place: "the weights".to_owned(),
                    });
                }
            }
        }
        for (n, rule) in self.rules.iter().enumerate() {
            let index = n + 1;
            let prefix = &rule.prefix;
            if prefix.is_empty() || prefix.len() > 15 || !prefix.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(RoutingError::InvalidPrefix {
                    index,
                    prefix: prefix.clone(),
                });
            }
            if rule.providers.is_empty() {
                return Err(RoutingError::EmptyRule {
                    index,
                    prefix: prefix.clone(),
                });
            }
            for (k, name) in rule.providers.iter().enumerate() {
                if rule.providers[..k].contains(name) {
                    return Err(RoutingError::Repeated {
                        name: name.clone(),
                        place: format!("rule {index}"),
                    });
                }
            }
        }
        Ok(())
    }
}

/// A [`Routing`] that does not fit the providers it was given to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    /// A rule or weight names a provider the gate does not have.
    #[error(
        "routing names the provider {name:?}, which is not configured (configured: {configured})"
    )]
    UnknownProvider {
        /// The name.
        name: String,
        /// The gate's providers, comma-separated.
        configured: String,
    },
    /// A rule's prefix is not 1 to 15 digits.
    #[error(
        "routing rule {index}: the prefix {prefix:?} is not 1 to 15 digits of an E.164 number (country code first)"
    )]
    InvalidPrefix {
        /// The rule's position (from 1).
        index: usize,
        /// The prefix.
        prefix: String,
    },
    /// A rule names no provider.
    #[error("routing rule {index} (prefix {prefix}) names no provider")]
    EmptyRule {
        /// The rule's position (from 1).
        index: usize,
        /// The prefix.
        prefix: String,
    },
    /// A name appears twice in one rule or in the weights.
    #[error("routing names the provider {name:?} twice in {place}")]
    Repeated {
        /// The name.
        name: String,
        /// Where: `the weights` or `rule N`.
        place: String,
    },
}

/// Where a message goes: one of the router's lists, and the position in it of the provider
/// chosen first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Route {
    list: u32,
    first: u32,
}

/// One list of slots a message may use: every slot (list 0) or a rule's.
#[derive(Debug)]
struct RouteList {
    /// Slot positions, in order.
    slots: Vec<usize>,
    /// For weighted routing: the running sum of the slots' weights (empty: priority order).
    cumulative: Vec<u64>,
    /// Messages routed through this list so far (round-robin and weighted pick by it).
    counter: AtomicU64,
}

impl RouteList {
    /// `slots` in order, with the running sum of their `weights` (indexed by slot; empty
    /// unless routing is weighted).
    fn new(slots: Vec<usize>, weights: &[u64]) -> Self {
        let cumulative = if weights.is_empty() {
            Vec::new()
        } else {
            slots
                .iter()
                .scan(0u64, |sum, &s| {
                    *sum += weights[s];
                    Some(*sum)
                })
                .collect()
        };
        Self {
            slots,
            cumulative,
            counter: AtomicU64::new(0),
        }
    }
}

/// A [`Routing`] checked against the gate's slots.
#[derive(Debug)]
pub(super) struct Router {
    strategy: StrategyKind,
    /// List 0: every slot; then one per rule, in rule order.
    lists: Vec<RouteList>,
    /// Each rule's prefix, with the index of its list.
    prefixes: Vec<(String, usize)>,
    /// The longest list.
    longest: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StrategyKind {
    Priority,
    RoundRobin,
    Weighted,
}

/// The fractional part of the golden ratio in 64-bit fixed point: multiples of it spread
/// evenly over [0, 1) (a Weyl sequence).
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

impl Router {
    /// `routing` over `slots`, or what in it does not fit them.
    pub(super) fn new(routing: &Routing, slots: &[Slot]) -> Result<Self, RoutingError> {
        routing.check()?;
        let names: Vec<&str> = slots.iter().map(|s| s.provider.name()).collect();
        let unknown = |name: &str| RoutingError::UnknownProvider {
            name: name.to_owned(),
            configured: names.join(", "),
        };
        // A name stands for every slot of that vendor, in slot order.
        let positions = |name: &str| -> Result<Vec<usize>, RoutingError> {
            let found: Vec<usize> = (0..names.len()).filter(|&i| names[i] == name).collect();
            if found.is_empty() {
                Err(unknown(name))
            } else {
                Ok(found)
            }
        };
        let (strategy, weights) = match &routing.strategy {
            Strategy::Priority => (StrategyKind::Priority, Vec::new()),
            Strategy::RoundRobin => (StrategyKind::RoundRobin, Vec::new()),
            Strategy::Weighted(pairs) => {
                let mut weights = vec![0u64; slots.len()];
                for (name, weight) in pairs {
                    for position in positions(name)? {
                        weights[position] = u64::from(*weight);
                    }
                }
                (StrategyKind::Weighted, weights)
            }
        };
        let mut lists = vec![RouteList::new((0..slots.len()).collect(), &weights)];
        let mut prefixes = Vec::new();
        for rule in &routing.rules {
            let mut rule_slots = Vec::new();
            for name in &rule.providers {
                rule_slots.extend(positions(name)?);
            }
            prefixes.push((rule.prefix.clone(), lists.len()));
            lists.push(RouteList::new(rule_slots, &weights));
        }
        let longest = lists.iter().map(|l| l.slots.len()).max().unwrap_or(0);
        Ok(Self {
            strategy,
            lists,
            prefixes,
            longest,
        })
    }

    /// Every slot in order, for a gate built without routing.
    pub(super) fn priority(slots: &[Slot]) -> Self {
        Self {
            strategy: StrategyKind::Priority,
            lists: vec![RouteList::new((0..slots.len()).collect(), &[])],
            prefixes: Vec::new(),
            longest: slots.len(),
        }
    }

    /// The most providers any message may try.
    pub(super) fn longest(&self) -> usize {
        self.longest
    }

    /// The route of a message to `number` (E.164 digits). `counters`, when given, is used
    /// (and advanced) instead of the router's own counters, so that a preview shows the routes
    /// a send would take without changing them.
    pub(super) fn route(&self, number: &str, counters: Option<&mut [u64]>) -> Route {
        let list = self
            .prefixes
            .iter()
            .find(|(prefix, _)| number.starts_with(prefix.as_str()))
            .map_or(0, |&(_, list)| list);
        let routes = &self.lists[list];
        let len = routes.slots.len() as u64;
        let first = match self.strategy {
            StrategyKind::Priority => 0,
            _ if len <= 1 => 0,
            strategy => {
                let count = match counters {
                    Some(counters) => {
                        let count = counters[list];
                        counters[list] += 1;
                        count
                    }
                    None => routes.counter.fetch_add(1, Ordering::Relaxed),
                };
                if strategy == StrategyKind::RoundRobin {
                    count % len
                } else {
                    weighted_pick(&routes.cumulative, count)
                }
            }
        };
        Route {
            list: u32::try_from(list).unwrap_or(0),
            first: u32::try_from(first).unwrap_or(0),
        }
    }

    /// The routers' counters as they stand, for [`route`](Self::route) to advance a copy of.
    pub(super) fn counters(&self) -> Vec<u64> {
        self.lists
            .iter()
            .map(|l| l.counter.load(Ordering::Relaxed))
            .collect()
    }

    /// The slot a message on `route` tries at `stage` (0: first), or `None` when its list has
    /// no more.
    pub(super) fn slot_at(&self, route: Route, stage: usize) -> Option<usize> {
        let slots = &self.lists[route.list as usize].slots;
        let first = route.first as usize;
        if stage >= slots.len() {
            return None;
        }
        let at = match self.strategy {
            StrategyKind::RoundRobin => (first + stage) % slots.len(),
            // The chosen one first, then the others in order.
            _ if stage == 0 => first,
            _ if stage <= first => stage - 1,
            _ => stage,
        };
        slots.get(at).copied()
    }
}

/// The position in a weighted list for the `count`-th message: where the `count`-th point of
/// the Weyl sequence falls among the running sums (0 when every weight is 0).
fn weighted_pick(cumulative: &[u64], count: u64) -> u64 {
    let total = cumulative.last().copied().unwrap_or(0);
    if total == 0 {
        return 0;
    }
    let point = count.wrapping_mul(GOLDEN);
    // point / 2^64 of the total, in [0, total).
    let target = ((u128::from(point) * u128::from(total)) >> 64) as u64;
    cumulative.partition_point(|&sum| sum <= target) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_picks_split_in_proportion_and_skip_weight_zero() {
        let cumulative = [3, 4, 4]; // weights 3, 1, 0
        let mut counts = [0usize; 3];
        for count in 0..4000 {
            counts[weighted_pick(&cumulative, count) as usize] += 1;
        }
        assert_eq!(counts[2], 0);
        assert!((2990..=3010).contains(&counts[0]), "{counts:?}");
        // Small runs are close too: 4 messages split 3 to 1.
        let mut first_four = [0usize; 3];
        for count in 0..4 {
            first_four[weighted_pick(&cumulative, count) as usize] += 1;
        }
        assert_eq!(first_four, [3, 1, 0]);
        assert_eq!(weighted_pick(&[0, 0], 7), 0);
    }
}
