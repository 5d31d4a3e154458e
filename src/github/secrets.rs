//! Actions secrets: each value sealed (libsodium's sealed box, `crypto_box`) with the
//! repository's public key before it leaves the machine, as GitHub requires. A secret is sent
//! again only when its value or the repository's key changed: `.labforge/ci.json` keeps a keyed
//! fingerprint of what was sent (HMAC-SHA256 with a random key in `.labforge/ci.key`, both
//! readable by the owner only), never the value.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use hmac::{Hmac, Mac};
use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Error;
use super::client::GitHub;
use super::record::write_private;
use super::token::Secret;

const RECORD: &str = ".labforge/ci.json";
const KEY: &str = ".labforge/ci.key";

/// What happened to one secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretChange {
    pub name: String,
    /// `created`, `updated` or `unchanged`.
    pub change: &'static str,
}

/// `value` sealed for the holder of the secret key that goes with `public_key` (base64, as
/// GitHub gives it), base64-encoded as GitHub takes it.
pub fn seal(public_key: &str, value: &Secret) -> Result<String, Error> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let bytes: [u8; crypto_box::KEY_SIZE] = b64
        .decode(public_key.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::Api("the repository's public key is not a 32-byte base64 key".into()))?;
    let sealed = crypto_box::PublicKey::from(bytes)
        .seal(&mut crypto_box::aead::OsRng, value.expose().as_bytes())
        .map_err(|_| Error::Api("cannot seal a secret".into()))?;
    Ok(b64.encode(sealed))
}

/// What was sent, per repository and secret.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Record {
    #[serde(default)]
    secrets: BTreeMap<String, BTreeMap<String, String>>,
}

/// Sets every secret of `wanted` in `repo` whose value (or the repository's key) changed since
/// labforge last set it from the project in `dir`, or that the repository lacks.
pub async fn set(
    gh: &GitHub<'_>,
    dir: &Path,
    repo: &str,
    wanted: &[(String, Secret)],
) -> Result<Vec<SecretChange>, Error> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let key = gh
        .call(
            Method::GET,
            &format!("/repos/{repo}/actions/secrets/public-key"),
            None,
            "read the repository's public key",
        )
        .await?;
    let key_id = key.body.get("key_id").and_then(Value::as_str).unwrap_or_default().to_string();
    let public = key.body.get("key").and_then(Value::as_str).unwrap_or_default().to_string();
    let listed = gh
        .call(
            Method::GET,
            &format!("/repos/{repo}/actions/secrets?per_page=100"),
            None,
            "list the repository's secrets",
        )
        .await?;
    let existing: Vec<&str> = listed
        .body
        .get("secrets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("name").and_then(Value::as_str))
        .collect();
    let local_key = local_key(dir)?;
    let mut record = read_record(dir);
    let mut out = Vec::new();
    for (name, value) in wanted {
        let print = fingerprint(&local_key, &key_id, name, value);
        let sent = record.secrets.get(repo).and_then(|r| r.get(name));
        let exists = existing.contains(&name.as_str());
        if exists && sent == Some(&print) {
            out.push(SecretChange { name: name.clone(), change: "unchanged" });
            continue;
        }
        let body = json!({"encrypted_value": seal(&public, value)?, "key_id": key_id});
        gh.call(
            Method::PUT,
            &format!("/repos/{repo}/actions/secrets/{name}"),
            Some(&body),
            &format!("set the secret {name}"),
        )
        .await?;
        record.secrets.entry(repo.to_string()).or_default().insert(name.clone(), print);
        write_private(&dir.join(RECORD), serde_json::to_string_pretty(&record).unwrap_or_default().as_bytes())?;
        out.push(SecretChange { name: name.clone(), change: if exists { "updated" } else { "created" } });
    }
    Ok(out)
}

fn fingerprint(key: &[u8], key_id: &str, name: &str, value: &Secret) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    for part in [key_id, name, value.expose()] {
        mac.update(part.as_bytes());
        mac.update(&[0]);
    }
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// The project's fingerprint key, made on first use.
fn local_key(dir: &Path) -> Result<Vec<u8>, Error> {
    let path = dir.join(KEY);
    if let Ok(text) = std::fs::read_to_string(&path)
        && text.trim().len() == 64
    {
        return Ok(text.trim().as_bytes().to_vec());
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Usage(format!("no randomness: {e}")))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, hex.as_bytes())?;
    Ok(hex.into_bytes())
}

fn read_record(dir: &Path) -> Record {
    std::fs::read(dir.join(RECORD)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_with_the_matching_secret_key_only() {
        let secret_key = crypto_box::SecretKey::generate(&mut crypto_box::aead::OsRng);
        let public = base64::engine::general_purpose::STANDARD.encode(secret_key.public_key().as_bytes());
        let sealed = seal(&public, &Secret::new("s3cret-value")).unwrap();
        let bytes = base64::engine::general_purpose::STANDARD.decode(sealed).unwrap();
        assert_eq!(secret_key.unseal(&bytes).unwrap(), b"s3cret-value");
        let other = crypto_box::SecretKey::generate(&mut crypto_box::aead::OsRng);
        assert!(other.unseal(&bytes).is_err());
        assert!(seal("bm90IGEga2V5", &Secret::new("x")).is_err(), "not 32 bytes");
    }

    #[test]
    fn the_fingerprint_changes_with_the_value_and_the_repositorys_key() {
        let key = b"k".repeat(32);
        let value = Secret::new("v1");
        let base = fingerprint(&key, "id1", "A", &value);
        assert_eq!(base, fingerprint(&key, "id1", "A", &Secret::new("v1")));
        assert_ne!(base, fingerprint(&key, "id1", "A", &Secret::new("v2")));
        assert_ne!(base, fingerprint(&key, "id2", "A", &value));
        assert_ne!(base, fingerprint(&b"j".repeat(32), "id1", "A", &value), "keyed: no guessing from the file");
        assert!(!base.contains("v1"));
    }
}
