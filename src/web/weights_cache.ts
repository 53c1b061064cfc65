// Weights fetched from a URL are kept in the Cache API, so that a reload classifies without
// downloading them again (a cached response is used as is; "Load URL" on a cached URL is instant).
const CACHE_NAME = 'alexnet-weights-v1';

/** The bytes at `url`, from the cache when present; fetched and cached otherwise. */
export async function fetchWeights(url: string): Promise<{ bytes: ArrayBuffer; cached: boolean }> {
  const cache = typeof caches === 'object' ? await caches.open(CACHE_NAME) : null;
  const hit = await cache?.match(url);
  if (hit) return { bytes: await hit.arrayBuffer(), cached: true };
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new Error(`${url}: could not be fetched (${(err as Error).message}; a URL on another site must allow CORS)`);
  }
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
  if (cache) await cache.put(url, res.clone());
  return { bytes: await res.arrayBuffer(), cached: false };
}
