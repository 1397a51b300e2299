//! Source positions for YAML nodes. `serde_yaml::Value` carries no spans, so this small
//! indentation-aware scanner maps a path of keys and sequence indices back to a line and
//! column of the source text. It understands block mappings, block sequences and
//! one-line flow collections (`{ a: 1 }`, `[a, b]`), which is what scenarios use; for
//! anything it cannot follow it falls back to the nearest enclosing node it found.

/// A 1-based line and column.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Default)]
pub struct Pos {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub col: u32,
}

/// One step of a path into the document.
#[derive(Clone, Copy, Debug)]
pub enum Seg<'a> {
    /// A mapping key.
    Key(&'a str),
    /// A sequence index.
    Index(usize),
}

/// The scanner over one source text.
pub struct Locator<'s> {
    lines: Vec<&'s str>,
}

/// A region being searched: lines `[start, end)`, starting at column `col` of `start`.
#[derive(Clone, Copy, Debug)]
struct Region {
    start: usize,
    col: usize,
    end: usize,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The line without its comment (a `#` after whitespace, outside quotes).
fn code(line: &str) -> &str {
    let b = line.as_bytes();
    let (mut sq, mut dq) = (false, false);
    for i in 0..b.len() {
        match b[i] {
            b'\'' if !dq => sq = !sq,
            b'"' if !sq => dq = !dq,
            b'#' if !sq && !dq && (i == 0 || b[i - 1] == b' ' || b[i - 1] == b'\t') => {
                return &line[..i]
            }
            _ => {}
        }
    }
    line
}

fn blank(line: &str) -> bool {
    code(line).trim().is_empty()
}

impl<'s> Locator<'s> {
    /// Prepares the scanner.
    pub fn new(src: &'s str) -> Self {
        Locator {
            lines: src.lines().collect(),
        }
    }

    fn pos(&self, line: usize, col: usize) -> Pos {
        Pos {
            line: (line + 1) as u32,
            col: (col + 1) as u32,
        }
    }

    /// The position of the node at `path` (a key's position for a final key).
    pub fn key(&self, path: &[Seg]) -> Pos {
        let (r, _) = self.walk(path);
        self.pos(r.start, r.col)
    }

    /// The position of the value at `path` (after `key:` for a final key).
    pub fn value(&self, path: &[Seg]) -> Pos {
        let (r, v) = self.walk(path);
        match v {
            Some((l, c)) => self.pos(l, c),
            None => self.pos(r.start, r.col),
        }
    }

    /// The start of every item of the block sequence at `path`, in one pass (flow
    /// sequences give an empty list). Used for step positions, so that parsing stays
    /// linear in the file's length.
    pub fn items(&self, path: &[Seg]) -> Vec<Pos> {
        let (r, value) = self.walk(path);
        let (vl, _) = value.unwrap_or((r.start, r.col));
        let mut out = Vec::new();
        let mut item_col = None;
        for li in vl..r.end.min(self.lines.len()) {
            let t = code(self.lines[li]);
            if blank(t) {
                continue;
            }
            let ind = indent(t);
            let trimmed = t.trim_start();
            let is_item =
                trimmed.starts_with('-') && matches!(trimmed.as_bytes().get(1), None | Some(b' '));
            match item_col {
                None if is_item => item_col = Some(ind),
                None => continue,
                Some(c) if ind < c || (ind == c && !is_item) => break,
                _ => {}
            }
            if is_item && Some(ind) == item_col {
                let reg = self.item_region(li, ind, li + 1);
                out.push(self.pos(reg.start, reg.col));
            }
        }
        out
    }

    fn walk(&self, path: &[Seg]) -> (Region, Option<(usize, usize)>) {
        let mut r = Region {
            start: 0,
            col: 0,
            end: self.lines.len(),
        };
        let mut value = None;
        for seg in path {
            let found = match *seg {
                Seg::Key(k) => self.find_key(r, k),
                Seg::Index(i) => self.find_item(r, value, i).map(|x| (x, None)),
            };
            match found {
                Some((nr, v)) => {
                    r = nr;
                    value = v;
                }
                None => break,
            }
        }
        (r, value)
    }

