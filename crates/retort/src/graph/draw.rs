//! `git log --graph`-style text drawing of the revision graph.
//!
//! Rows come newest first and name their parents by row index, always further
//! down. The drawing keeps a list of *edge columns*: column `j` carries an edge
//! down to the row it waits for. For each row, in order:
//!
//! 1. the row takes the leftmost column waiting for it; any other column waiting
//!    for it joins that one first (`|/`, or `|_|/` when the join runs left
//!    under unrelated columns). A row nobody waits for (a head) opens a new
//!    column on the right.
//! 2. The node line: `*` in the row's column, `|` in the others, the label.
//! 3. The row's column passes to its first parent and each further parent
//!    opens a column just right of it (`|\`; an octopus merge draws a `*-.`
//!    bar on its node line and `|\ \` below). A two-parent merge whose other
//!    parent already waits in a neighbouring column joins that column instead
//!    (`|\|`, `|/|`). A row without parents closes its column, and the
//!    columns right of it shift left (` /`).
//! 4. Neighbouring columns waiting for the same row join (`|/`).
//!
//! Column `j` is drawn at character `2 * j`; `/` and `\` sit between columns
//! and move an edge by one column. Two edges only meet where they lead to the
//! same row, and an edge only splits right under its node, so following the
//! characters down from a node reaches exactly its parents. Each line costs
//! O(columns); a row prints O(1 + parents) lines plus its joins, and there is
//! at most one join per edge, so the whole drawing is O(rows × columns).

/// Lines of a `git log --graph`-style drawing.
///
/// `parents[i]` lists the parents of row `i` as row indices. Rows are given
/// newest first: every parent index is greater than its child's index (the
/// caller guarantees it; an index out of range or not greater is ignored, as
/// is a repeated parent). `labels[i]` is the one-line text printed after row
/// i's node; a missing label is empty and extra labels are ignored.
///
/// Returns the lines to print: one line per row containing `*` in that row's
/// column followed by the label, plus connector-only lines between rows where
/// edges fork, join or shift columns. Characters: `*` node, `|` edge going
/// straight down, `/` and `\` edge moving one column left or right, `_` a join
/// running left under the columns it crosses (`|_|/`), `-` and `.` the bar of
/// an octopus merge (`*-.`, `*---.`), each `\` under the bar one parent.
/// Trailing spaces are trimmed. When a root is directly followed by an
/// unrelated head in the same column, a line of `|` (empty when no other
/// column is open) separates them, so stacked `*`s always mean an edge.
///
/// ```text
/// *   m, merge
/// |\
/// | * c, second branch
/// * | b, first branch
/// |/
/// * a, base
/// ```
pub fn draw(parents: &[Vec<usize>], labels: &[String]) -> Vec<String> {
    let rows = parents.len();
    let mut canvas = Canvas::default();
    // `mark[p] == row` once `p` was taken as a parent of `row`: dedup in O(1).
    let mut mark = vec![usize::MAX; rows];
    let mut valid = Vec::new();
    for (row, listed) in parents.iter().enumerate() {
        valid.clear();
        for &p in listed {
            if p > row && p < rows && mark[p] != row {
                mark[p] = row;
                valid.push(p);
            }
        }
        let label = labels.get(row).map_or("", String::as_str);
        canvas.row(row, &valid, label);
    }
    canvas.lines
}

/// The drawing in progress.
#[derive(Debug, Default)]
struct Canvas {
    /// Finished lines.
    lines: Vec<String>,
    /// The row each open edge column leads to, left to right.
    cols: Vec<usize>,
    /// The `*`'s column while the last line printed is a node line.
    star: Option<usize>,
}

