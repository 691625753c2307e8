//! The credential ports: argon2id password hashing and random bearer tokens stored as SHA-256.

use std::sync::Arc;

use argon2::password_hash::{Output, ParamsString, PasswordHash as PhcHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use domain::accounts::ports::{IssuedToken, PasswordHash, PasswordHasher, TokenHash, TokenIssuer};
use domain::ports::{PortError, SecretSource};
use domain::Password;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Argon2id cost parameters and how many hashes may run at once.
#[derive(Clone, Copy, Debug)]
pub struct HasherConfig {
    /// Memory per hash, in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
    /// Hashes running at once: the hashing threads. Further requests queue for them, so that a
    /// login flood cannot take every blocking thread and core.
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

/// One hash or check, run on a hashing thread with its memory.
type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// Hashes passwords with argon2id on threads of its own, [`HasherConfig::max_concurrent`] of
/// them, fed first come, first served.
///
/// Threads of their own, not tokio's blocking pool: the blocking pool is shared (DNS look-ups,
/// files), so a flood there would delay logins; and each argon2 hash allocates its 19 MiB on the
/// thread that runs it, which glibc serves from that thread's arena and keeps there. On the
/// blocking pool's many threads a login flood left one such buffer per thread (64 concurrent
/// failed logins took the process from 27 MiB to 579 MiB). Here each thread allocates its memory
/// once and hashes in it every time ([`Memory`]): no allocator sees a 19 MiB request again, so
/// none can keep or fragment one (docs/security.md, "Hostile input and abuse").
#[derive(Clone)]
pub struct Argon2Hasher {
    argon2: Argon2<'static>,
    jobs: std::sync::mpsc::Sender<Job>,
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
        let decoy = Memory::new(argon2.clone()).hash(&URL_SAFE_NO_PAD.encode(secret))?;
        Ok(Self {
            jobs: start_threads(&argon2, config.max_concurrent.max(1)),
            argon2,
            decoy: Arc::new(decoy),
        })
    }

    /// Runs `job` on a hashing thread, in the caller's span, and waits for its result.
    async fn blocking<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, PortError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        self.jobs
            .send(Box::new(move |memory| {
                let _entered = span.enter();
                // The caller may have gone (a dropped request): nobody to tell.
                let _ = done.send(job(memory));
            }))
            .map_err(|_| PortError::unexpected("the password-hashing threads are gone"))?;
        result
            .await
            .map_err(|_| PortError::unexpected("a password hash was abandoned"))
    }
}

/// Starts `count` threads that run the jobs sent to the returned sender, until every sender is
/// dropped. A job that panics is dropped (its caller sees the hash abandoned); the thread goes on.
fn start_threads(argon2: &Argon2<'static>, count: usize) -> std::sync::mpsc::Sender<Job> {
    let (jobs, queue) = std::sync::mpsc::channel::<Job>();
    let queue = Arc::new(std::sync::Mutex::new(queue));
    for index in 0..count {
        let queue = queue.clone();
        let mut memory = Memory::new(argon2.clone());
        let started = std::thread::Builder::new()
            .name(format!("password-hash-{index}"))
            .spawn(move || loop {
                // The lock is held only while waiting for the next job, not while running it.
                let next = queue
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .recv();
                let Ok(job) = next else { break };
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut memory)));
            });
        if let Err(error) = started {
            // With no thread at all every hash fails as abandoned, loudly; with fewer, they queue.
            tracing::error!(%error, index, "a password-hashing thread could not be started");
        }
    }
    jobs
}

/// One hashing thread's argon2id and the memory it hashes in, allocated at its first hash and
/// kept: PHC strings as argon2's `PasswordHasher` and `PasswordVerifier` write and check them,
/// computed by `hash_password_into_with_memory` in this memory instead of a fresh allocation.
struct Memory {
    argon2: Argon2<'static>,
    blocks: Vec<Block>,
}

impl Memory {
    fn new(argon2: Argon2<'static>) -> Self {
        Self {
            argon2,
            blocks: Vec::new(),
        }
    }

    /// The first `count` blocks of this thread's memory, grown to the configured parameters once;
    /// a stored hash with a larger cost than configured gets memory of its own for the call.
    fn with_blocks<T>(&mut self, count: usize, run: impl FnOnce(&mut [Block]) -> T) -> T {
        let kept = self.argon2.params().block_count();
        if count > kept {
            return run(&mut vec![Block::default(); count]);
        }
        if self.blocks.len() < kept {
            self.blocks = vec![Block::default(); kept];
        }
        run(&mut self.blocks[..count])
    }

