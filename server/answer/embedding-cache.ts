import type { EmbedTexts } from './types.js';

/**
 * Wraps `embed` with a least-recently-used cache of vectors by text, so sentences of chunks
 * that come back for later questions are embedded once. Only the texts missing from the cache
 * are passed on, in one call. At 384 dimensions an entry takes about 1.6 KiB.
 */
export function cacheEmbeddings(embed: EmbedTexts, maxEntries: number): EmbedTexts {
  // A Map iterates in insertion order; re-inserting on use keeps the least recently used first.
  const cache = new Map<string, Float32Array>();

  return async (texts, options) => {
    const missing = [...new Set(texts.filter((text) => !cache.has(text)))];
    const fresh = missing.length > 0 ? await embed(missing, options) : [];
    const vectors = new Map(missing.map((text, i) => [text, fresh[i]!]));

    const result = texts.map((text) => vectors.get(text) ?? cache.get(text)!);
    for (const [i, text] of texts.entries()) {
      cache.delete(text);
      cache.set(text, result[i]!);
    }
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
    return result;
  };
}
