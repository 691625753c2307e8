//! The credential ports: argon2id password hashing and random bearer tokens stored as SHA-256.

use std::sync::Arc;

use argon2::password_hash::{
    PasswordHash as PhcHash, PasswordHasher as _, PasswordVerifier as _, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use domain::accounts::ports::{IssuedToken, PasswordHash, PasswordHasher, TokenHash, TokenIssuer};
use domain::ports::{PortError, SecretSource};
use domain::Password;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

/// Argon2id cost parameters and how many hashes may run at once.
#[derive(Clone, Copy, Debug)]
pub struct HasherConfig {
    /// Memory per hash, in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
    /// Hashes running at once; further requests wait, so that a login flood cannot take every
    /// blocking thread and core.
    pub max_concurrent: usize,
}

impl Default for HasherConfig {
    /// OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane), one hash per core.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
            max_concurrent: cores,
        }
    }
}

/// Hashes passwords with argon2id on tokio's blocking pool, a bounded number at a time.
#[derive(Clone)]
pub struct Argon2Hasher {
    argon2: Argon2<'static>,
    permits: Arc<Semaphore>,
    /// A hash of a random password, checked when the account does not exist, so that both
    /// failures take the same time.
    decoy: Arc<String>,
}

impl std::fmt::Debug for Argon2Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Argon2Hasher")
            .field("params", self.argon2.params())
            .finish_non_exhaustive()
    }
}

impl Argon2Hasher {
    /// A hasher with these parameters.
    ///
    /// # Errors
    /// When the parameters are out of argon2's ranges, or the decoy hash cannot be made.
    pub fn new(config: HasherConfig) -> Result<Self, argon2::password_hash::Error> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            None,
        )?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        let decoy = hash_with(&argon2, &URL_SAFE_NO_PAD.encode(secret))?;
        Ok(Self {
            argon2,
            permits: Arc::new(Semaphore::new(config.max_concurrent.max(1))),
            decoy: Arc::new(decoy),
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Argon2<'static>) -> T + Send + 'static,
    ) -> Result<T, PortError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(PortError::unexpected)?;
        let argon2 = self.argon2.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            job(&argon2)
        })
        .await
        .map_err(PortError::unexpected)
    }
}

fn hash_with(argon2: &Argon2<'_>, password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)?;
    Ok(argon2
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    #[tracing::instrument(skip_all)]
    async fn hash(&self, password: &Password) -> Result<PasswordHash, PortError> {
        let password = password.expose().to_owned();
        self.blocking(move |argon2| hash_with(argon2, &password))
            .await?
            .map(PasswordHash)
            .map_err(|e| PortError::unexpected(e.to_string()))
    }

    #[tracing::instrument(skip_all)]
    async fn verify(
        &self,
        password: &Password,
        hash: Option<PasswordHash>,
    ) -> Result<bool, PortError> {
        let password = password.expose().to_owned();
        let (stored, real) = match hash {
            Some(hash) => (hash.0, true),
            None => (self.decoy.as_str().to_owned(), false),
        };
        self.blocking(move |argon2| {
            let Ok(parsed) = PhcHash::new(&stored) else {
                return false;
            };
            argon2.verify_password(password.as_bytes(), &parsed).is_ok() && real
        })
        .await
    }
}

/// Issues 32-byte random tokens (base64url) and digests them with SHA-256.
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomTokenIssuer;

impl TokenIssuer for RandomTokenIssuer {
    fn issue(&self) -> IssuedToken {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let secret = URL_SAFE_NO_PAD.encode(bytes);
        IssuedToken {
            hash: self.digest(&secret),
            secret: secret.into(),
        }
    }

    fn digest(&self, secret: &str) -> TokenHash {
        TokenHash(Sha256::digest(secret.as_bytes()).to_vec())
    }
}

impl SecretSource for RandomTokenIssuer {
    /// From the operating system's generator, as tokens are.
    fn fill(&self, buf: &mut [u8]) {
        OsRng.fill_bytes(buf);
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    fn cheap() -> Argon2Hasher {
        Argon2Hasher::new(HasherConfig {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
            max_concurrent: 2,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_that_verify_only_the_right_password() {
        let hasher = cheap();
        let password = Password::parse("correct horse".into()).unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        assert!(hash.0.starts_with("$argon2id$v=19$"), "{}", hash.0);
        assert!(hasher.verify(&password, Some(hash.clone())).await.unwrap());
        assert!(!hasher
            .verify(&Password::unchecked("wrong horse".into()), Some(hash))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn verifying_without_an_account_is_false_even_for_the_decoy_password() {
        let hasher = cheap();
        assert!(!hasher
            .verify(&Password::unchecked("anything".into()), None)
            .await
            .unwrap());
        let garbage = PasswordHash("not a phc string".into());
        assert!(!hasher
            .verify(&Password::unchecked("anything".into()), Some(garbage))
            .await
            .unwrap());
    }

    #[test]
    fn tokens_are_32_random_bytes_and_only_their_digest_is_kept() {
        let issuer = RandomTokenIssuer;
        let (a, b) = (issuer.issue(), issuer.issue());
        let (secret_a, secret_b) = (a.secret.expose_secret(), b.secret.expose_secret());
        assert_ne!(secret_a, secret_b);
        assert_eq!(URL_SAFE_NO_PAD.decode(secret_a).unwrap().len(), 32);
        assert_eq!(a.hash, issuer.digest(secret_a));
        assert_eq!(a.hash.0.len(), 32);
        assert!(!a
            .hash
            .0
            .windows(8)
            .any(|w| secret_a.as_bytes().windows(8).any(|s| s == w)));
    }
}
