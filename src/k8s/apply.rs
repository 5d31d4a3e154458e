//! Server-side apply of prepared objects, any kind, through discovery: each kind's resource and
//! scope are asked of the API server once per group-version; an object whose applied digest
//! already matches is left alone (no write), every other one is applied with field manager
//! `labforge`, taking over fields another manager set (`force`), as `kubectl apply
//! --server-side --force-conflicts` does.

use std::collections::BTreeMap;

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, ApiResource, Scope};
use serde::Serialize;

use super::manifest::Object;
use super::{ANNOTATION_APPLIED, Error, LABEL_PROJECT, MANAGER, api_error};

/// What applying one object did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Created,
    Configured,
    Unchanged,
}

/// One object's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    pub object: String,
    pub namespace: Option<String>,
    pub change: Change,
}

/// Kinds resolved against the API server, one discovery call per group-version.
pub struct Kinds {
    client: kube::Client,
    known: BTreeMap<(String, String, String), (ApiResource, ApiCapabilities)>,
}

impl Kinds {
    pub fn new(client: kube::Client) -> Kinds {
        Kinds { client, known: BTreeMap::new() }
    }

    /// The API of `object`'s kind in its namespace.
    pub async fn api(&mut self, object: &Object) -> Result<Api<DynamicObject>, Error> {
        let (group, version) = object.group_version();
        let (resource, caps) = self.resolve(group, version, &object.kind, &object.source).await?;
        Ok(match (caps.scope, &object.namespace) {
            (Scope::Namespaced, Some(ns)) => Api::namespaced_with(self.client.clone(), ns, &resource),
            (Scope::Namespaced, None) => {
                return Err(Error::Manifest(format!(
                    "{}: {} is namespaced: labforge does not know it lives in a namespace; remove it from the list of cluster-wide kinds",
                    object.source,
                    object.id()
                )));
            }
            (Scope::Cluster, _) => Api::all_with(self.client.clone(), &resource),
        })
    }

    async fn resolve(
        &mut self,
        group: &str,
        version: &str,
        kind: &str,
        source: &str,
    ) -> Result<(ApiResource, ApiCapabilities), Error> {
        let key = (group.to_string(), version.to_string(), kind.to_string());
        if let Some(found) = self.known.get(&key) {
            return Ok(found.clone());
        }
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let found = kube::discovery::pinned_kind(&self.client, &gvk).await.map_err(|e| {
            let api_version = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
            match e {
                kube::Error::Discovery(_) | kube::Error::Api(_) => Error::Manifest(format!(
                    "{source}: the cluster does not serve kind {kind} of apiVersion {api_version}: check the spelling, or install what provides it"
                )),
                other => api_error(&format!("discover {kind} ({api_version})"), other),
            }
        })?;
        self.known.insert(key, found.clone());
        Ok(found)
    }
}

/// Applies every object in order. With `dry_run`, the server validates each change and stores
/// nothing.
pub async fn apply(kinds: &mut Kinds, objects: &[Object], dry_run: bool) -> Result<Vec<Applied>, Error> {
    let mut params = PatchParams::apply(MANAGER).force();
    params.dry_run = dry_run;
    let mut done = Vec::new();
    for object in objects {
        let api = kinds.api(object).await?;
        let current = api.get_opt(&object.name).await.map_err(|e| api_error(&format!("read {}", object.id()), e))?;
        let change = match &current {
            Some(live) if applied_digest(live) == Some(object.digest.as_str()) => Change::Unchanged,
            Some(_) => Change::Configured,
            None => Change::Created,
        };
        if change != Change::Unchanged {
            let body: DynamicObject = serde_json::from_value(object.body.clone())
                .map_err(|e| Error::Manifest(format!("{}: {e}", object.source)))?;
            api.patch(&object.name, &params, &Patch::Apply(&body))
                .await
                .map_err(|e| api_error(&format!("{}: apply {}", object.source, object.id()), e))?;
        }
        done.push(Applied { object: object.id(), namespace: object.namespace.clone(), change });
    }
    Ok(done)
}

fn applied_digest(live: &DynamicObject) -> Option<&str> {
    live.metadata.annotations.as_ref()?.get(ANNOTATION_APPLIED).map(String::as_str)
}

/// Whether labforge's field manager owns fields of the object.
fn managed_by_labforge(live: &DynamicObject) -> bool {
    live.metadata.managed_fields.iter().flatten().any(|m| m.manager.as_deref() == Some(MANAGER))
}

/// Deletes the objects of `project` that carry labforge's label and field manager, of the kinds
/// of `objects` (and Secrets), in reverse apply order; objects of the project that labforge did
/// not apply stay. Returns what it deleted.
pub async fn delete(kinds: &mut Kinds, objects: &[Object], project: &str) -> Result<Vec<String>, Error> {
    let mut deleted = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for object in objects.iter().rev() {
        if !seen.insert((object.api_version.clone(), object.kind.clone(), object.namespace.clone())) {
            continue;
        }
        let api = kinds.api(object).await?;
        let selector = format!("{LABEL_PROJECT}={project}");
        let listed = api
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| api_error(&format!("list {} of {project}", object.kind), e))?;
        for live in listed.items.iter().filter(|o| managed_by_labforge(o)) {
            let name = live.metadata.name.clone().unwrap_or_default();
            match api.delete(&name, &DeleteParams::background()).await {
                Ok(_) => deleted.push(format!("{}/{name}", object.kind)),
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(e) => return Err(api_error(&format!("delete {}/{name}", object.kind), e)),
            }
        }
    }
    Ok(deleted)
}