    /// A new PHC string for `password`, with a random 16-byte salt.
    fn hash(&mut self, password: &str) -> Result<String, argon2::password_hash::Error> {
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt)?;
        let mut raw_salt = [0u8; 64];
        let raw_salt = salt.decode_b64(&mut raw_salt)?;
        let params = self.argon2.params().clone();
        let length = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let argon2 = self.argon2.clone();
        let output = self.with_blocks(params.block_count(), |blocks| {
            Output::init_with(length, |out| {
                argon2
                    .hash_password_into_with_memory(password.as_bytes(), raw_salt, out, blocks)
                    .map_err(Into::into)
            })
        })?;
        Ok(PhcHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params)?,
            salt: Some(salt.as_salt()),
            hash: Some(output),
        }
        .to_string())
    }

    /// Whether `password` is the one `stored` (a PHC string, with its own parameters) was made
    /// from; compared in constant time. `false` for a string that is not an argon2 PHC hash.
    fn verify(&mut self, password: &str, stored: &str) -> bool {
        let check = |memory: &mut Self| -> Result<bool, argon2::password_hash::Error> {
            let parsed = PhcHash::new(stored)?;
            let algorithm = Algorithm::try_from(parsed.algorithm)?;
            let version = parsed
                .version
                .map(Version::try_from)
                .transpose()?
                .unwrap_or_default();
            let params = Params::try_from(&parsed)?;
            let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
                return Ok(false);
            };
            let mut raw_salt = [0u8; 64];
            let raw_salt = salt.decode_b64(&mut raw_salt)?;
            let argon2 = Argon2::new(algorithm, version, params.clone());
            let computed = memory.with_blocks(params.block_count(), |blocks| {
                Output::init_with(expected.len(), |out| {
                    argon2
                        .hash_password_into_with_memory(password.as_bytes(), raw_salt, out, blocks)
                        .map_err(Into::into)
                })
            })?;
            // `Output`'s equality is constant-time.
            Ok(computed == expected)
        };
        check(self).unwrap_or(false)
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    #[tracing::instrument(skip_all)]
    async fn hash(&self, password: &Password) -> Result<PasswordHash, PortError> {
        let password = password.expose().to_owned();
        self.blocking(move |memory| memory.hash(&password))
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
        self.blocking(move |memory| memory.verify(&password, &stored) && real)
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn every_hash_runs_on_one_of_its_own_few_threads() {
        let hasher = cheap();
        let runs = (0..20).map(|_| {
            hasher.blocking(|_| {
                std::thread::sleep(std::time::Duration::from_millis(5));
                std::thread::current().name().map(str::to_owned)
            })
        });
        let mut names: Vec<String> = futures_util::future::join_all(runs)
            .await
            .into_iter()
            .map(|name| name.unwrap().unwrap())
            .collect();
        names.sort();
        names.dedup();
        assert!(names.len() <= 2, "{names:?}");
        assert!(
            names.iter().all(|n| n.starts_with("password-hash-")),
            "{names:?}"
        );
    }

    #[test]
    fn hashes_in_kept_memory_are_the_phc_strings_argon2_itself_writes_and_checks() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let argon2 = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        );
        let mut memory = Memory::new(argon2.clone());
        // Ours, checked by argon2's own verifier; twice in the same memory.
        for password in ["correct horse", "battery staple"] {
            let ours = memory.hash(password).unwrap();
            let parsed = PhcHash::new(&ours).unwrap();
            assert!(argon2.verify_password(password.as_bytes(), &parsed).is_ok());
            assert!(argon2.verify_password(b"wrong", &parsed).is_err());
        }
        // argon2's own, with other parameters (a stored hash from before a cost change, larger
        // than the kept memory), checked by ours.
        let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
        let theirs = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(2048, 2, 1, None).unwrap(),
        )
        .hash_password(b"correct horse", &salt)
        .unwrap()
        .to_string();
        assert!(memory.verify("correct horse", &theirs));
        assert!(!memory.verify("correct horsf", &theirs));
        assert!(!memory.verify("correct horse", "$argon2id$v=19$not a hash"));
        assert!(!memory.verify("correct horse", ""));
        // The memory kept is the configured parameters', not the larger hash's.
        assert_eq!(memory.blocks.len(), 1024);
    }

    #[tokio::test]
    async fn a_panicking_job_is_abandoned_and_the_thread_goes_on() {
        let hasher = Argon2Hasher::new(HasherConfig {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
            max_concurrent: 1,
        })
        .unwrap();
        let failed = hasher.blocking(|_| -> () { panic!("boom") }).await;
        assert!(failed.is_err());
        let password = Password::parse("correct horse".into()).unwrap();
        assert!(hasher.hash(&password).await.is_ok());
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
