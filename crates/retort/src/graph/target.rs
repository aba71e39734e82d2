//! The target language: `head`, `heads`, `base`, ids and unique prefixes,
//! branch labels, `label@head`, `label@base`, relative steps (`+2`, `-1`,
//! `rev+1`, `label@+1`) and `A:B` ranges.
//!
//! Targets relative to the database take its current heads as an argument:
//! `None` means they are not known (no database at hand), and such a target
//! is then an error rather than a guess.

use super::{Graph, GraphError};

/// The revisions a target names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Revision indices; empty means `base` (no revision).
    pub revisions: Vec<usize>,
    /// The branch the target was scoped to (`label@…`), as written.
    pub branch: Option<String>,
    /// The current revision a relative step (`-1`, `label@-2`) walked from:
    /// a downgrade removes only what lies under it.
    pub walked_from: Option<usize>,
}

/// The revisions of an `A:B` range, newest first.
pub type Range = Vec<usize>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Symbol {
    Head,
    Heads,
    Base,
    Ident(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Spec {
    branch: Option<String>,
    symbol: Option<Symbol>,
    /// Signed number of steps for relative targets.
    steps: Option<i64>,
}

fn invalid(target: &str, reason: &str) -> GraphError {
    GraphError::InvalidTarget {
        target: target.to_owned(),
        reason: reason.to_owned(),
    }
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

fn parse(target: &str) -> Result<Spec, GraphError> {
    let (branch, rest) = match target.split_once('@') {
        Some((label, rest)) => {
            if !is_ident(label) {
                return Err(invalid(
                    target,
                    "the part before `@` must be a branch label or revision",
                ));
            }
            (Some(label.to_owned()), rest)
        }
        None => (None, target),
    };
    let (symbol_text, steps) = split_steps(rest);
    let steps = match steps {
        Some(text) => Some(parse_steps(target, text)?),
        None => None,
    };
    let symbol = match symbol_text {
        "" if steps.is_some() => None,
        "" => return Err(invalid(target, "it is empty")),
        "head" => Some(Symbol::Head),
        "heads" => Some(Symbol::Heads),
        "base" => Some(Symbol::Base),
        ident if is_ident(ident) => Some(Symbol::Ident(ident.to_owned())),
        _ => {
            return Err(invalid(
                target,
                "revision ids and labels use only letters, digits, `_`, `-` and `.`",
            ));
        }
    };
    if steps.is_some() && symbol == Some(Symbol::Heads) {
        return Err(invalid(
            target,
            "`heads` names several revisions; step from one of them",
        ));
    }
    Ok(Spec {
        branch,
        symbol,
        steps,
    })
}

/// Splits `abc+2` into (`abc`, `+2`); the step is a trailing sign and digits.
fn split_steps(text: &str) -> (&str, Option<&str>) {
    let digits_start = text
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit())
        .last()
        .map(|(i, _)| i);
    match digits_start {
        Some(start) if start > 0 => {
            let sign = start - 1;
            match text.as_bytes()[sign] {
                b'+' | b'-' => (&text[..sign], Some(&text[sign..])),
                _ => (text, None),
            }
        }
        _ => (text, None),
    }
}

fn parse_steps(target: &str, text: &str) -> Result<i64, GraphError> {
    text.parse::<i64>()
        .map_err(|_| invalid(target, "the step count is too large"))
}

impl Graph {
    /// Finds one revision by exact id, branch label, or unique id prefix.
    pub fn lookup(&self, ident: &str) -> Result<usize, GraphError> {
        if let Some(i) = self.index_of(ident).or_else(|| self.label_owner(ident)) {
            return Ok(i);
        }
        let mut candidates: Vec<usize> = self
            .revisions
            .iter()
            .enumerate()
            .filter(|(_, r)| r.id.starts_with(ident))
            .map(|(i, _)| i)
            .collect();
        match candidates.len() {
            0 => Err(GraphError::UnknownRevision {
                ident: ident.to_owned(),
                suggestion: crate::suggest::closest(
                    ident,
                    self.revisions
                        .iter()
                        .map(|r| r.id.as_str())
                        .chain(self.by_label.keys().map(String::as_str)),
                )
                .map(str::to_owned),
            }),
            1 => Ok(candidates[0]),
            _ => {
                candidates.sort_by(|&a, &b| self.revisions[a].id.cmp(&self.revisions[b].id));
                Err(GraphError::AmbiguousPrefix {
                    prefix: ident.to_owned(),
                    candidates: candidates
                        .iter()
                        .map(|&i| self.revisions[i].id.clone())
                        .collect(),
                })
            }
        }
    }

    /// Resolves a target to the revisions it names.
    ///
    /// `current` is the database's current heads (version table rows), needed
    /// only by relative targets without an anchor (`+1`, `-1`, `label@+1`);
    /// without it, `label@-N` counts from the label's head.
    pub fn resolve(
        &self,
        target: &str,
        current: Option<&[String]>,
    ) -> Result<Resolved, GraphError> {
        let spec = parse(target)?;
        let anchor = spec.branch.as_deref().map(|b| self.lookup(b)).transpose()?;
        let Some(steps) = spec.steps else {
            let symbol = spec
                .symbol
                .as_ref()
                .ok_or_else(|| invalid(target, "it is empty"))?;
            let revisions = self.resolve_symbol(target, symbol, anchor)?;
            return Ok(Resolved {
                revisions,
                branch: spec.branch,
                walked_from: None,
            });
        };
        let from_current = spec.symbol.is_none();
        let start = match &spec.symbol {
            Some(symbol) => {
                let found = self.resolve_symbol(target, symbol, anchor)?;
                match found.as_slice() {
                    [] => None,
                    [one] => Some(*one),
                    _ => {
                        return Err(GraphError::MultipleHeads {
                            target: target.to_owned(),
                            heads: self.ids(&found).iter().map(|s| (*s).to_owned()).collect(),
                        });
                    }
                }
            }
            // No database at hand (`show`, `history`): a step down a
            // branch counts from the branch's head, as Alembic's `show`.
            None if current.is_none() && anchor.is_some() && steps < 0 => {
                let heads = self.resolve_symbol(target, &Symbol::Head, anchor)?;
                heads.first().copied()
            }
            None => self.current_in_scope(target, current, anchor)?,
        };
        let end = self.walk(target, start, steps, anchor)?;
        Ok(Resolved {
            revisions: end.into_iter().collect(),
            branch: spec.branch,
            walked_from: start.filter(|_| from_current && current.is_some()),
        })
    }

    fn resolve_symbol(
        &self,
        target: &str,
        symbol: &Symbol,
        anchor: Option<usize>,
    ) -> Result<Vec<usize>, GraphError> {
        let in_scope = |candidates: &[usize]| -> Vec<usize> {
            match anchor {
                None => candidates.to_vec(),
                Some(a) => {
                    let lineage = self.lineage(a, false);
                    candidates.iter().copied().filter(|&c| lineage[c]).collect()
                }
            }
        };
        match symbol {
            Symbol::Base => Ok(Vec::new()),
            Symbol::Heads => Ok(in_scope(&self.heads)),
            Symbol::Head => {
                let heads = in_scope(&self.heads);
                if heads.len() > 1 {
                    return Err(GraphError::MultipleHeads {
                        target: target.to_owned(),
                        heads: self.ids(&heads).iter().map(|s| (*s).to_owned()).collect(),
                    });
                }
                Ok(heads)
            }
            Symbol::Ident(ident) => {
                let found = self.lookup(ident)?;
                if let (Some(a), Some(label)) = (anchor, target.split_once('@').map(|p| p.0))
                    && !self.shares_lineage(found, a)
                {
                    return Err(GraphError::NotInBranch {
                        id: self.revisions[found].id.clone(),
                        label: label.to_owned(),
                    });
                }
                Ok(vec![found])
            }
        }
    }

    /// The one current revision a relative step starts from; `None` is base.
    fn current_in_scope(
        &self,
        target: &str,
        current: Option<&[String]>,
        anchor: Option<usize>,
    ) -> Result<Option<usize>, GraphError> {
        let current = current.ok_or_else(|| GraphError::NeedsCurrent {
            target: target.to_owned(),
        })?;
        let mut indices = Vec::with_capacity(current.len());
        for id in current {
            let i = self
                .index_of(id)
                .ok_or_else(|| GraphError::UnknownCurrent { id: id.clone() })?;
            indices.push(i);
        }
        if let Some(a) = anchor {
            let below = self.ancestors(&[a], false);
            let above = self.descendants(&[a], false);
            let on_branch: Vec<usize> = indices.iter().copied().filter(|&i| above[i]).collect();
            // Before the branch starts, the walk begins at the newest applied
            // revision below the labelled one — the database may sit on a
            // sibling branch that shares it (Alembic walks back the same way).
            indices = if on_branch.is_empty() {
                let applied = self.ancestors(&indices, true);
                let shared: Vec<usize> = (0..self.revisions.len())
                    .filter(|&i| applied[i] && below[i])
                    .collect();
                shared
                    .iter()
                    .copied()
                    .filter(|&i| {
                        !self.revisions[i]
                            .children
                            .iter()
                            .any(|c| shared.contains(c))
                    })
                    .collect()
            } else {
                on_branch
            };
        }
        match indices.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            _ => Err(GraphError::AmbiguousCurrent {
                target: target.to_owned(),
                current: self.ids(&indices).iter().map(|s| (*s).to_owned()).collect(),
            }),
        }
    }

    /// Takes `steps` steps from `start` (`None` is base): up through
    /// children, down through parents; a fork or the end of the graph is an error.
    fn walk(
        &self,
        target: &str,
        start: Option<usize>,
        steps: i64,
        anchor: Option<usize>,
    ) -> Result<Option<usize>, GraphError> {
        let requested = steps.unsigned_abs();
        let upward = steps > 0;
        let lineage = anchor.map(|a| self.lineage(a, false));
        let mut at = start;
        for taken in 0..requested {
            let next: Vec<usize> = if upward {
                let candidates = match at {
                    None => &self.bases,
                    Some(i) => &self.revisions[i].children,
                };
                candidates
                    .iter()
                    .copied()
                    .filter(|&c| lineage.as_ref().is_none_or(|l| l[c]))
                    .collect()
            } else {
                match at {
                    None => {
                        return Err(GraphError::Overwalk {
                            target: target.to_owned(),
                            taken,
                            requested,
                            upward,
                        });
                    }
                    Some(i) if self.revisions[i].parents.is_empty() => {
                        at = None;
                        continue;
                    }
                    Some(i) => self.revisions[i].parents.clone(),
                }
            };
            match next.as_slice() {
                [] => {
                    return Err(GraphError::Overwalk {
                        target: target.to_owned(),
                        taken,
                        requested,
                        upward,
                    });
                }
                [one] => at = Some(*one),
                _ => {
                    return Err(GraphError::AmbiguousWalk {
                        target: target.to_owned(),
                        at: at.map_or_else(|| "base".to_owned(), |i| self.revisions[i].id.clone()),
                        choices: self.ids(&next).iter().map(|s| (*s).to_owned()).collect(),
                        upward,
                    });
                }
            }
        }
        Ok(at)
    }

    /// The revisions of an `A:B` range (`A` the older end, either side may
    /// be empty: `:B` is from base, `A:` up to the heads), newest first.
    /// `current` stands for the database's current heads.
    pub fn range(&self, spec: &str, current: Option<&[String]>) -> Result<Range, GraphError> {
        let Some((lower, upper)) = spec.split_once(':') else {
            return Err(invalid(spec, "a range is written `A:B`"));
        };
        if upper.contains(':') {
            return Err(invalid(spec, "a range has one `:`"));
        }
        let upper_set = match upper {
            "" => self.real_heads(),
            end => self.range_end(end, current)?,
        };
        let lower_set = match lower {
            "" => Vec::new(),
            end => self.range_end(end, current)?,
        };
        // As Alembic: what the upper end needs, dependencies included;
        // with a lower end, only what descends from it through parents.
        let below_upper = self.ancestors(&upper_set, true);
        if let Some(&outside) = lower_set.iter().find(|&&l| !below_upper[l]) {
            return Err(GraphError::RangeNotAncestor {
                lower: if lower == "current" {
                    self.revisions[outside].id.clone()
                } else {
                    lower.to_owned()
                },
                upper: if upper.is_empty() {
                    "heads".to_owned()
                } else {
                    upper.to_owned()
                },
            });
        }
        let above_lower = (!lower_set.is_empty()).then(|| self.descendants(&lower_set, false));
        let under_lower = self.ancestors(&lower_set, true);
        let members: Vec<bool> = (0..self.len())
            .map(|i| {
                let needed = below_upper[i] && (!under_lower[i] || lower_set.contains(&i));
                needed && above_lower.as_ref().is_none_or(|a| a[i])
            })
            .collect();
        Ok(self.newest_first_of(&members, &upper_set))
    }

    fn range_end(&self, end: &str, current: Option<&[String]>) -> Result<Vec<usize>, GraphError> {
        if end == "current" {
            let current = current.ok_or_else(|| GraphError::NeedsCurrent {
                target: end.to_owned(),
            })?;
            return current
                .iter()
                .map(|id| {
                    self.index_of(id)
                        .ok_or_else(|| GraphError::UnknownCurrent { id: id.clone() })
                })
                .collect();
        }
        let resolved = self.resolve(end, current)?;
        if resolved.revisions.is_empty()
            && let Some(label) = &resolved.branch
        {
            // `label@base`: the roots of the branch's line of history.
            let owner = self.lookup(label)?;
            let below = self.ancestors(&[owner], false);
            return Ok(self.bases.iter().copied().filter(|&b| below[b]).collect());
        }
        Ok(resolved.revisions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_relative_steps() {
        assert_eq!(split_steps("+2"), ("", Some("+2")));
        assert_eq!(split_steps("abc-12"), ("abc", Some("-12")));
        assert_eq!(split_steps("abc12"), ("abc12", None));
        assert_eq!(split_steps("12"), ("12", None));
        assert_eq!(split_steps(""), ("", None));
    }

    #[test]
    fn parses_forms() {
        let p = |t: &str| parse(t).unwrap();
        assert_eq!(p("head").symbol, Some(Symbol::Head));
        assert_eq!(p("auth@head").branch.as_deref(), Some("auth"));
        assert_eq!(p("auth@+1").steps, Some(1));
        assert_eq!(p("auth@+1").symbol, None);
        assert_eq!(p("ab12-3").symbol, Some(Symbol::Ident("ab12".into())));
        assert_eq!(p("-1").steps, Some(-1));
        assert!(parse("").is_err());
        assert!(parse("@head").is_err());
        assert!(parse("a b").is_err());
        assert!(parse("heads+1").is_err());
        assert!(parse("+99999999999999999999").is_err());
    }
}
