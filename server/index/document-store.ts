import {
  MemoryConversationStore,
  type ConversationEntry,
  type ConversationTurn,
  type MemoryConversationStoreOptions,
} from '../conversation/index.js';
import { ValidationError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { Chunk, DocumentInfo } from '../ingest/types.js';
import type { ConversationTurnRecord, DocumentPutRecord, LogEntry } from '../replication/types.js';
import {
  CONVERSATIONS_FILE,
  decodeConversations,
  encodeConversations,
} from './conversation-snapshot.js';
import {
  DOCUMENTS_FILE,
  INDEX_FILE,
  decodeDocuments,
  encodeDocuments,
  type StoredDocument,
} from './document-snapshot.js';
import { ClosedError, DimensionMismatchError, ModelMismatchError } from './errors.js';
import {
  GenerationStore,
  type GenerationManifest,
  type VerifiedGeneration,
} from './generation-store.js';
import { VectorIndex, type VectorIndexOptions } from './vector-index.js';

/** Options of {@link DocumentStore.open}. */
export interface DocumentStoreOptions {
  /** Embedding dimension; entries with another dimension are rejected. */
  dimension: number;
  /**
   * Embedding model every document must come from. Default: the model of the loaded snapshot,
   * else of the first document applied.
   */
  model?: string;
  /** Folder of snapshot generations; without it the store lives in memory only. */
  dataDir?: string;
  /** Complete generations kept on disk; default 2. */
  keepGenerations?: number;
  /** Vector index settings other than the dimension; default a flat inner-product index. */
  index?: Omit<VectorIndexOptions, 'dimension' | 'logger'>;
  /** Limits of the conversation history; default `MEMORY_STORE_DEFAULTS`. */
  conversations?: MemoryConversationStoreOptions;
  logger?: Logger;
}

/** A chunk found by {@link DocumentStore.search}, with what a citation needs. */
export interface SearchHit {
  /** Inner product of query and chunk vectors: the cosine similarity for unit vectors. */
  score: number;
  chunk: Chunk;
  document: DocumentInfo;
}

/**
 * Outcome of {@link DocumentStore.apply}. `applied`: the store changed. `skipped`: the entry's seq
 * was already applied. `unchanged`: a put of a present document or a delete of an absent one.
 * `ignored`: a record kind the store does not keep. All but `skipped` advance lastAppliedSeq.
 */
export type ApplyOutcome = 'applied' | 'skipped' | 'unchanged' | 'ignored';

/** Result of {@link DocumentStore.snapshot}. */
export interface SnapshotInfo {
  generation: number;
  lastAppliedSeq: number;
  /** Conversations written into the generation. */
  conversations: number;
  bytes: number;
  durationMs: number;
}

interface ChunkEntry {
  chunk: Chunk;
  document: StoredDocument;
}

/**
 * Documents, chunks and their vectors, and the history of each conversation, kept as a view of
 * the document log. Entries are applied in seq order, each once. A snapshot persists the view
 * with the seq it reflects, so a restart replays only the entries after it.
 */
export class DocumentStore {
  readonly #dimension: number;
  readonly #index: VectorIndex;
  readonly #generations: GenerationStore | undefined;
  readonly #logger: Logger;
  readonly #documents = new Map<string, StoredDocument>();
  readonly #chunks = new Map<string, ChunkEntry>();
  readonly #conversations: MemoryConversationStore;
  #model: string | undefined;
  #lastAppliedSeq = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(
    index: VectorIndex,
    conversations: MemoryConversationStore,
    options: DocumentStoreOptions,
    generations: GenerationStore | undefined,
  ) {
    this.#index = index;
    this.#conversations = conversations;
    this.#dimension = options.dimension;
    this.#model = options.model;
    this.#generations = generations;
    this.#logger = options.logger ?? silentLogger;
  }

  /**
   * Opens a store. With a `dataDir`, it loads the newest generation that verifies and falls back
   * to older ones, logging each fallback. When none is usable it starts empty at seq 0, so the
   * caller replays the whole log.
   */
  static async open(options: DocumentStoreOptions): Promise<DocumentStore> {
    const logger = options.logger ?? silentLogger;
    const indexOptions = { ...options.index, dimension: options.dimension, logger };
    const conversations = new MemoryConversationStore(options.conversations);
    if (options.dataDir === undefined) {
      const index = await VectorIndex.create(indexOptions);
      return new DocumentStore(index, conversations, options, undefined);
    }
    const generations = new GenerationStore({
      dataDir: options.dataDir,
      keepGenerations: options.keepGenerations,
      logger,
    });
    const loaded = await generations.loadNewest(
      (generation) => loadGeneration(generation, options, indexOptions),
      (error) => error instanceof DimensionMismatchError || error instanceof ModelMismatchError,
    );
    if (!loaded) {
      logger.info({ dataDir: options.dataDir }, 'no usable snapshot; starting empty at seq 0');
      const index = await VectorIndex.create(indexOptions);
      return new DocumentStore(index, conversations, options, generations);
    }
    const store = new DocumentStore(loaded.value.index, conversations, options, generations);
    store.#restore(loaded.value, loaded.manifest);
    return store;
  }

  /** Seq of the newest entry applied, 0 before any. */
  get lastAppliedSeq(): number {
    return this.#lastAppliedSeq;
  }

  get documentCount(): number {
    return this.#documents.size;
  }

  get chunkCount(): number {
    return this.#chunks.size;
  }

  /** Embedding model of the stored vectors, undefined until known. */
  get model(): string | undefined {
    return this.#model;
  }

  /** Number of conversations with retained turns. */
  get conversationCount(): number {
    return this.#conversations.size;
  }

  getDocument(documentId: string): DocumentInfo | undefined {
    return this.#documents.get(documentId)?.info;
  }

  listDocuments(): DocumentInfo[] {
    return [...this.#documents.values()].map((document) => document.info);
  }

  /**
   * Applies a log entry once. Entries with seq <= lastAppliedSeq are skipped; later seqs may leave
   * gaps. A rejected entry leaves the store and lastAppliedSeq unchanged.
   */
  async apply(entry: LogEntry): Promise<ApplyOutcome> {
    if (!Number.isSafeInteger(entry.seq) || entry.seq < 1) {
      throw new ValidationError([`seq must be a positive integer, got ${entry.seq}`]);
    }
    return this.#serially(() => this.#applyNow(entry));
  }

  /** Resolves with the k chunks nearest to `vector`, best first; no documents gives no hits. */
  async search(vector: Float32Array, k: number): Promise<SearchHit[]> {
    this.#checkOpen();
    const hits = await this.#index.search(vector, k);
    const results: SearchHit[] = [];
    for (const hit of hits) {
      const entry = this.#chunks.get(hit.chunkId);
      if (entry)
        results.push({ score: hit.score, chunk: entry.chunk, document: entry.document.info });
    }
    return results;
  }

  /**
   * Returns the retained turns of a conversation, oldest first, and marks it as the most recently
   * used one. An unknown conversation has none.
   */
  async conversationHistory(conversationId: string): Promise<ConversationTurn[]> {
    this.#checkOpen();
    return this.#conversations.history(conversationId);
  }

  /** Writes the current state as a new generation in the data directory. */
  async snapshot(): Promise<SnapshotInfo> {
    this.#checkOpen();
    const generations = this.#generations;
    if (!generations)
      throw new ValidationError(['dataDir must be set to take snapshots, got none']);
    const started = performance.now();
    const state = await this.#serially(async () => ({
      exported: await this.#index.export(),
      documents: [...this.#documents.values()],
      conversations: this.#conversations.entries(),
      seq: this.#lastAppliedSeq,
    }));
    const files = new Map([
      [INDEX_FILE, state.exported.bytes as Uint8Array | Iterable<string>],
      [DOCUMENTS_FILE, encodeDocuments(state.documents, state.exported.labels)],
      [CONVERSATIONS_FILE, encodeConversations(state.conversations)],
    ]);
    const manifest = await generations.write(state.seq, this.#meta(), files);
    return this.#logSnapshot(manifest, state.conversations.length, started);
  }

  /** Waits for pending applies, then frees the index. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.catch(() => undefined);
    await this.#index.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError('document store');
  }

  #serially<T>(operation: () => Promise<T>): Promise<T> {
    this.#checkOpen();
    const result = this.#queue.then(operation);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #applyNow(entry: LogEntry): Promise<ApplyOutcome> {
    if (entry.seq <= this.#lastAppliedSeq) return 'skipped';
    let outcome: ApplyOutcome;
    switch (entry.record.type) {
      case 'document.put':
        outcome = await this.#put(entry.record);
        break;
      case 'document.delete':
        outcome = await this.#delete(entry.record.documentId);
        break;
      case 'conversation.turn':
        outcome = await this.#appendTurn(entry.record);
        break;
      default:
        outcome = 'ignored';
    }
    this.#lastAppliedSeq = entry.seq;
    this.#logger.debug({ seq: entry.seq, type: entry.record.type, outcome }, 'applied log entry');
    return outcome;
  }

  async #put(record: DocumentPutRecord): Promise<ApplyOutcome> {
    this.#checkPut(record);
    if (this.#documents.has(record.document.id)) return 'unchanged';
    const stored: StoredDocument = {
      info: record.document,
      chunks: record.chunks,
      model: record.model,
    };
    // Chunks become known before their vectors are searchable, so every hit resolves.
    for (const chunk of record.chunks) this.#chunks.set(chunk.id, { chunk, document: stored });
    try {
      if (record.chunks.length > 0) {
        await this.#index.add(
          record.chunks.map((chunk) => chunk.id),
          record.vectors,
        );
      }
    } catch (error) {
      for (const chunk of record.chunks) this.#chunks.delete(chunk.id);
      throw error;
    }
    this.#documents.set(record.document.id, stored);
    this.#model ??= record.model;
    return 'applied';
  }

  #checkPut(record: DocumentPutRecord): void {
    if (record.dimension !== this.#dimension) {
      throw new DimensionMismatchError('document vector', this.#dimension, record.dimension);
    }
    if (this.#model !== undefined && record.model !== this.#model) {
      throw new ModelMismatchError(this.#model, record.model);
    }
    const expected = record.chunks.length * record.dimension;
    if (record.vectors.length !== expected) {
      throw new ValidationError([
        `vectors must hold ${expected} floats (${record.chunks.length} chunks x ` +
          `${record.dimension}) for document ${record.document.id}, got ${record.vectors.length}`,
      ]);
    }
  }

  async #delete(documentId: string): Promise<ApplyOutcome> {
    const stored = this.#documents.get(documentId);
    if (!stored) return 'unchanged';
    this.#documents.delete(documentId);
    for (const chunk of stored.chunks) this.#chunks.delete(chunk.id);
    await this.#index.remove(stored.chunks.map((chunk) => chunk.id));
    this.#logger.info({ documentId, chunks: stored.chunks.length }, 'deleted document');
    return 'applied';
  }

  async #appendTurn(record: ConversationTurnRecord): Promise<ApplyOutcome> {
    const { conversationId, role, text, at } = record;
    await this.#conversations.append(conversationId, { role, text, at });
    return 'applied';
  }

  #restore(loaded: LoadedGeneration, manifest: GenerationManifest): void {
    for (const document of loaded.documents) {
      this.#documents.set(document.info.id, document);
      for (const chunk of document.chunks) this.#chunks.set(chunk.id, { chunk, document });
    }
    if (loaded.conversations) {
      this.#conversations.restore(loaded.conversations);
    } else {
      // Generations written before conversations were snapshotted lack the file. The turns
      // before such a snapshot are lost, and those after it come back by replaying the log.
      this.#logger.info(
        { generation: manifest.generation },
        `snapshot generation has no ${CONVERSATIONS_FILE}; conversation history starts empty`,
      );
    }
    this.#lastAppliedSeq = manifest.lastAppliedSeq;
    this.#model ??= typeof manifest.meta.model === 'string' ? manifest.meta.model : undefined;
    this.#logger.info(
      {
        generation: manifest.generation,
        lastAppliedSeq: manifest.lastAppliedSeq,
        documents: this.documentCount,
        chunks: this.chunkCount,
        conversations: this.conversationCount,
      },
      'loaded snapshot generation',
    );
  }

  #meta(): Record<string, unknown> {
    return {
      dimension: this.#dimension,
      model: this.#model ?? null,
      kind: this.#index.kind,
    };
  }

  #logSnapshot(manifest: GenerationManifest, conversations: number, started: number): SnapshotInfo {
    const info: SnapshotInfo = {
      generation: manifest.generation,
      lastAppliedSeq: manifest.lastAppliedSeq,
      conversations,
      bytes: manifest.files.reduce((sum, file) => sum + file.bytes, 0),
      durationMs: Math.round(performance.now() - started),
    };
    this.#logger.info(info, 'wrote snapshot generation');
    return info;
  }
}

/** The parts of a snapshot generation, decoded. */
interface LoadedGeneration {
  index: VectorIndex;
  documents: StoredDocument[];
  /** Conversations, least recently used first; undefined for a generation without the file. */
  conversations: ConversationEntry[] | undefined;
}

// A snapshot made for another dimension or model is rejected as a configuration error rather
// than skipped as corrupt, because replaying the log would fail the same way.
async function loadGeneration(
  generation: VerifiedGeneration,
  options: DocumentStoreOptions,
  indexOptions: VectorIndexOptions,
): Promise<LoadedGeneration> {
  const { meta } = generation.manifest;
  if (meta.dimension !== options.dimension) {
    throw new DimensionMismatchError('snapshot', options.dimension, Number(meta.dimension));
  }
  if (
    options.model !== undefined &&
    typeof meta.model === 'string' &&
    meta.model !== options.model
  ) {
    throw new ModelMismatchError(options.model, meta.model);
  }
  const { documents, labels } = decodeDocuments(requireFile(generation, DOCUMENTS_FILE));
  const conversationData = generation.files.get(CONVERSATIONS_FILE);
  // Decoded before the index is restored, so a bad conversation file leaks no native index.
  const conversations = conversationData ? decodeConversations(conversationData) : undefined;
  const index = await VectorIndex.restore(
    requireFile(generation, INDEX_FILE),
    labels,
    indexOptions,
  );
  return { index, documents, conversations };
}

function requireFile(generation: VerifiedGeneration, name: string): Buffer {
  const data = generation.files.get(name);
  if (!data)
    throw new Error(`${name} is missing from generation ${generation.manifest.generation}`);
  return data;
}
