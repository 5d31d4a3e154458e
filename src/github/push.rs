//! The project's files to a branch in one commit, through the Git data API: one tree (each
//! changed file's content inline, each unchanged one by its blob id), one commit, one ref update
//! — a constant number of requests, whatever the number of files. Nothing changed, nothing sent.

use std::collections::BTreeMap;

use base64::Engine;
use http::{Method, StatusCode};
use serde::Serialize;
use serde_json::{Value, json};

use super::Error;
use super::client::GitHub;
use super::files::File;

/// What a push did.
#[derive(Debug, Clone, Serialize)]
pub struct Pushed {
    pub branch: String,
    /// The branch's head after the push.
    pub commit: String,
    /// Whether a commit was made (false: the branch already held exactly these files).
    pub committed: bool,
    /// `+ path` (new), `~ path` (changed), `- path` (gone), sorted by path.
    pub changes: Vec<String>,
    pub files: usize,
}

/// Pushes `files` to `branch` of `repo` (`OWNER/NAME`) as they are: the branch ends up holding
/// exactly them.
pub async fn push(gh: &GitHub<'_>, repo: &str, branch: &str, files: &[File], message: &str) -> Result<Pushed, Error> {
    let mut head = head_of(gh, repo, branch).await?;
    if head.is_none() && files.is_empty() {
        return Err(Error::Usage("the project has no files to push".into()));
    }
    let mut remote = match &head {
        Some(sha) => tree_of(gh, repo, sha).await?,
        None => BTreeMap::new(),
    };
    let changes = changes(files, &remote);
    if let Some(workflow) = changes.iter().find(|c| c[2..].starts_with(".github/workflows/"))
        && !gh.may("workflow")
    {
        return Err(Error::Token(format!(
            "pushing {} needs the token's `workflow` scope, which the token from {} lacks: `gh auth refresh --scopes workflow`, or a token with it",
            &workflow[2..],
            gh.token_source
        )));
    }
    if let Some(sha) = &head
        && changes.is_empty()
    {
        return Ok(Pushed {
            branch: branch.into(),
            commit: sha.clone(),
            committed: false,
            changes,
            files: files.len(),
        });
    }
    if head.is_none() && is_empty(gh, repo).await? {
        // The Git data API refuses to write into an empty repository: its first commit comes
        // from the contents API, with one of the files; the commit below holds them all.
        head = Some(first_commit(gh, repo, branch, &files[0]).await?);
        remote = tree_of(gh, repo, head.as_deref().unwrap_or_default()).await?;
    }

    let mut entries = Vec::new();
    for file in files {
        let sha = file.blob_sha();
        let entry = match (remote.get(&file.path), std::str::from_utf8(&file.bytes)) {
            (Some((mode, known)), _) if *known == sha && *mode == file.mode => {
                json!({"path": file.path, "mode": file.mode, "type": "blob", "sha": sha})
            }
            (_, Ok(text)) => json!({"path": file.path, "mode": file.mode, "type": "blob", "content": text}),
            (_, Err(_)) => {
                let blob = json!({"content": base64::engine::general_purpose::STANDARD.encode(&file.bytes), "encoding": "base64"});
                let created = gh
                    .call(Method::POST, &format!("/repos/{repo}/git/blobs"), Some(&blob), "upload a binary file")
                    .await?;
                json!({"path": file.path, "mode": file.mode, "type": "blob", "sha": string(&created.body, "sha")?})
            }
        };
        entries.push(entry);
    }
    let tree = gh
        .call(Method::POST, &format!("/repos/{repo}/git/trees"), Some(&json!({"tree": entries})), "make the tree")
        .await?;
    let parents: Vec<&str> = head.iter().map(String::as_str).collect();
    let commit = json!({"message": message, "tree": string(&tree.body, "sha")?, "parents": parents});
    let made = gh.call(Method::POST, &format!("/repos/{repo}/git/commits"), Some(&commit), "make the commit").await?;
    let sha = string(&made.body, "sha")?;
    match head {
        Some(_) => {
            let update = json!({"sha": sha, "force": false});
            gh.call(Method::PATCH, &format!("/repos/{repo}/git/refs/heads/{branch}"), Some(&update), "move the branch")
                .await?;
        }
        None => {
            let create = json!({"ref": format!("refs/heads/{branch}"), "sha": sha});
            gh.call(Method::POST, &format!("/repos/{repo}/git/refs"), Some(&create), "create the branch").await?;
        }
    }
    Ok(Pushed { branch: branch.into(), commit: sha, committed: true, changes, files: files.len() })
}