impl Canvas {
    /// Draws one row whose distinct, in-range parents are `parents`.
    fn row(&mut self, row: usize, parents: &[usize], label: &str) {
        let col = self.take_column(row);
        let width = self.cols.len();
        // An octopus bar covers `extra` columns right of the node.
        let extra = parents.len().saturating_sub(2);
        if extra > 0 && col + 1 < width {
            // Make room for the bar: the columns right of the node step right.
            for step in 0..extra {
                let mut line = Line::new(width + step + 1);
                for j in 0..=col {
                    line.put(2 * j, '|');
                }
                for j in col + 1 + step..width + step {
                    line.put(2 * j + 1, '\\');
                }
                self.connector(line);
            }
        }
        let neighbour = match parents {
            [a, b] => neighbour_join(&self.cols, col, *a, *b),
            _ => None,
        };

        // The node line.
        let node_cols = width + extra;
        let mut line = Line::new(node_cols);
        for j in 0..col {
            line.put(2 * j, '|');
        }
        line.put(2 * col, '*');
        if extra > 0 {
            for pos in 2 * col + 1..2 * (col + extra) {
                line.put(pos, '-');
            }
            line.put(2 * (col + extra), '.');
        }
        for j in col + 1..width {
            line.put(2 * (j + extra), '|');
        }
        // Leave room for the column a merge opens on the next line.
        let opens = parents.len() >= 2 && neighbour.is_none();
        let label_at = 2 * (node_cols + usize::from(opens));
        self.lines.push(line.finish_with_label(label_at, label));
        self.star = Some(col);

        // Hand the column to the parents.
        match parents {
            [] => {
                self.cols.remove(col);
                if col < self.cols.len() {
                    let mut line = Line::new(width);
                    for j in 0..col {
                        line.put(2 * j, '|');
                    }
                    for j in col + 1..width {
                        line.put(2 * j - 1, '/');
                    }
                    self.connector(line);
                }
            }
            [only] => self.cols[col] = *only,
            [first, rest @ ..] => {
                let mut line = Line::new(node_cols + 1);
                if let Some((stay, to)) = neighbour {
                    self.cols[col] = stay;
                    for j in 0..width {
                        line.put(2 * j, '|');
                    }
                    if to > col {
                        line.put(2 * col + 1, '\\');
                    } else {
                        line.put(2 * col - 1, '/');
                    }
                } else {
                    self.cols[col] = *first;
                    self.cols.splice(col + 1..col + 1, rest.iter().copied());
                    for j in 0..=col {
                        line.put(2 * j, '|');
                    }
                    for j in col..node_cols {
                        line.put(2 * j + 1, '\\');
                    }
                }
                self.connector(line);
            }
        }
        self.join_neighbours();
    }

    /// Returns the column of `row`, first joining into its leftmost column
    /// every other column waiting for it, or opening a new column on the
    /// right for a head.
    fn take_column(&mut self, row: usize) -> usize {
        let Some(col) = self.cols.iter().position(|&t| t == row) else {
            let col = self.cols.len();
            if self.star == Some(col) {
                // A root's `*` right above: keep the two visibly apart.
                let mut line = Line::new(col);
                for j in 0..col {
                    line.put(2 * j, '|');
                }
                self.connector(line);
            }
            self.cols.push(row);
            return col;
        };
        let mut from = col + 1;
        while let Some(offset) = self
            .cols
            .get(from..)
            .and_then(|rest| rest.iter().position(|&t| t == row))
        {
            let s = from + offset;
            self.connector(join_line(self.cols.len(), col, s));
            self.cols.remove(s);
            from = s;
        }
        col
    }

    /// Joins neighbouring columns that wait for the same row.
    fn join_neighbours(&mut self) {
        let mut j = 0;
        while j + 1 < self.cols.len() {
            if self.cols[j] == self.cols[j + 1] {
                self.connector(join_line(self.cols.len(), j, j + 1));
                self.cols.remove(j + 1);
            } else {
                j += 1;
            }
        }
    }

    /// Prints a connector line.
    fn connector(&mut self, line: Line) {
        self.lines.push(line.finish());
        self.star = None;
    }
}

