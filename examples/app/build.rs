//! Rebuilds the service when a revision file is added or removed: the
//! embedded list of files changes then (a changed file is noticed anyway).

fn main() {
    println!("cargo::rerun-if-changed=migrations");
}
