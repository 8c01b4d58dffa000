//! Rate limits and quota windows, in memory (a restart forgets them, as a Lambda's
//! cold start would not: they are windows of seconds).

use super::*;

impl EmbeddedStore {
    pub(crate) fn limits(&self) -> std::sync::MutexGuard<'_, Limits> {
        self.limits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl LimitStore for EmbeddedStore {
    async fn allow(&self, key: &str, window_ms: i64, now: i64) -> Result<bool, StoreError> {
        let mut limits = self.limits();
        limits.checks += 1;
        if limits.checks.is_multiple_of(LIMIT_SWEEP_EVERY) {
            limits.last.retain(|_, last| now - *last < LIMIT_KEPT_MS);
        }
        if limits
            .last
            .get(key)
            .is_some_and(|last| now - last < window_ms)
        {
            return Ok(false);
        }
        limits.last.insert(key.to_owned(), now);
        Ok(true)
    }

    async fn take(&self, key: &str, quota: Quota, now: i64) -> Result<bool, StoreError> {
        let (_, ends) = quota.window(now);
        let mut limits = self.limits();
        limits.takes += 1;
        if limits.takes.is_multiple_of(QUOTA_SWEEP_EVERY) {
            limits.quotas.retain(|_, (window_end, _)| *window_end > now);
        }
        let count = match limits.quotas.get(key) {
            Some(&(window_end, count)) if window_end == ends => count,
            _ => 0,
        };
        if count >= quota.max {
            return Ok(false);
        }
        limits.quotas.insert(key.to_owned(), (ends, count + 1));
        Ok(true)
    }
}
