import { ValidationError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { ClosedError, DimensionMismatchError, IndexOperationError } from './errors.js';
import { loadFaissAddon, type NativeIndex, type NativeSearchResult } from './faiss-addon.js';
import { SearchBatcher } from './search-batcher.js';

/** `flat`: exact inner-product search. `hnsw`: approximate graph search, tuned by efSearch. */
export type VectorIndexKind = 'flat' | 'hnsw';

/** Options of {@link VectorIndex}; defaults in {@link VECTOR_INDEX_DEFAULTS}. */
export interface VectorIndexOptions {
  /** Floats per vector; every add and search must match it. */
  dimension: number;
  /** Default `flat`. */
  kind?: VectorIndexKind;
  /** HNSW neighbours per node (M); default 32. */
  hnswM?: number;
  /** HNSW candidate list size while adding; default 80. */
  efConstruction?: number;
  /** HNSW candidate list size while searching, raised to k when smaller; default 64. */
  efSearch?: number;
  /** OpenMP threads per FAISS call; default 1, so searches leave the other cores to ingest. */
  threads?: number;
  /** Most queries merged into one native search; default 64. */
  maxBatchSize?: number;
  /** HNSW rebuilds itself once removed vectors exceed this share of stored ones; default 0.25. */
  compactRemovedRatio?: number;
  logger?: Logger;
}

/** Defaults of {@link VectorIndexOptions}. */
export const VECTOR_INDEX_DEFAULTS = {
  kind: 'flat' as VectorIndexKind,
  hnswM: 32,
  efConstruction: 80,
  efSearch: 64,
  threads: 1,
  maxBatchSize: 64,
  compactRemovedRatio: 0.25,
};

/**
 * Most vectors given to FAISS in one add call. HNSW inserted about 1000 vectors of 384 floats per
 * CPU second here, so one slice holds the index mutex for a fraction of a second.
 */
const ADD_SLICE_ROWS = 256;

type ResolvedOptions = Required<Omit<VectorIndexOptions, 'logger'>>;

/** A chunk found by a search; `score` is the inner product (cosine for unit vectors). */
export interface VectorHit {
  chunkId: string;
  score: number;
}

/** The index's state as persisted: FAISS bytes plus the label of every chunk. */
export interface VectorIndexExport {
  bytes: Buffer;
  /** FAISS label to chunk id, for every live vector. */
  labels: Map<number, string>;
}

/**
 * A FAISS index of chunk vectors keyed by chunk id. Labels given to FAISS come from a counter and
 * are never reused, so removals cannot shift the label of another chunk. Every FAISS call runs off
 * the event loop; concurrent searches are merged into batches; mutations run one at a time.
 */
export class VectorIndex {
  readonly #options: ResolvedOptions;
  readonly #logger: Logger;
  readonly #labelToChunk = new Map<number, string>();
  readonly #chunkToLabel = new Map<string, number>();
  readonly #batcher: SearchBatcher;
  #native: NativeIndex;
  #nextLabel = 0;
  #mutations: Promise<unknown> = Promise.resolve();
  #lastSearch: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(native: NativeIndex, options: ResolvedOptions, logger: Logger) {
    this.#native = native;
    this.#options = options;
    this.#logger = logger;
    this.#batcher = new SearchBatcher(
      (queries, k) => this.#searchNative(queries, k),
      options.dimension,
      options.maxBatchSize,
    );
  }

  /** Creates an empty index. */
  static async create(options: VectorIndexOptions): Promise<VectorIndex> {
    const resolved = resolveOptions(options);
    const native = await createNative(resolved);
    return new VectorIndex(native, resolved, options.logger ?? silentLogger);
  }

  /**
   * Restores an index from {@link export}ed bytes and labels. Vectors whose label is not in
   * `labels` are removed; an index stored with another kind is rebuilt as the configured kind.
   */
  static async restore(
    bytes: Uint8Array,
    labels: ReadonlyMap<number, string>,
    options: VectorIndexOptions,
  ): Promise<VectorIndex> {
    const resolved = resolveOptions(options);
    const native = await wrapNative('restore', () =>
      loadFaissAddon().NativeIndex.deserialize(bytes, resolved.threads),
    );
    if (native.dimension !== resolved.dimension) {
      throw new DimensionMismatchError('stored index', resolved.dimension, native.dimension);
    }
    const index = new VectorIndex(native, resolved, options.logger ?? silentLogger);
    await index.#adoptLabels(labels);
    if (native.isHnsw !== (resolved.kind === 'hnsw')) await index.#rebuild();
    return index;
  }

  get dimension(): number {
    return this.#options.dimension;
  }

  get kind(): VectorIndexKind {
    return this.#options.kind;
  }

  /** HNSW candidate list size of later searches; ignored by a flat index. */
  get efSearch(): number {
    return this.#options.efSearch;
  }

  set efSearch(value: number) {
    if (!Number.isInteger(value) || value < 1) {
      throw new ValidationError([`efSearch must be a positive integer, got ${value}`]);
    }
    this.#options.efSearch = value;
  }

  /** Number of searchable vectors. */
  get size(): number {
    return this.#labelToChunk.size;
  }

  has(chunkId: string): boolean {
    return this.#chunkToLabel.has(chunkId);
  }

  /** Adds one vector per chunk; `vectors` contains `chunkIds.length` rows of `dimension` floats. */
  add(chunkIds: readonly string[], vectors: Float32Array): Promise<void> {
    this.#checkOpen();
    this.#checkAdd(chunkIds, vectors);
    return this.#exclusive(() => this.#addNow(chunkIds, vectors));
  }

  /** Removes the chunks' vectors and resolves with how many were present. */
  remove(chunkIds: readonly string[]): Promise<number> {
    this.#checkOpen();
    return this.#exclusive(() => this.#removeNow(chunkIds));
  }

  /**
   * Resolves with the `k` chunks nearest to `query`, best first. k is clamped to the number of
   * vectors, and an empty index resolves with no hits.
   */
  async search(query: Float32Array, k: number): Promise<VectorHit[]> {
    this.#checkOpen();
    if (query.length !== this.dimension) {
      throw new DimensionMismatchError('query vector', this.dimension, query.length);
    }
    if (!Number.isInteger(k) || k < 1) {
      throw new ValidationError([`k must be a positive integer, got ${k}`]);
    }
    const clamped = Math.min(k, this.size);
    if (clamped === 0) return [];
    const rows = await this.#batcher.search(query, clamped);
    return this.#toHits(rows);
  }

  /** Captures the FAISS bytes and labels between mutations, so the two agree. */
  export(): Promise<VectorIndexExport> {
    this.#checkOpen();
    return this.#exclusive(async () => ({
      bytes: await wrapNative('serialize', () => this.#native.serialize()),
      labels: new Map(this.#labelToChunk),
    }));
  }

  /** Waits for running calls, then frees the native index. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#mutations.catch(() => undefined);
    await this.#lastSearch;
    await this.#native.dispose();
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError('vector index');
  }

  #checkAdd(chunkIds: readonly string[], vectors: Float32Array): void {
    if (chunkIds.length === 0 || vectors.length % chunkIds.length !== 0) {
      throw new ValidationError([
        `vectors must hold one row per chunk id, got ${vectors.length} floats ` +
          `for ${chunkIds.length} chunk ids`,
      ]);
    }
    const rowLength = vectors.length / chunkIds.length;
    if (rowLength !== this.dimension) {
      throw new DimensionMismatchError('vector', this.dimension, rowLength);
    }
    const seen = new Set<string>();
    const duplicates = chunkIds.filter((id) => {
      const duplicate = seen.has(id) || this.#chunkToLabel.has(id);
      seen.add(id);
      return duplicate;
    });
    if (duplicates.length > 0) {
      throw new ValidationError([`chunk ids must be new, got duplicates ${duplicates.join(', ')}`]);
    }
  }

  #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#mutations.then(operation);
    this.#mutations = result.catch(() => undefined);
    return result;
  }

  // Labels are registered before FAISS gets the vectors, so a search never returns a label the
  // maps do not know yet. Vectors go to FAISS in slices, so a search waiting for the index mutex
  // waits for one slice rather than a whole large document. A failed slice removes the vectors
  // added before it and forgets the labels again.
  async #addNow(chunkIds: readonly string[], vectors: Float32Array): Promise<void> {
    const labels = new Float64Array(chunkIds.length);
    chunkIds.forEach((chunkId, i) => {
      labels[i] = this.#nextLabel++;
      this.#register(labels[i]!, chunkId);
    });
    let added = 0;
    try {
      for (; added < labels.length; added += ADD_SLICE_ROWS) {
        const end = Math.min(labels.length, added + ADD_SLICE_ROWS);
        const slice = vectors.subarray(added * this.dimension, end * this.dimension);
        await wrapNative('add', () => this.#native.add(slice, labels.subarray(added, end)));
      }
    } catch (error) {
      for (const chunkId of chunkIds) this.#unregister(chunkId);
      if (added > 0) await this.#removeSilently(labels.subarray(0, added));
      throw error;
    }
  }

  // Vectors left behind by a failed rollback are unlabelled, so searches skip them and the next
  // restore removes them.
  async #removeSilently(labels: Float64Array): Promise<void> {
    try {
      await this.#native.remove(labels);
    } catch (error) {
      this.#logger.error({ err: error, vectors: labels.length }, 'failed to roll back an add');
    }
  }

  // The maps forget the chunks first, so searches stop returning them at once.
  async #removeNow(chunkIds: readonly string[]): Promise<number> {
    const labels = chunkIds
      .map((chunkId) => this.#unregister(chunkId))
      .filter((label): label is number => label !== undefined);
    if (labels.length === 0) return 0;
    await wrapNative('remove', () => this.#native.remove(Float64Array.from(labels)));
    if (this.#needsCompaction()) await this.#rebuild();
    return labels.length;
  }

  #needsCompaction(): boolean {
    const removed = this.#native.removedCount;
    const stored = removed + this.#native.count;
    return removed > 0 && removed > this.#options.compactRemovedRatio * stored;
  }

  async #adoptLabels(labels: ReadonlyMap<number, string>): Promise<void> {
    const stored = await wrapNative('list labels', () => this.#native.labels());
    const storedSet = new Set(stored);
    for (const [label, chunkId] of labels) {
      if (!storedSet.has(label)) {
        throw new IndexOperationError('restore', `label ${label} of chunk ${chunkId} is missing`);
      }
      this.#register(label, chunkId);
      this.#nextLabel = Math.max(this.#nextLabel, label + 1);
    }
    const stale = stored.filter((label) => !labels.has(label));
    if (stale.length > 0) await wrapNative('remove', () => this.#native.remove(stale));
  }

  // Copies the live vectors into a fresh index of the configured kind, keeping their labels.
  async #rebuild(): Promise<void> {
    const started = performance.now();
    const old = this.#native;
    const labels = await wrapNative('list labels', () => old.labels());
    const fresh = await createNative(this.#options);
    if (labels.length > 0) {
      const vectors = await wrapNative('reconstruct', () => old.reconstruct(labels));
      await wrapNative('add', () => fresh.add(vectors, labels));
    }
    this.#native = fresh;
    await this.#lastSearch;
    await old.dispose();
    const durationMs = Math.round(performance.now() - started);
    this.#logger.info({ vectors: labels.length, durationMs }, 'rebuilt vector index');
  }

  #searchNative(queries: Float32Array, k: number): Promise<NativeSearchResult> {
    const efSearch = Math.max(this.#options.efSearch, k);
    const search = wrapNative('search', () => this.#native.search(queries, k, efSearch, 0));
    this.#lastSearch = search.catch(() => undefined);
    return search;
  }

  // Labels of chunks removed while the search ran are unknown by now and dropped.
  #toHits(rows: NativeSearchResult): VectorHit[] {
    const hits: VectorHit[] = [];
    rows.labels.forEach((label, i) => {
      const chunkId = this.#labelToChunk.get(label);
      if (chunkId !== undefined) hits.push({ chunkId, score: rows.distances[i]! });
    });
    return hits;
  }

  #register(label: number, chunkId: string): void {
    this.#labelToChunk.set(label, chunkId);
    this.#chunkToLabel.set(chunkId, label);
  }

  #unregister(chunkId: string): number | undefined {
    const label = this.#chunkToLabel.get(chunkId);
    if (label === undefined) return undefined;
    this.#chunkToLabel.delete(chunkId);
    this.#labelToChunk.delete(label);
    return label;
  }
}

function resolveOptions(options: VectorIndexOptions): ResolvedOptions {
  const defined = Object.entries(options).filter(
    ([name, value]) => name !== 'logger' && value !== undefined,
  );
  const resolved: ResolvedOptions = {
    ...VECTOR_INDEX_DEFAULTS,
    dimension: options.dimension,
    ...(Object.fromEntries(defined) as Partial<ResolvedOptions>),
  };
  const problems: string[] = [];
  const positive = ['dimension', 'hnswM', 'efConstruction', 'efSearch', 'maxBatchSize'] as const;
  for (const name of positive) {
    const value = resolved[name];
    if (!Number.isInteger(value) || value < 1) {
      problems.push(`${name} must be a positive integer, got ${value}`);
    }
  }
  if (!Number.isInteger(resolved.threads) || resolved.threads < 0) {
    problems.push(`threads must be a non-negative integer, got ${resolved.threads}`);
  }
  if (!(resolved.compactRemovedRatio > 0 && resolved.compactRemovedRatio <= 1)) {
    problems.push(`compactRemovedRatio must be in (0, 1], got ${resolved.compactRemovedRatio}`);
  }
  if (resolved.kind !== 'flat' && resolved.kind !== 'hnsw') {
    problems.push(`kind must be flat or hnsw, got ${String(resolved.kind)}`);
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return resolved;
}

function createNative(options: ResolvedOptions): Promise<NativeIndex> {
  return wrapNative('create', () =>
    loadFaissAddon().NativeIndex.create({
      dimension: options.dimension,
      description: options.kind === 'hnsw' ? `HNSW${options.hnswM}` : 'Flat',
      metric: 'inner_product',
      threads: options.threads,
      efConstruction: options.efConstruction,
    }),
  );
}

async function wrapNative<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new IndexOperationError(operation, error);
  }
}