/// For a two-parent merge in column `col` with parents `a` and `b`: when a
/// column right next to it already waits for one of them, returns the parent
/// that stays in `col` and the neighbouring column the other one joins.
fn neighbour_join(cols: &[usize], col: usize, a: usize, b: usize) -> Option<(usize, usize)> {
    let right = cols.get(col + 1).copied();
    let left = col.checked_sub(1).and_then(|j| cols.get(j).copied());
    if right == Some(b) {
        Some((a, col + 1))
    } else if right == Some(a) {
        Some((b, col + 1))
    } else if left == Some(b) {
        Some((a, col - 1))
    } else if left == Some(a) {
        Some((b, col - 1))
    } else {
        None
    }
}

/// The line where column `s` of `n` joins column `into` (left of it), running
/// under the columns between, and the columns right of `s` shift left.
fn join_line(n: usize, into: usize, s: usize) -> Line {
    let mut line = Line::new(n);
    for j in 0..s {
        line.put(2 * j, '|');
    }
    for j in into..s - 1 {
        line.put(2 * j + 1, '_');
    }
    for j in s..n {
        line.put(2 * j - 1, '/');
    }
    line
}

/// One line's graph characters.
#[derive(Debug)]
struct Line(Vec<char>);

impl Line {
    /// A blank line `cols` columns wide.
    fn new(cols: usize) -> Self {
        Self(vec![' '; 2 * cols])
    }

    /// Sets the character at `pos`, widening the line if needed.
    fn put(&mut self, pos: usize, ch: char) {
        if pos >= self.0.len() {
            self.0.resize(pos + 1, ' ');
        }
        self.0[pos] = ch;
    }

    /// The line without trailing spaces.
    fn finish(self) -> String {
        let text: String = self.0.into_iter().collect();
        text.trim_end().to_owned()
    }

