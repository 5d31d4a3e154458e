//! Which copy of a project a folder runs. Two folders may hold projects of the same name (two
//! `labforge new shop`, two copies of one lab); each gets its own containers, network and volumes.
//! The first folder keeps the readable names (`shop-postgres`, `labforge_shop`, `shop_pgdata`);
//! another folder's names carry a short suffix made from its path (`shop-3f2a9c-postgres`).
//!
//! Every object labforge creates is labelled with its instance (`io.labforge.project`) and its
//! folder (`io.labforge.dir`), so the choice is made again from the daemon's labels on every
//! command, and a folder finds its own objects after any `down`. Objects made before instances
//! existed carry no folder: the readable instance adopts them, so upgrading keeps their data.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::docker::{DockerError, Engine, Labels};
use super::project::{LABEL_PROJECT, Project};

/// The folder a project's object belongs to (its canonical path).
pub const LABEL_DIR: &str = "io.labforge.dir";

/// One copy of a project: the prefix of its Docker objects' names, and the value of their
/// project label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    name: String,
    dir: String,
}

impl Instance {
    /// The readable instance of project `project` in `dir`.
    pub fn plain(project: &str, dir: &Path) -> Instance {
        Instance { name: project.to_string(), dir: folder(dir) }
    }

    /// The suffixed instance of project `project` in `dir`: the same for the folder every time.
    pub fn suffixed(project: &str, dir: &Path) -> Instance {
        let dir = folder(dir);
        let hash = crate::base::hex(&Sha256::digest(dir.as_bytes())[..3]);
        Instance { name: format!("{project}-{hash}"), dir }
    }

    /// The instance a workshop seat (or any caller) names itself.
    pub fn named(name: &str, dir: &Path) -> Instance {
        Instance { name: name.to_string(), dir: folder(dir) }
    }

    /// The name: the project label of its objects and the prefix of their names.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The folder, as labelled on its objects.
    pub fn dir(&self) -> &str {
        &self.dir
    }

    pub fn network(&self) -> String {
        format!("labforge_{}", self.name)
    }

    pub fn container(&self, service: &str) -> String {
        format!("{}-{service}", self.name)
    }

    pub fn volume(&self, volume: &str) -> String {
        format!("{}_{volume}", self.name)
    }
}

/// The canonical path of `dir`, or `dir` as given when it does not exist (yet).
fn folder(dir: &Path) -> String {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()).display().to_string()
}

/// Picks the instance for `dir` from the labels of the objects the daemon holds under the
/// readable name (`plain`) and under this folder's suffixed name (`suffixed`). Pure.
///
/// The folder's suffixed objects, when there are any, are its own. Else the readable name is the
/// folder's unless an object of another folder holds it.
pub fn choose(project: &str, dir: &Path, plain: &[Labels], suffixed: &[Labels]) -> Instance {
    let readable = Instance::plain(project, dir);
    let other = Instance::suffixed(project, dir);
    if !suffixed.is_empty() {
        return other;
    }
    let held_elsewhere = plain.iter().any(|labels| labels.get(LABEL_DIR).is_some_and(|d| *d != readable.dir));
    if held_elsewhere { other } else { readable }
}

/// The instance of project `project` that the folder `dir` runs, from what the daemon holds.
async fn resolve<E: Engine>(engine: &E, project: &str, dir: &Path) -> Result<Instance, DockerError> {
    let plain = engine.labelled(LABEL_PROJECT, project).await?;
    let suffixed = engine.labelled(LABEL_PROJECT, Instance::suffixed(project, dir).name()).await?;
    Ok(choose(project, dir, &plain, &suffixed))
}

/// `project` as its folder runs it on `engine`: in the folder's instance.
pub async fn place<E: Engine>(engine: &E, project: Project) -> Result<Project, DockerError> {
    let instance = resolve(engine, &project.name, &project.dir).await?;
    Ok(project.in_instance(instance))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(dir: Option<&str>) -> Labels {
        let mut labels = Labels::from([(LABEL_PROJECT.to_string(), "shop".to_string())]);
        if let Some(dir) = dir {
            labels.insert(LABEL_DIR.to_string(), dir.to_string());
        }
        labels
    }

    #[test]
    fn the_first_folder_keeps_the_readable_names() {
        let a = Path::new("/work/a/shop");
        assert_eq!(choose("shop", a, &[], &[]).name(), "shop", "nothing there yet");
        assert_eq!(choose("shop", a, &[of(Some("/work/a/shop"))], &[]).name(), "shop", "its own objects");
        assert_eq!(choose("shop", a, &[of(None)], &[]).name(), "shop", "objects from before instances");
        let i = Instance::plain("shop", a);
        assert_eq!(
            (i.network(), i.container("db"), i.volume("pgdata")),
            ("labforge_shop".into(), "shop-db".into(), "shop_pgdata".into())
        );
    }

    #[test]
    fn another_folder_gets_a_stable_suffix_and_keeps_it() {
        let b = Path::new("/work/b/shop");
        let chosen = choose("shop", b, &[of(Some("/work/a/shop"))], &[]);
        assert_eq!(chosen, Instance::suffixed("shop", b));
        assert!(chosen.name().starts_with("shop-") && chosen.name().len() == "shop-".len() + 6, "{}", chosen.name());
        assert_ne!(chosen, Instance::suffixed("shop", Path::new("/work/c/shop")), "each folder its own suffix");
        // Once it has objects under its suffix, it keeps them even when the readable name is free.
        assert_eq!(choose("shop", b, &[], &[of(Some("/work/b/shop"))]), chosen);
    }
}
