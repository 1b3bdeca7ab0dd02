//! Password hashing with argon2id, on threads of its own: a hash takes tens of milliseconds of
//! CPU and 19 MiB of memory, and would otherwise stall every request sharing the async worker.

use std::sync::LazyLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// The threads that hash: one per core. On tokio's blocking pool a burst of sign-ups hashed on a
/// thread each, hundreds at once, and every thread's allocator kept its 19 MiB afterwards: a
/// burst of 80 sign-ups left the process at 1.3 GiB. One thread per core bounds the memory at
/// cores × 19 MiB and costs no throughput; more hashes than cores only take turns.
static HASHING_THREADS: LazyLock<rayon::ThreadPool> = LazyLock::new(|| {
    rayon::ThreadPoolBuilder::new()
        .num_threads(std::thread::available_parallelism().map_or(2, usize::from))
        .thread_name(|i| format!("argon2-{i}"))
        // A panic drops the answer's sender, which the caller sees as an error.
        .panic_handler(|_| {})
        .build()
        .expect("starting the password hashing threads")
});

/// Runs `work` on a hashing thread and waits for it without blocking the async worker.
async fn on_hashing_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let (answer, answered) = tokio::sync::oneshot::channel();
    HASHING_THREADS.spawn(move || {
        let _ = answer.send(work());
    });
    answered
        .await
        .map_err(|_| anyhow::anyhow!("a password hashing thread panicked"))
}

/// A hash of a password nobody has, verified against when the account does not exist so that an
/// unknown email takes as long as a wrong password.
static DECOY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_now("decoy password").expect("hashing the decoy"));

fn hash_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

fn verify_now(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The argon2id PHC string of `password`, with a fresh salt.
pub async fn hash(password: String) -> anyhow::Result<String> {
    on_hashing_thread(move || hash_now(&password))
        .await?
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// Whether `password` matches `hash`; with no hash (unknown account) it checks a decoy and says no.
pub async fn verify(password: String, hash: Option<String>) -> anyhow::Result<bool> {
    on_hashing_thread(move || match hash {
        Some(hash) => verify_now(&password, &hash),
        None => {
            verify_now(&password, &DECOY_HASH);
            false
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hashed = hash("hunter22".into()).await.unwrap();
        assert!(hashed.starts_with("$argon2id$"), "{hashed}");
        assert!(verify("hunter22".into(), Some(hashed.clone()))
            .await
            .unwrap());
        assert!(!verify("hunter23".into(), Some(hashed)).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_hashes_runs_on_one_thread_per_core_only() {
        let threads = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
        let hashes: Vec<_> = (0..24)
            .map(|i| {
                let threads = threads.clone();
                tokio::spawn(async move {
                    on_hashing_thread(move || {
                        threads.lock().unwrap().insert(std::thread::current().id());
                        hash_now(&format!("password {i}")).unwrap()
                    })
                    .await
                    .unwrap()
                })
            })
            .collect();
        for hash in hashes {
            assert!(hash.await.unwrap().starts_with("$argon2id$"));
        }
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let used = threads.lock().unwrap().len();
        assert!(
            used <= cores,
            "24 hashes ran on {used} threads, {cores} cores"
        );
    }

    #[tokio::test]
    async fn no_account_never_verifies() {
        assert!(!verify("decoy password".into(), None).await.unwrap());
    }
}