    /// Finds `key:` in the region; returns the key's region (to the end of its block)
    /// and the position of its value.
    fn find_key(&self, r: Region, key: &str) -> Option<(Region, Option<(usize, usize)>)> {
        // A key that is not a plain string (a tagged or complex key) reaches here as "";
        // it cannot be found in the text, and searching for it would never advance.
        if key.is_empty() {
            return None;
        }
        let base = self.lines.get(r.start).map(|l| indent(l)).unwrap_or(0);
        for li in r.start..r.end.min(self.lines.len()) {
            let full = self.lines[li];
            let line = code(full);
            if li > r.start && !blank(full) && indent(full) < base {
                break;
            }
            let from = if li == r.start { r.col } else { 0 };
            let mut search = from.min(line.len());
            while let Some(off) = line[search..].find(key) {
                let at = search + off;
                let after = at + key.len();
                let before_ok = line[..at]
                    .trim_end_matches([' ', '\t'])
                    .chars()
                    .last()
                    .is_none_or(|c| matches!(c, '{' | ',' | '-' | '?'));
                let rest = &line[after..];
                let colon_ok = rest.starts_with(':')
                    && rest[1..]
                        .chars()
                        .next()
                        .is_none_or(|c| c == ' ' || c == '\t');
                if before_ok && colon_ok {
                    let vstart = after + 1;
                    let skip = line[vstart..].len() - line[vstart..].trim_start().len();
                    let end = self.block_end(li, indent(full).max(at));
                    let value = if line[vstart..].trim().is_empty() {
                        self.next_content(li + 1, end)
                    } else {
                        Some((li, vstart + skip))
                    };
                    return Some((
                        Region {
                            start: li,
                            col: at,
                            end,
                        },
                        value,
                    ));
                }
                search = after;
            }
        }
        None
    }

    fn next_content(&self, from: usize, end: usize) -> Option<(usize, usize)> {
        (from..end.min(self.lines.len()))
            .find(|&l| !blank(self.lines[l]))
            .map(|l| (l, indent(self.lines[l])))
    }

    /// The end of the block that starts at line `li` with a key at column `col`: the
    /// first later line indented at or left of `col` (a `- ` item at the same column
    /// belongs to the key's value when it is a sequence).
    fn block_end(&self, li: usize, col: usize) -> usize {
        let mut l = li + 1;
        while l < self.lines.len() {
            let t = self.lines[l];
            if !blank(t) {
                let i = indent(t);
                let item = code(t).trim_start().starts_with("- ") || code(t).trim() == "-";
                if i < col || (i == col && !item) {
                    return l;
                }
            }
            l += 1;
        }
        self.lines.len()
    }

