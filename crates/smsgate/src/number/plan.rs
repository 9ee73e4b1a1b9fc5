//! The numbering plan of the fast path: `generated/numbering_plan.tsv`, taken from the
//! `phonenumber` crate's metadata by `cargo xtask gen`. Its patterns are text, read per country
//! code on first use; loading that crate's database instead checks the syntax of every pattern
//! of every region first (about 0.15 s of CPU a process). A test holds the two to each other.

/// The table: `#` lines, then one region a line (the generator's header says the fields).
const TABLE: &str = include_str!("../generated/numbering_plan.tsv");

/// How many number types a region lists (mobile, fixed line, premium rate, toll free, shared
/// cost, voip, personal number, pager, uan, voicemail: the order the fast path tries them).
const NUMBER_TYPES: usize = 10;

/// One region of the table, as the metadata gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Region<'a> {
    /// The region's name (`CN`, `GB`; `001` for non-geographic codes).
    pub id: &'a str,
    /// What a national number of this region starts with, where its code is shared.
    pub leading_digits: Option<&'a str>,
    /// The international prefix (`00`, `011`).
    pub international_prefix: Option<&'a str>,
    /// What the parser may take off a national number (trunk prefix, carrier codes).
    pub national_prefix_for_parsing: Option<&'a str>,
    /// The trunk prefix (`0`).
    pub national_prefix: Option<&'a str>,
    /// Every valid national number matches this.
    pub general: Descriptor<'a>,
    /// The number types, in the order of [`NUMBER_TYPES`]'s description.
    pub types: [Option<Descriptor<'a>>; NUMBER_TYPES],
}

/// A pattern with the national-number lengths it allows (none listed: any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Descriptor<'a> {
    pub lengths: Vec<u16>,
    /// Without whitespace (the metadata's patterns are read with whitespace ignored).
    pub pattern: &'a str,
}

/// The region lines of the table.
fn lines() -> impl Iterator<Item = &'static str> {
    TABLE
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// The regions of country code `code`, its main region first (empty: no region has it);
/// `None` if a line of the table does not read.
pub(super) fn regions(code: u16) -> Option<Vec<Region<'static>>> {
    let prefix = format!("{code}\t");
    lines()
        .filter(|line| line.starts_with(&prefix))
        .map(region)
        .collect()
}

/// The country code of region `id` (`CN` → 86), if the table has the region.
pub(super) fn code_of(id: &str) -> Option<u16> {
    lines().find_map(|line| {
        let mut fields = line.split('\t');
        let code = fields.next()?;
        (fields.next()? == id).then(|| code.parse().ok()).flatten()
    })
}

/// One line of the table.
fn region(line: &'static str) -> Option<Region<'static>> {
    let mut fields = line.split('\t');
    let mut field = move || fields.next();
    let optional = |value: &'static str| (value != "~").then_some(value);
    let _code = field()?;
    let id = field()?;
    let leading_digits = optional(field()?);
    let international_prefix = optional(field()?);
    let national_prefix_for_parsing = optional(field()?);
    let national_prefix = optional(field()?);
    let lengths = field()?;
    let general = descriptor(lengths, field()?)?;
    let mut types: [Option<Descriptor<'static>>; NUMBER_TYPES] = Default::default();
    for kind in &mut types {
        let lengths = field()?;
        let pattern = field()?;
        if pattern != "~" {
            *kind = Some(descriptor(lengths, pattern)?);
        }
    }
    if field().is_some() {
        return None;
    }
    Some(Region {
        id,
        leading_digits,
        international_prefix,
        national_prefix_for_parsing,
        national_prefix,
        general,
        types,
    })
}

/// A descriptor's two fields: comma-separated lengths (may be empty) and its pattern.
fn descriptor(lengths: &str, pattern: &'static str) -> Option<Descriptor<'static>> {
    let lengths = if lengths.is_empty() {
        Vec::new()
    } else {
        lengths
            .split(',')
            .map(|n| n.parse().ok())
            .collect::<Option<_>>()?
    };
    Some(Descriptor { lengths, pattern })
}

#[cfg(test)]
mod tests {
    use phonenumber::metadata::DATABASE;

    use super::*;

    fn compact(pattern: &str) -> String {
        pattern.chars().filter(|c| !c.is_whitespace()).collect()
    }

    fn same(table: &Descriptor<'_>, meta: &phonenumber::metadata::Descriptor) -> bool {
        table.lengths == meta.possible_length()
            && table.pattern == compact(meta.national_number().as_str())
    }

    /// The committed table is the metadata of the `phonenumber` crate this build links: after
    /// an upgrade of that crate, run `cargo xtask gen`.
    #[test]
    fn the_table_is_the_metadata_phonenumber_loads() {
        let stale = "the numbering plan differs from the phonenumber crate's metadata: run `cargo xtask gen`";
        // Region ids (`001` once: the database lists the non-geographic codes under it).
        let mut ids = std::collections::HashSet::new();
        for code in 1..1000u16 {
            let table = regions(code).expect("every line of the table reads");
            let metas = DATABASE.by_code(&code).unwrap_or_default();
            assert_eq!(table.len(), metas.len(), "code {code}: {stale}");
            for (region, meta) in table.iter().zip(metas) {
                let id = meta.id();
                let text = |pattern: Option<&str>| pattern.map(compact);
                assert_eq!(region.id, id, "{stale}");
                assert_eq!(
                    region.leading_digits.map(str::to_owned),
                    text(meta.leading_digits().map(|r| r.as_str())),
                    "{id}: {stale}"
                );
                assert_eq!(
                    region.international_prefix.map(str::to_owned),
                    text(meta.international_prefix().map(|r| r.as_str())),
                    "{id}: {stale}"
                );
                assert_eq!(
                    region.national_prefix_for_parsing.map(str::to_owned),
                    text(meta.national_prefix_for_parsing().map(|r| r.as_str())),
                    "{id}: {stale}"
                );
                assert_eq!(
                    region.national_prefix,
                    meta.national_prefix(),
                    "{id}: {stale}"
                );
                assert!(
                    same(&region.general, meta.descriptors().general()),
                    "{id}: {stale}"
                );
                for (k, (table, meta)) in region
                    .types
                    .iter()
                    .zip(super::super::number_types(meta))
                    .enumerate()
                {
                    match (table, meta) {
                        (None, None) => {}
                        (Some(table), Some(meta)) => {
                            assert!(same(table, meta), "{id}, number type {k}: {stale}");
                        }
                        _ => panic!("{id}, number type {k}: {stale}"),
                    }
                }
                if id != "001" {
                    assert_eq!(code_of(id), Some(code), "{id}");
                }
                ids.insert(id);
            }
        }
        assert_eq!(ids.len(), DATABASE.iter().count(), "{stale}");
        assert_eq!(code_of("XX"), None);
    }
}
