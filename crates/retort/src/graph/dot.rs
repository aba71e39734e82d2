//! The graph in Graphviz's DOT language (`retort history --format dot`).

use super::Graph;

/// Renders `revisions` (indices, newest first) as a DOT digraph whose edges
/// point from a revision to the one it revises; dependencies are dashed.
/// `label` gives each node's text.
pub fn render(graph: &Graph, revisions: &[usize], label: impl Fn(usize) -> String) -> String {
    let mut included = vec![false; graph.len()];
    for &i in revisions {
        included[i] = true;
    }
    let mut out = String::from("digraph revisions {\n  rankdir=BT;\n  node [shape=box];\n");
    for &i in revisions {
        let node = graph.node(i);
        let shape = if node.is_head() { ", style=bold" } else { "" };
        out.push_str(&format!(
            "  \"{}\" [label=\"{}\"{shape}];\n",
            escape(node.id()),
            escape(&label(i))
        ));
    }
    for &i in revisions {
        let node = graph.node(i);
        for &p in node.parents().iter().filter(|&&p| included[p]) {
            out.push_str(&format!(
                "  \"{}\" -> \"{}\";\n",
                escape(node.id()),
                escape(graph.node(p).id())
            ));
        }
        for &d in node.dependencies().iter().filter(|&&d| included[d]) {
            out.push_str(&format!(
                "  \"{}\" -> \"{}\" [style=dashed];\n",
                escape(node.id()),
                escape(graph.node(d).id())
            ));
        }
    }
    out.push_str("}\n");
    out
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
