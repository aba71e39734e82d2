use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Project, RequestError};
use crate::Error;
use crate::script::template::{self, Bodies};
use crate::script::{
    self, Header, Script, ScriptError, ScriptErrorKind, is_valid_branch_label,
    is_valid_revision_id, naming, revision_id_problem,
};
use crate::time::UtcTime;

/// What `retort revision` asks for.
#[derive(Debug, Clone, Default)]
pub struct NewRevision {
    /// The message (`-m`).
    pub message: String,
    /// A chosen id instead of a random one (`--rev-id`).
    pub rev_id: Option<String>,
    /// The revision to revise (`--head`); `None` means `head`, `base` starts
    /// a new base.
    pub head: Option<String>,
    /// Allow revising a revision that is not a head (`--splice`).
    pub splice: bool,
    /// Branch labels to declare (`--branch-label`).
    pub branch_labels: Vec<String>,
    /// Revisions or labels to depend on (`--depends-on`).
    pub depends_on: Vec<String>,
    /// Which of `migrations.dirs` to write to (`--version-path`).
    pub version_path: Option<PathBuf>,
    /// SQL to put in the sections; empty for a blank revision.
    pub bodies: Bodies,
}

impl Project {
    /// Writes a new revision file through the template and returns it parsed.
    pub fn create_revision(&self, request: &NewRevision) -> Result<Script, Error> {
        let revision = self.new_names(request)?;
        let target = request.head.as_deref().unwrap_or("head");
        let graph = self.graph();
        let parents = if target == "head" && graph.heads().len() > 1 {
            return Err(RequestError::MultipleHeads {
                heads: graph.head_ids().iter().map(|s| (*s).to_owned()).collect(),
            }
            .into());
        } else {
            graph.resolve(target, None)?.revisions
        };
        if parents.len() > 1 {
            return Err(RequestError::SeveralParents {
                target: target.to_owned(),
                count: parents.len(),
            }
            .into());
        }
        if !request.splice {
            self.check_heads(&parents)?;
        }
        self.write_revision(&parents, request, revision)
    }

    /// Writes a merge revision revising every revision the targets name
    /// (`heads` names all heads).
    pub fn merge(&self, targets: &[String], request: &NewRevision) -> Result<Script, Error> {
        let revision = self.new_names(request)?;
        let graph = self.graph();
        let mut parents: Vec<usize> = Vec::new();
        for target in targets {
            for i in graph.resolve(target, None)?.revisions {
                if !parents.contains(&i) {
                    parents.push(i);
                }
            }
        }
        if parents.len() < 2 {
            return Err(RequestError::NothingToMerge {
                revisions: graph
                    .ids(&parents)
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect(),
            }
            .into());
        }
        for &a in &parents {
            let below = graph.ancestors(&[a], false);
            if let Some(&b) = parents.iter().find(|&&b| b != a && below[b]) {
                return Err(RequestError::MergeOfAncestor {
                    ancestor: graph.node(b).id().to_owned(),
                    descendant: graph.node(a).id().to_owned(),
                }
                .into());
            }
        }
        self.check_heads(&parents)?;
        self.write_revision(&parents, request, revision)
    }

    /// The new revision's id (given or drawn) after checking it and the
    /// labels against the graph and each other, before anything else.
    fn new_names(&self, request: &NewRevision) -> Result<String, Error> {
        let graph = self.graph();
        let revision = match &request.rev_id {
            Some(id) if !is_valid_revision_id(id) => {
                return Err(RequestError::InvalidId {
                    id: id.clone(),
                    reason: revision_id_problem(id).unwrap_or_default(),
                }
                .into());
            }
            Some(id) if graph.index_of(id).is_some() || graph.label_owner(id).is_some() => {
                return Err(RequestError::IdTaken(id.clone()).into());
            }
            Some(id) => id.clone(),
            None => loop {
                let id = naming::new_revision_id();
                if graph.index_of(&id).is_none() && graph.label_owner(&id).is_none() {
                    break id;
                }
            },
        };
        for (n, label) in request.branch_labels.iter().enumerate() {
            if !is_valid_branch_label(label) {
                return Err(RequestError::InvalidLabel(label.clone()).into());
            }
            if let Some(owner) = graph.label_owner(label).or_else(|| graph.index_of(label)) {
                return Err(RequestError::LabelTaken {
                    label: label.clone(),
                    owner: format!("revision `{}`", graph.node(owner).id()),
                }
                .into());
            }
            if request.branch_labels[..n].contains(label) || *label == revision {
                return Err(RequestError::LabelTaken {
                    label: label.clone(),
                    owner: "the new revision itself (labels and ids share one namespace)"
                        .to_owned(),
                }
                .into());
            }
        }
        Ok(revision)
    }

