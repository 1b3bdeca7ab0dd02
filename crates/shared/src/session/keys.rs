//! The Ed25519 keys of session tokens: auth signs with the private key; every service verifies
//! with public keys. Several public keys may be trusted at once, so a new signing key can be
//! rolled out before the old one is retired (docs/operations.md, "Rotating the session key").
//!
//! Keys travel as PEM: the private key as PKCS#8 (`BEGIN PRIVATE KEY`, what
//! `openssl genpkey -algorithm ed25519` writes), public keys as SubjectPublicKeyInfo
//! (`BEGIN PUBLIC KEY`). A token names its key by `kid`, derived from the public key itself, so
//! no key id has to be configured.

use std::path::Path;

use anyhow::{bail, Context};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The file in the data directory holding embedded mode's private key (mode 0600).
pub const EMBEDDED_KEY_FILE: &str = "session-signing-key.pem";

/// The keys one service holds: a signing key for auth, the public keys every service trusts.
#[derive(Clone)]
pub struct SessionKeys {
    pub(crate) signing: Option<SigningKey>,
    pub(crate) trusted: Vec<VerifyingKey>,
}

impl SessionKeys {
    /// A fresh pair: signs, and trusts its own public key.
    pub fn generate() -> Self {
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        let signing = SigningKey::from_bytes(&secret);
        Self {
            trusted: vec![signing.verifying_key()],
            signing: Some(signing),
        }
    }

    /// Keys from their PEM text: an optional private key (auth) and any number of public keys,
    /// one PEM block after another. The private key's own public key is always trusted. Refuses
    /// malformed text, a key of another kind, and a set that trusts nothing.
    pub fn from_pem(private: Option<&str>, public: Option<&str>) -> anyhow::Result<Self> {
        let signing = private
            .map(|pem| {
                SigningKey::from_pkcs8_pem(pem.trim()).map_err(|e| {
                    anyhow::anyhow!(
                        "JWT_PRIVATE_KEY is not an Ed25519 private key in PKCS#8 PEM ({e})"
                    )
                })
            })
            .transpose()?;
        let mut trusted: Vec<VerifyingKey> =
            signing.iter().map(SigningKey::verifying_key).collect();
        for block in pem_blocks(public.unwrap_or_default())? {
            let key = VerifyingKey::from_public_key_pem(&block).map_err(|e| {
                anyhow::anyhow!(
                    "JWT_PUBLIC_KEY holds a block that is not an Ed25519 public key in PEM ({e})"
                )
            })?;
            if !trusted.contains(&key) {
                trusted.push(key);
            }
        }
        if trusted.is_empty() {
            bail!("no session key: set JWT_PUBLIC_KEY (and JWT_PRIVATE_KEY for auth)");
        }
        Ok(Self { signing, trusted })
    }

    /// Embedded mode's keys: the private key kept in `data_dir`, created (0600) on first start.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Self> {
        let path = data_dir.join(EMBEDDED_KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(pem) => Self::from_pem(Some(&pem), None)
                .with_context(|| format!("reading the session key {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let keys = Self::generate();
                let pem = keys.private_pem().expect("a generated pair signs");
                crate::config::write_private_file(&path, pem.as_bytes())
                    .with_context(|| format!("writing {}", path.display()))?;
                Ok(keys)
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// The same public keys without the private one: what a service other than auth holds.
    pub fn public_only(&self) -> Self {
        Self {
            signing: None,
            trusted: self.trusted.clone(),
        }
    }

    /// The private key as PKCS#8 PEM, for `gittix session-keys`.
    pub fn private_pem(&self) -> Option<String> {
        let key = self.signing.as_ref()?;
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .expect("an Ed25519 key encodes");
        Some(pem.to_string())
    }

    /// Every trusted public key as PEM, one block after another.
    pub fn public_pem(&self) -> String {
        self.trusted
            .iter()
            .map(|key| {
                key.to_public_key_pem(LineEnding::LF)
                    .expect("an Ed25519 key encodes")
            })
            .collect()
    }
}

/// The id a token gives for `key`: the first 16 hex digits of the SHA-256 of its 32 bytes.
pub(crate) fn key_id(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}

/// The PEM blocks of `text`, each from its BEGIN line to its END line.
fn pem_blocks(text: &str) -> anyhow::Result<Vec<String>> {
    let mut blocks = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some(end) = rest.find("-----END ") else {
            bail!("JWT_PUBLIC_KEY has text that is not a complete PEM block");
        };
        let close = rest[end + 9..]
            .find("-----")
            .map(|i| end + 9 + i + 5)
            .context("JWT_PUBLIC_KEY has an unterminated END line")?;
        blocks.push(rest[..close].trim().to_owned());
        rest = rest[close..].trim_start();
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_survives_its_pem_and_trusts_several_public_keys() {
        let (old, new) = (SessionKeys::generate(), SessionKeys::generate());
        let both = format!("{}\n{}", old.public_pem(), new.public_pem());
        let keys = SessionKeys::from_pem(new.private_pem().as_deref(), Some(&both)).unwrap();
        assert_eq!(keys.signing, new.signing);
        assert_eq!(keys.trusted, [new.trusted[0], old.trusted[0]]);
        let verifier = SessionKeys::from_pem(None, Some(&both)).unwrap();
        assert!(verifier.signing.is_none());
        assert_eq!(verifier.trusted.len(), 2);
    }

    #[test]
    fn malformed_or_missing_keys_are_refused() {
        for (private, public) in [
            (None, None),
            (None, Some("")),
            (Some("not a key"), None),
            (
                None,
                Some("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"),
            ),
            (None, Some("-----BEGIN PUBLIC KEY-----\nAAAA")),
        ] {
            assert!(
                SessionKeys::from_pem(private, public).is_err(),
                "{private:?} {public:?}"
            );
        }
        // A public key where the private one belongs is refused too.
        let public = SessionKeys::generate().public_pem();
        assert!(SessionKeys::from_pem(Some(&public), None).is_err());
    }

    #[test]
    fn embedded_mode_keeps_its_key_in_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let first = SessionKeys::load_or_create(dir.path()).unwrap();
        let again = SessionKeys::load_or_create(dir.path()).unwrap();
        assert_eq!(first.signing, again.signing);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(EMBEDDED_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