    /// Finds the `i`-th item of the sequence whose value starts at `value`.
    fn find_item(&self, r: Region, value: Option<(usize, usize)>, i: usize) -> Option<Region> {
        let (vl, vc) = value.unwrap_or((r.start, r.col));
        let line = code(self.lines.get(vl)?);
        let rest = line.get(vc..)?;
        if rest.starts_with('[') {
            // A flow sequence on one line: count commas at depth 1.
            let mut depth = 0;
            let mut n = 0;
            let (mut sq, mut dq) = (false, false);
            for (off, ch) in rest.char_indices() {
                match ch {
                    '\'' if !dq => sq = !sq,
                    '"' if !sq => dq = !dq,
                    '[' | '{' if !sq && !dq => {
                        depth += 1;
                        if depth == 1 && off == 0 && i == 0 {
                            let inner = rest.strip_prefix(['[', '{']).unwrap_or(rest);
                            let skip = inner.len() - inner.trim_start().len();
                            return Some(Region {
                                start: vl,
                                col: vc + 1 + skip,
                                end: vl + 1,
                            });
                        }
                    }
                    ']' | '}' if !sq && !dq => depth -= 1,
                    ',' if !sq && !dq && depth == 1 => {
                        n += 1;
                        if n == i {
                            let after = &rest[off + 1..];
                            let skip = after.len() - after.trim_start().len();
                            return Some(Region {
                                start: vl,
                                col: vc + off + 1 + skip,
                                end: vl + 1,
                            });
                        }
                    }
                    _ => {}
                }
            }
            return None;
        }
        // A block sequence: items are `- ` lines at the first item's indentation.
        let mut item_col = None;
        let mut n = 0;
        let mut found: Option<usize> = None;
        for li in vl..r.end.min(self.lines.len()) {
            let t = code(self.lines[li]);
            if blank(t) {
                continue;
            }
            let ind = indent(t);
            let is_item = t.trim_start().starts_with('-')
                && matches!(t.trim_start().as_bytes().get(1), None | Some(b' '));
            match item_col {
                None if is_item => item_col = Some(ind),
                None => continue,
                Some(c) if ind < c || (ind == c && !is_item) => {
                    if let Some(s) = found {
                        return Some(self.item_region(s, c, li));
                    }
                    return None;
                }
                _ => {}
            }
            let c = item_col.expect("set above");
            if is_item && ind == c {
                if let Some(s) = found {
                    return Some(self.item_region(s, c, li));
                }
                if n == i {
                    found = Some(li);
                }
                n += 1;
            }
        }
        found.map(|s| self.item_region(s, item_col.unwrap_or(0), r.end))
    }

    fn item_region(&self, start: usize, dash: usize, end: usize) -> Region {
        let t = code(self.lines[start]);
        let after = &t[(dash + 1).min(t.len())..];
        let skip = after.len() - after.trim_start().len();
        Region {
            start,
            col: dash + 1 + skip,
            end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "name: x\nsteps:\n  - socket: s\n  - ioctl: s\n    code: FIONBIO # c\n    expect: { result: 0, error: WSAEINVAL }\n  - wait: [a, b]\n";

    #[test]
    fn a_nested_block_key_is_found_at_its_own_column() {
        let l = Locator::new(SRC);
        let p = l.key(&[Seg::Key("steps"), Seg::Index(1), Seg::Key("code")]);
        assert_eq!((p.line, p.col), (5, 5));
        let v = l.value(&[Seg::Key("steps"), Seg::Index(1), Seg::Key("code")]);
        assert_eq!((v.line, v.col), (5, 11));
    }

    #[test]
    fn a_key_inside_a_flow_map_is_found_on_its_line() {
        let l = Locator::new(SRC);
        let p = l.value(&[
            Seg::Key("steps"),
            Seg::Index(1),
            Seg::Key("expect"),
            Seg::Key("error"),
        ]);
        assert_eq!((p.line, p.col), (6, 33));
    }

    #[test]
    fn flow_sequence_items_are_counted_by_commas() {
        let l = Locator::new(SRC);
        let p = l.key(&[
            Seg::Key("steps"),
            Seg::Index(2),
            Seg::Key("wait"),
            Seg::Index(1),
        ]);
        assert_eq!((p.line, p.col), (7, 15));
    }

    #[test]
    fn a_step_item_starts_after_its_dash() {
        let l = Locator::new(SRC);
        let p = l.key(&[Seg::Key("steps"), Seg::Index(0)]);
        assert_eq!((p.line, p.col), (3, 5));
    }

    #[test]
    fn items_lists_every_step_start_in_one_pass() {
        let l = Locator::new(SRC);
        let starts: Vec<(u32, u32)> = l
            .items(&[Seg::Key("steps")])
            .iter()
            .map(|p| (p.line, p.col))
            .collect();
        assert_eq!(starts, vec![(3, 5), (4, 5), (7, 5)]);
    }
}
