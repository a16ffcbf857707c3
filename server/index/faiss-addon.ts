import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FaissAddonError } from './errors.js';

/** Interface version the TypeScript side expects; matches kAddonVersion in faiss_addon.cc. */
const EXPECTED_ADDON_VERSION = 1;
const ADDON_PATH = join('node_modules', '.streamcluster', 'streamcluster_faiss.node');

/** Rows of a native batch search: `k` entries per query, label -1 where fewer were found. */
export interface NativeSearchResult {
  distances: Float32Array;
  labels: Float64Array;
}

/** Options of {@link NativeIndexConstructor.create}. */
export interface NativeIndexCreateOptions {
  dimension: number;
  /** FAISS index_factory description without the IDMap2 prefix, such as `Flat` or `HNSW32`. */
  description: string;
  metric: 'inner_product' | 'l2';
  /** OpenMP threads per call; 0 keeps the library default. */
  threads: number;
  /** HNSW construction depth; 0 keeps the FAISS default (40). */
  efConstruction: number;
}

/**
 * One FAISS IndexIDMap2 owned by the addon. Every method runs on the libuv thread pool under a
 * per-index mutex and rejects with an Error whose `code` is FAISS_ERROR instead of aborting.
 */
export interface NativeIndex {
  readonly dimension: number;
  /** Live vectors: stored ones less those removed from an HNSW index. */
  readonly count: number;
  /** Vectors removed from an HNSW index that are still stored and skipped by searches. */
  readonly removedCount: number;
  readonly isTrained: boolean;
  readonly isHnsw: boolean;
  readonly isIvf: boolean;
  add(vectors: Float32Array, labels: Float64Array): Promise<void>;
  train(vectors: Float32Array): Promise<void>;
  /** efSearch applies to HNSW and nprobe to IVF; 0 keeps the current value. */
  search(
    queries: Float32Array,
    k: number,
    efSearch: number,
    nprobe: number,
  ): Promise<NativeSearchResult>;
  /** Resolves with how many of the labels were present. */
  remove(labels: Float64Array): Promise<number>;
  reconstruct(labels: Float64Array): Promise<Float32Array>;
  labels(): Promise<Float64Array>;
  serialize(): Promise<Buffer>;
  dispose(): Promise<void>;
}

/** Static side of {@link NativeIndex}. */
export interface NativeIndexConstructor {
  create(options: NativeIndexCreateOptions): Promise<NativeIndex>;
  deserialize(bytes: Uint8Array, threads: number): Promise<NativeIndex>;
}

/** What the compiled addon exports. */
export interface FaissAddon {
  NativeIndex: NativeIndexConstructor;
  addonVersion: number;
  faissVersion: string;
}

let loaded: FaissAddon | undefined;

/**
 * Loads the compiled FAISS addon once. It is looked up at STREAMCLUSTER_FAISS_ADDON, else in the
 * nearest node_modules/.streamcluster above this module, where scripts/setup/30-faiss.sh puts it.
 */
export function loadFaissAddon(): FaissAddon {
  if (loaded) return loaded;
  const path = process.env.STREAMCLUSTER_FAISS_ADDON ?? findAddon();
  let addon: FaissAddon;
  try {
    addon = createRequire(import.meta.url)(path) as FaissAddon;
  } catch (cause) {
    throw new FaissAddonError(`FAISS addon ${path} failed to load`, { cause });
  }
  if (addon.addonVersion !== EXPECTED_ADDON_VERSION) {
    throw new FaissAddonError(
      `FAISS addon version must be ${EXPECTED_ADDON_VERSION}, got ${addon.addonVersion} at ${path}`,
    );
  }
  loaded = addon;
  return addon;
}

function findAddon(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, ADDON_PATH);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new FaissAddonError(`FAISS addon not found in any ${ADDON_PATH}`);
    dir = parent;
  }
}
