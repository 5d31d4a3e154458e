//! Per-project secrets from the operating system's CSPRNG. They are rendered into `.env` and the
//! git-ignored Kubernetes Secret, and never printed: `Debug` shows `***`.

use std::fmt;

use serde::Serialize;

use super::Error;

/// Characters safe in URLs, shells and YAML without quoting.
const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// The random values one project gets.
#[derive(Clone, Serialize)]
pub struct Secrets {
    /// PostgreSQL password: 32 alphanumerics (190 bits).
    pub postgres_password: String,
    /// MongoDB root password: 32 alphanumerics.
    pub mongo_password: String,
    /// JWT signing key: 64 bytes, hex-encoded.
    pub jwt_secret: String,
    /// Framework secret key (Django `SECRET_KEY`, Flask `SECRET_KEY`): 48 bytes, hex-encoded.
    pub secret_key: String,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secrets(***)")
    }
}

impl Secrets {
    /// Draws fresh secrets from the OS CSPRNG.
    pub fn generate() -> Result<Self, Error> {
        Ok(Secrets {
            postgres_password: alphanumeric(32)?,
            mongo_password: alphanumeric(32)?,
            jwt_secret: hex(64)?,
            secret_key: hex(48)?,
        })
    }
}

fn random_bytes(n: usize) -> Result<Vec<u8>, Error> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| Error::Random(e.to_string()))?;
    Ok(buf)
}

fn hex(bytes: usize) -> Result<String, Error> {
    Ok(random_bytes(bytes)?.iter().map(|b| format!("{b:02x}")).collect())
}

/// Uniform over [`ALPHANUMERIC`]: bytes at or above the largest multiple of 62 are rejected.
fn alphanumeric(len: usize) -> Result<String, Error> {
    let limit = 256 - 256 % ALPHANUMERIC.len();
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes(len * 2)? {
            if (b as usize) < limit && out.len() < len {
                out.push(ALPHANUMERIC[b as usize % ALPHANUMERIC.len()] as char);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_the_promised_shape_and_differ() {
        let a = Secrets::generate().unwrap();
        let b = Secrets::generate().unwrap();
        assert_eq!(a.postgres_password.len(), 32);
        assert!(a.postgres_password.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(a.jwt_secret.len(), 128, "64 bytes hex-encoded");
        assert!(a.secret_key.len() >= 64, "at least 32 bytes");
        assert_ne!(a.postgres_password, b.postgres_password);
        assert_ne!(a.jwt_secret, b.jwt_secret);
        assert_ne!(a.postgres_password, a.mongo_password);
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let s = Secrets::generate().unwrap();
        let shown = format!("{s:?}");
        assert_eq!(shown, "Secrets(***)");
    }
}