/// The commit the branch points at; `None` when the branch (or any commit) does not exist yet.
async fn head_of(gh: &GitHub<'_>, repo: &str, branch: &str) -> Result<Option<String>, Error> {
    let reply = gh.send(Method::GET, &format!("/repos/{repo}/git/ref/heads/{branch}"), None, "read the branch").await?;
    match reply.status {
        // 409: "Git Repository is empty."
        StatusCode::NOT_FOUND | StatusCode::CONFLICT => Ok(None),
        s if s.is_success() => {
            Ok(Some(reply.body.pointer("/object/sha").and_then(Value::as_str).unwrap_or_default().to_string()))
        }
        _ => gh
            .call(Method::GET, &format!("/repos/{repo}/git/ref/heads/{branch}"), None, "read the branch")
            .await
            .map(|_| None),
    }
}

async fn is_empty(gh: &GitHub<'_>, repo: &str) -> Result<bool, Error> {
    let reply = gh.send(Method::GET, &format!("/repos/{repo}/commits?per_page=1"), None, "read the history").await?;
    Ok(reply.status == StatusCode::CONFLICT || reply.body.as_array().is_some_and(Vec::is_empty))
}

async fn first_commit(gh: &GitHub<'_>, repo: &str, branch: &str, file: &File) -> Result<String, Error> {
    let body = json!({
        "message": "Start the repository",
        "content": base64::engine::general_purpose::STANDARD.encode(&file.bytes),
        "branch": branch,
    });
    let made = gh
        .call(Method::PUT, &format!("/repos/{repo}/contents/{}", file.path), Some(&body), "make the first commit")
        .await?;
    made.body
        .pointer("/commit/sha")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| Error::Api("make the first commit: GitHub's answer has no commit".into()))
}

/// Every blob of the commit's tree: path → (mode, blob id).
async fn tree_of(gh: &GitHub<'_>, repo: &str, commit: &str) -> Result<BTreeMap<String, (String, String)>, Error> {
    let made =
        gh.call(Method::GET, &format!("/repos/{repo}/git/commits/{commit}"), None, "read the head commit").await?;
    let tree = made.body.pointer("/tree/sha").and_then(Value::as_str).unwrap_or_default().to_string();
    let listed = gh
        .call(Method::GET, &format!("/repos/{repo}/git/trees/{tree}?recursive=1"), None, "read the head's files")
        .await?;
    let truncated = listed.body.get("truncated").and_then(Value::as_bool).unwrap_or(false);
    let mut blobs = BTreeMap::new();
    // A truncated listing cannot prove a file unchanged: then every file is sent again.
    if !truncated {
        for entry in listed.body.get("tree").and_then(Value::as_array).into_iter().flatten() {
            if entry.get("type").and_then(Value::as_str) == Some("blob") {
                let get = |k: &str| entry.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
                blobs.insert(get("path"), (get("mode"), get("sha")));
            }
        }
    }
    Ok(blobs)
}

/// What differs between `files` and the `remote` tree.
fn changes(files: &[File], remote: &BTreeMap<String, (String, String)>) -> Vec<String> {
    let mut out = Vec::new();
    for file in files {
        match remote.get(&file.path) {
            None => out.push(format!("+ {}", file.path)),
            Some((mode, sha)) if *sha != file.blob_sha() || mode != file.mode => out.push(format!("~ {}", file.path)),
            Some(_) => {}
        }
    }
    for path in remote.keys() {
        if !files.iter().any(|f| &f.path == path) {
            out.push(format!("- {path}"));
        }
    }
    out.sort_by(|a, b| a[2..].cmp(&b[2..]));
    out
}

fn string(body: &Value, key: &str) -> Result<String, Error> {
    body.get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| Error::Api(format!("GitHub's answer has no `{key}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_name_what_is_new_changed_and_gone() {
        let file = |path: &str, text: &str| File { path: path.into(), mode: "100644", bytes: text.as_bytes().to_vec() };
        let same = file("same.txt", "same\n");
        let remote: BTreeMap<String, (String, String)> = [
            ("same.txt".to_string(), ("100644".to_string(), same.blob_sha())),
            ("changed.txt".to_string(), ("100644".to_string(), "0".repeat(40))),
            ("gone.txt".to_string(), ("100644".to_string(), "1".repeat(40))),
        ]
        .into();
        let files = [same, file("changed.txt", "new\n"), file("added.txt", "+\n")];
        assert_eq!(changes(&files, &remote), ["+ added.txt", "~ changed.txt", "- gone.txt"]);
        let mut executable = file("same.txt", "same\n");
        executable.mode = "100755";
        assert_eq!(changes(&[executable], &remote), ["- changed.txt", "- gone.txt", "~ same.txt"]);
    }
}