    /// The line with `label` starting at character `at` (or one space after
    /// the graph, if that is further right), trailing spaces trimmed.
    fn finish_with_label(self, at: usize, label: &str) -> String {
        let mut text = self.finish();
        let at = at.max(text.len() + 1);
        text.extend(std::iter::repeat_n(' ', at - text.len()));
        text.push_str(label);
        text.trim_end().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws rows given as `(label, parents)` and joins the lines.
    fn render(rows: &[(&str, &[usize])]) -> String {
        let parents: Vec<Vec<usize>> = rows.iter().map(|(_, p)| p.to_vec()).collect();
        let labels: Vec<String> = rows.iter().map(|(l, _)| (*l).to_owned()).collect();
        let lines = draw(&parents, &labels);
        trace(&parents, &labels, &lines).unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
        lines.join("\n")
    }

    #[test]
    fn empty_input() {
        assert!(draw(&[], &[]).is_empty());
    }

    #[test]
    fn single_row() {
        assert_eq!(render(&[("a", &[])]), "* a");
    }

    #[test]
    fn linear_chain() {
        assert_eq!(
            render(&[("c", &[1]), ("b", &[2]), ("a", &[])]),
            "* c\n* b\n* a"
        );
    }

    #[test]
    fn example_branch_then_merge() {
        let got = render(&[
            ("m, merge", &[2, 1]),
            ("c, second branch", &[3]),
            ("b, first branch", &[3]),
            ("a, base", &[]),
        ]);
        let want = "\
*   m, merge
|\\
| * c, second branch
* | b, first branch
|/
* a, base";
        assert_eq!(got, want);
    }

    #[test]
    fn branch_point() {
        let got = render(&[("c", &[2]), ("b", &[2]), ("a", &[])]);
        assert_eq!(got, "* c\n| * b\n|/\n* a");
    }

    #[test]
    fn merge_of_two_roots() {
        let got = render(&[("m", &[1, 2]), ("b", &[]), ("a", &[])]);
        assert_eq!(got, "*   m\n|\\\n* | b\n /\n* a");
    }

    #[test]
    fn merge_of_a_branch_point() {
        // m merges b and its own parent a.
        let got = render(&[("m", &[1, 2]), ("b", &[2]), ("a", &[])]);
        assert_eq!(got, "*   m\n|\\\n* | b\n|/\n* a");
    }

    #[test]
    fn merge_joins_neighbouring_column() {
        // x is a head whose parent b is the second parent of m, already
        // waiting right next to m's column.
        let got = render(&[
            ("m", &[2, 3]),
            ("x", &[3]),
            ("a", &[4]),
            ("b", &[4]),
            ("base", &[]),
        ]);
        let want = "\
*   m
|\\
| | * x
| |/
* | a
| * b
|/
* base";
        assert_eq!(got, want);

        let got = render(&[
            ("x", &[2]),
            ("m", &[3, 2]),
            ("b", &[4]),
            ("a", &[4]),
            ("base", &[]),
        ]);
        let want = "\
* x
| * m
|/|
* | b
| * a
|/
* base";
        assert_eq!(got, want);

        let got = render(&[
            ("x", &[3]),
            ("y", &[2]),
            ("m", &[4, 3]),
            ("a", &[4]),
            ("base", &[]),
        ]);
        let want = "\
* x
| * y
| * m
|/|
* | a
|/
* base";
        assert_eq!(got, want);
    }

    #[test]
    fn octopus_merge() {
        let got = render(&[
            ("m", &[1, 2, 3]),
            ("a", &[4]),
            ("b", &[4]),
            ("c", &[4]),
            ("base", &[]),
        ]);
        let want = "\
*-.   m
|\\ \\
* | | a
| * | b
|/ /
| * c
|/
* base";
        assert_eq!(got, want);
    }

    #[test]
    fn octopus_beside_another_column() {
        // The column right of m steps aside to make room for the bar.
        let got = render(&[
            ("x", &[1, 6]),
            ("m", &[2, 3, 4]),
            ("a", &[5]),
            ("b", &[5]),
            ("c", &[5]),
            ("base", &[]),
            ("y", &[]),
        ]);
        let want = "\
*   x
|\\
|  \\
*-. |   m
|\\ \\ \\
* | | | a
| * | | b
|/ / /
| * | c
|/ /
* | base
 /
* y";
        assert_eq!(got, want);
    }

    #[test]
    fn four_way_octopus_sharing_a_parent_with_its_child() {
        let got = render(&[
            ("x", &[1, 5]),
            ("m", &[2, 3, 4, 5]),
            ("a", &[5]),
            ("b", &[5]),
            ("c", &[5]),
            ("base", &[]),
        ]);
        let want = "\
*   x
|\\
|  \\
|    \\
*---. |   m
|\\ \\ \\ \\
| | | |/
* | | | a
| * | | b
|/ / /
| * | c
|/ /
|/
* base";
        assert_eq!(got, want);
    }

    #[test]
    fn three_heads_converging_at_different_points() {
        let got = render(&[
            ("h1", &[3]),
            ("h2", &[4]),
            ("h3", &[5]),
            ("c", &[4]),
            ("b", &[5]),
            ("a", &[]),
        ]);
        let want = "\
* h1
| * h2
| | * h3
* | | c
|/ /
* | b
|/
* a";
        assert_eq!(got, want);
    }

    #[test]
    fn criss_cross() {
        let got = render(&[
            ("m1", &[2, 3]),
            ("m2", &[3, 2]),
            ("a", &[4]),
            ("b", &[4]),
            ("base", &[]),
        ]);
        let want = "\
*   m1
|\\
| | * m2
| |/|
|_|/
* | a
| * b
|/
* base";
        assert_eq!(got, want);
    }

    #[test]
    fn join_runs_under_several_columns() {
        let got = render(&[
            ("h", &[4]),
            ("x", &[5]),
            ("y", &[5]),
            ("z", &[4]),
            ("a", &[5]),
            ("b", &[]),
        ]);
        let want = "\
* h
| * x
| | * y
| |/
| | * z
|_|/
* | a
|/
* b";
        assert_eq!(got, want);
    }

    #[test]
    fn complete_bipartite_needs_crossings() {
        // Three merges of the same three roots: no planar drawing exists.
        let got = render(&[
            ("s1", &[3, 4, 5]),
            ("s2", &[3, 4, 5]),
            ("s3", &[3, 4, 5]),
            ("t1", &[]),
            ("t2", &[]),
            ("t3", &[]),
        ]);
        let want = "\
*-.   s1
|\\ \\
| | | *-.   s2
| | | |\\ \\
| | | | | | *-.   s3
| | | | | | |\\ \\
|_|_|/ / / / / /
|_|_|_|_|/ / /
* | | | | | | t1
 / / / / / /
|_|/ / / /
|_|_|/ /
* | | | t2
 / / /
|/ /
|/
* t3";
        assert_eq!(got, want);
    }

    #[test]
    fn realistic_history() {
        let got = render(&[
            ("head", &[1]),
            ("merge2", &[2, 4]),
            ("f3", &[3]),
            ("f2", &[6]),
            ("g1", &[5]),
            ("merge1", &[6, 7]),
            ("e", &[8]),
            ("d", &[8]),
            ("base", &[]),
        ]);
        let want = "\
* head
*   merge2
|\\
* | f3
* | f2
| * g1
| * merge1
|/|
* | e
| * d
|/
* base";
        assert_eq!(got, want);
    }

    #[test]
    fn tracer_rejects_wrong_drawings() {
        let parents = vec![vec![2, 1], vec![3], vec![3], vec![]];
        let labels: Vec<String> = ["m", "c", "b", "a"].map(String::from).to_vec();
        let lines = |text: &str| text.lines().map(String::from).collect::<Vec<_>>();
        let good = lines("*   m\n|\\\n| * c\n* | b\n|/\n* a");
        assert_eq!(trace(&parents, &labels, &good), Ok(()));
        for bad in [
            // The merge's second edge is missing.
            "* m\n* c\n* b\n* a",
            // c joins b instead of a.
            "*   m\n|\\\n| * c\n|/\n* b\n* a",
            // The join is missing: one edge stops.
            "*   m\n|\\\n| * c\n* | b\n* a",
            // An edge starting from nowhere.
            "*   m\n|\\\n| * c\n* | b\n|/|\n* a",
            // Stray character.
            "*   m\n|\\\n| * c\n* | b\n|x\n* a",
        ] {
            assert!(trace(&parents, &labels, &lines(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn disconnected_roots() {
        let got = render(&[("a", &[1]), ("b", &[]), ("c", &[3]), ("d", &[])]);
        assert_eq!(got, "* a\n* b\n\n* c\n* d");
        let got = render(&[("a", &[2]), ("b", &[3]), ("c", &[]), ("d", &[])]);
        assert_eq!(got, "* a\n| * b\n* | c\n /\n* d");
        let got = render(&[("a", &[3]), ("r", &[]), ("h", &[]), ("b", &[])]);
        assert_eq!(got, "* a\n| * r\n|\n| * h\n* b");
    }

    #[test]
    fn out_of_range_and_backward_parents_are_ignored() {
        let got = render(&[("b", &[1, 1, 0, 7, usize::MAX]), ("a", &[0, 1])]);
        assert_eq!(got, "* b\n* a");
    }

    #[test]
    fn missing_and_extra_labels() {
        let parents = vec![vec![1], vec![]];
        assert_eq!(draw(&parents, &[]), ["*", "*"]);
        let labels = vec!["x".to_owned(), "y".to_owned(), "z".to_owned()];
        assert_eq!(draw(&parents, &labels), ["* x", "* y"]);
    }

    #[test]
    fn long_history_is_fast() {
        let n = 10_000;
        let parents: Vec<Vec<usize>> = (0..n)
            .map(|i| match i % 7 {
                0 => vec![i + 1, i + 3],
                3 => vec![i + 2, i + 5, i + 6],
                _ => vec![i + 1],
            })
            .collect();
        let lines = draw(&parents, &[]);
        assert_eq!(lines.iter().filter(|l| l.contains('*')).count(), n);
        assert!(lines.iter().all(|l| l.len() < 40));
    }

    /// A small xorshift generator so the checker needs no external crate.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % u64::try_from(n).unwrap_or(u64::MAX)).unwrap_or(0)
        }
    }

    #[test]
    fn random_dags_trace_back_to_their_parents() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for case in 0..600 {
            let n = 1 + rng.below(40);
            let parents: Vec<Vec<usize>> = (0..n)
                .map(|i| {
                    // Up to 3 parents, now and then an octopus of 4.
                    let count = if rng.below(8) == 0 { 4 } else { rng.below(4) };
                    (0..count)
                        .map(|_| match rng.below(10) {
                            // Junk the drawing must ignore.
                            0 => rng.below(n + 3),
                            // Mostly near parents, like real histories.
                            1..=6 => i + 1 + rng.below(3),
                            _ => i + 1 + rng.below(n),
                        })
                        .collect()
                })
                .collect();
            let labels: Vec<String> = (0..n).map(|i| format!("r{i}")).collect();
            let lines = draw(&parents, &labels);
            if let Err(e) = trace(&parents, &labels, &lines) {
                panic!(
                    "case {case}: {e}\nparents: {parents:?}\n{}",
                    lines.join("\n")
                );
            }
        }
    }

    /// Follows the drawing from every node down and checks it reaches exactly
    /// the node's distinct in-range parents, that every edge character is fed
    /// from above and continues below, and that each row has one `*`.
    fn trace(parents: &[Vec<usize>], labels: &[String], lines: &[String]) -> Result<(), String> {
        let n = parents.len();
        assert!(n <= 128, "the tracer keeps origins in a u128");
        let bit = |row: usize| 1u128 << row;
        let expected: Vec<u128> = (0..n)
            .map(|i| {
                parents[i]
                    .iter()
                    .filter(|&&p| p > i && p < n)
                    .fold(0, |acc, &p| acc | bit(p))
            })
            .collect();
        let mut reached = vec![0u128; n];
        // Origins of the edges crossing each column between two lines.
        let mut top: Vec<u128> = Vec::new();
        let mut row = 0;
        // Graph part of the previous node line, to spot stacked `*`s.
        let mut previous: Vec<char> = Vec::new();
        for (at, text) in lines.iter().enumerate() {
            let fail = |what: String| Err(format!("line {at} {text:?}: {what}"));
            if text.ends_with(' ') {
                return fail("trailing space".into());
            }
            let is_node = text.contains('*');
            let graph: Vec<char> = if is_node {
                let label = labels.get(row).map_or("", String::as_str);
                let Some(graph) = text.strip_suffix(label) else {
                    return fail(format!("no label {label:?}"));
                };
                if !label.is_empty() && (!graph.ends_with(' ') || graph.len() % 2 != 0) {
                    return fail("label not separated or not on a column".into());
                }
                graph.trim_end().chars().collect()
            } else {
                text.chars().collect()
            };
            if let Some(bad) = graph.iter().find(|c| !"*|/\\ -._".contains(**c)) {
                return fail(format!("unexpected {bad:?}"));
            }
            let mut bottom = vec![0u128; top.len().max(graph.len() / 2 + 2)];
            let mut used = vec![false; top.len()];
            let from = |k: usize, used: &mut Vec<bool>| -> Result<u128, String> {
                match top.get(k) {
                    Some(&o) if o != 0 => {
                        used[k] = true;
                        Ok(o)
                    }
                    _ => Err(format!("line {at} {text:?}: nothing above column {k}")),
                }
            };
            if is_node {
                if row >= n {
                    return fail("more node lines than rows".into());
                }
                if graph.iter().filter(|&&c| c == '*').count() != 1 {
                    return fail("not exactly one `*`".into());
                }
                let star = graph.iter().position(|&c| c == '*').unwrap_or(0);
                if star % 2 != 0 {
                    return fail("`*` between columns".into());
                }
                let col = star / 2;
                let arriving = top.get(col).copied().unwrap_or(0);
                if arriving == 0 && previous.get(star).is_some_and(|&c| c != ' ') {
                    return fail("head right under another node".into());
                }
                if arriving != 0 {
                    used[col] = true;
                }
                for (origin, seen) in reached.iter_mut().enumerate() {
                    if arriving & bit(origin) != 0 {
                        *seen |= bit(row);
                    }
                }
                // The octopus bar `*---.`.
                let mut end = star;
                while graph.get(end + 1) == Some(&'-') {
                    end += 1;
                }
                if graph.get(end + 1) == Some(&'.') {
                    end += 1;
                    if end % 2 != 0 {
                        return fail("`.` between columns".into());
                    }
                } else if end != star {
                    return fail("bar without `.`".into());
                }
                if (col + 1..=end / 2).any(|k| top.get(k).is_some_and(|&o| o != 0)) {
                    return fail("edge runs into the bar".into());
                }
                if expected[row] != 0 {
                    bottom[col..=end / 2].fill(bit(row));
                }
                for (p, &c) in graph.iter().enumerate() {
                    if (star..=end).contains(&p) {
                        continue;
                    }
                    match c {
                        ' ' => {}
                        '|' if p % 2 == 0 => bottom[p / 2] |= from(p / 2, &mut used)?,
                        _ => return fail(format!("{c:?} at {p} on a node line")),
                    }
                }
                row += 1;
                previous = graph;
            } else {
                let mut pos = 0;
                while pos < graph.len() {
                    let c = graph[pos];
                    let odd = pos % 2 == 1;
                    match c {
                        ' ' => {}
                        '|' if !odd => bottom[pos / 2] |= from(pos / 2, &mut used)?,
                        '\\' if odd => bottom[pos / 2 + 1] |= from(pos / 2, &mut used)?,
                        '/' if odd => {
                            // A `_` run to the left carries the edge further.
                            let mut left = pos;
                            while left >= 2 && graph[left - 2] == '_' {
                                left -= 2;
                            }
                            bottom[left / 2] |= from(pos / 2 + 1, &mut used)?;
                        }
                        '_' if odd => {
                            let mut right = pos;
                            while graph.get(right) == Some(&'_') {
                                right += 2;
                            }
                            if graph.get(right) != Some(&'/') {
                                return fail("`_` run not ended by `/`".into());
                            }
                            if graph.get(pos - 1) != Some(&'|') {
                                return fail("`_` run not under a column".into());
                            }
                        }
                        _ => return fail(format!("{c:?} at {pos}")),
                    }
                    pos += 1;
                }
                previous.clear();
            }
            if let Some(k) = (0..top.len()).find(|&k| top[k] != 0 && !used[k]) {
                return fail(format!("edge in column {k} stops"));
            }
            while bottom.last() == Some(&0) {
                bottom.pop();
            }
            top = bottom;
        }
        if row != n {
            return Err(format!("{row} node lines for {n} rows"));
        }
        if !top.is_empty() {
            return Err("edges left open at the bottom".into());
        }
        for i in 0..n {
            if reached[i] != expected[i] {
                return Err(format!(
                    "row {i} reaches {:#b}, parents are {:#b}",
                    reached[i], expected[i]
                ));
            }
        }
        Ok(())
    }
}
