//! Batched window counters: [`Cache::add_to_windows`] adds many keys' locally counted hits
//! in one Redis pipeline and reads every key's global count and remaining window back. The
//! per-IP limiter of the edge syncs its per-replica counts with it (API-03).

use std::time::Duration;

use crate::{Cache, CacheError, WindowCount, backend::Reply, millis};

/// Keys per pipeline: a long batch is sent as several pipelines, one after the other.
const PIPELINE_KEYS: usize = 512;

impl Cache {
    /// For every `(key, hits)`, add `hits` to the key's fixed window of length `window` and
    /// return the key's global count and the time left in its window, in input order.
    ///
    /// Redis, per key in one pipeline: `SET key 0 NX PX window` (starts the window when the
    /// key is absent, never re-arms it), `INCRBY key hits`, `PTTL key`. Commands of a batch
    /// are not atomic together; each key's three are applied in order.
    ///
    /// # Errors
    /// [`CacheError::Unavailable`] when Redis is not configured, in back-off, or did not
    /// answer (nothing is known about what was applied); [`CacheError::Rejected`] when Redis
    /// answered with an error reply (e.g. a key holding a non-integer). Either way the caller
    /// keeps its own counts: there is no memory fallback here.
    pub async fn add_to_windows(
        &self,
        adds: &[(String, u64)],
        window: Duration,
    ) -> Result<Vec<WindowCount>, CacheError> {
        let Some(r) = &self.inner.redis else {
            return Err(CacheError::Unavailable);
        };
        let ms = millis(window);
        let mut out = Vec::with_capacity(adds.len());
        for chunk in adds.chunks(PIPELINE_KEYS) {
            let mut pipe = redis::pipe();
            for (key, hits) in chunk {
                let k = self.prefixed(key);
                pipe.cmd("SET")
                    .arg(&k)
                    .arg(0)
                    .arg("NX")
                    .arg("PX")
                    .arg(ms)
                    .ignore()
                    .cmd("INCRBY")
                    .arg(&k)
                    .arg(*hits)
                    .cmd("PTTL")
                    .arg(&k);
            }
            let replies = r
                .run(|mut c| async move { pipe.query_async::<Vec<i64>>(&mut c).await })
                .await;
            let flat = match replies {
                Reply::Value(v) => v,
                Reply::Unavailable => return Err(CacheError::Unavailable),
                Reply::Refused(code) => return Err(CacheError::Rejected(code)),
            };
            if flat.len() != chunk.len() * 2 {
                return Err(CacheError::Rejected("reply length".to_owned()));
            }
            out.extend(flat.chunks_exact(2).map(|pair| {
                WindowCount {
                    count: u64::try_from(pair[0]).unwrap_or(0),
                    // -1 (no TTL) or -2 (gone since): assume a whole window, the safe side.
                    resets_in: u64::try_from(pair[1])
                        .ok()
                        .filter(|&p| p > 0)
                        .map_or(window, Duration::from_millis),
                }
            }));
        }
        Ok(out)
    }
}