    fn check_heads(&self, parents: &[usize]) -> Result<(), Error> {
        let graph = self.graph();
        for &p in parents {
            let node = graph.node(p);
            if !node.is_head() {
                return Err(RequestError::NotAHead {
                    id: node.id().to_owned(),
                    children: graph
                        .ids(node.children())
                        .iter()
                        .map(|s| (*s).to_owned())
                        .collect(),
                }
                .into());
            }
        }
        Ok(())
    }

    fn write_revision(
        &self,
        parents: &[usize],
        request: &NewRevision,
        revision: String,
    ) -> Result<Script, Error> {
        let graph = self.graph();
        let mut depends_on = Vec::new();
        for dep in &request.depends_on {
            let found = graph.lookup(dep).map_err(RequestError::Target)?;
            // A label stays a label: the dependency then follows the branch.
            let written = if graph.label_owner(dep).is_some() {
                dep.clone()
            } else {
                graph.node(found).id().to_owned()
            };
            if !depends_on.contains(&written) {
                depends_on.push(written);
            }
        }
        let dir = self.version_dir(parents, request.version_path.as_deref())?;
        let now = UtcTime::now();
        let header = Header {
            revision: revision.clone(),
            revises: graph.ids(parents).iter().map(|s| (*s).to_owned()).collect(),
            message: request.message.clone(),
            created: now.rfc3339(),
            branch_labels: request.branch_labels.clone(),
            depends_on,
        };
        let template_path = &self.config().migrations.template;
        let template_text = match fs::read_to_string(template_path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => template::DEFAULT.to_owned(),
            Err(e) => return Err(Error::io("read", template_path, e)),
        };
        let text = template::render(&template_text, template_path, &header, &request.bodies)?;
        let name = naming::file_name(
            &self.config().migrations.file_template,
            &now,
            &revision,
            &request.message,
        );
        let path = dir.join(name);
        let parsed =
            script::parse(&text, &path).map_err(|e| bad_template(template_path, &e.to_string()))?;
        if parsed.revision != header.revision || parsed.revises != header.revises {
            return Err(bad_template(
                template_path,
                "its header does not match the new revision's id and parents",
            ));
        }
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io("create", &path, e))?;
        file.write_all(text.as_bytes())
            .map_err(|e| Error::io("write", &path, e))?;
        Ok(parsed)
    }

    /// The directory a new revision goes to: `--version-path`, the only
    /// directory, or the directory of the revision it revises.
    fn version_dir(&self, parents: &[usize], requested: Option<&Path>) -> Result<PathBuf, Error> {
        let dirs = &self.config().migrations.dirs;
        if let Some(requested) = requested {
            let candidates = [
                self.config().root.join(requested),
                std::env::current_dir()
                    .map(|cwd| cwd.join(requested))
                    .unwrap_or_else(|_| requested.to_owned()),
            ];
            return dirs
                .iter()
                .find(|dir| candidates.iter().any(|c| same_dir(c, dir)))
                .cloned()
                .ok_or_else(|| {
                    RequestError::UnknownVersionPath {
                        path: requested.to_owned(),
                    }
                    .into()
                });
        }
        if let [only] = dirs.as_slice() {
            return Ok(only.clone());
        }
        parents
            .first()
            .and_then(|&p| self.script(p).path.parent().map(Path::to_owned))
            .ok_or_else(|| RequestError::VersionPathNeeded.into())
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn bad_template(path: &Path, reason: &str) -> Error {
    ScriptError::new(path, None, ScriptErrorKind::BadTemplate(reason.to_owned())).into()
}
