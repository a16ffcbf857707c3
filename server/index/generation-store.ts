import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../core/logger.js';
import { SnapshotError } from './errors.js';
import {
  fsyncDirectory,
  sha256,
  writeFileDurably,
  type FileContent,
  type FileDigest,
} from './durable-file.js';

const MANIFEST = 'manifest.json';
const GENERATION_PREFIX = 'generation-';
const TEMP_PREFIX = '.tmp-generation-';
const FORMAT = 1;

/** Description of one complete generation, written last into its directory. */
export interface GenerationManifest {
  format: number;
  generation: number;
  lastAppliedSeq: number;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Caller's data about the content, such as the index dimension. */
  meta: Record<string, unknown>;
  files: FileDigest[];
}

/** A generation whose manifest and files passed their checksums. */
export interface VerifiedGeneration {
  manifest: GenerationManifest;
  files: Map<string, Buffer>;
}

/** Options of {@link GenerationStore}. */
export interface GenerationStoreOptions {
  dataDir: string;
  /** Complete generations kept, newest first; default 2, so a corrupt newest has a fallback. */
  keepGenerations?: number;
  logger?: Logger;
}

/**
 * Numbered snapshot generations in a data directory. A generation is written into a temporary
 * directory, every file and the directory are fsynced, and one rename publishes it, so a crash
 * or a full disk at any moment leaves the older generations as they were.
 */
export class GenerationStore {
  readonly dataDir: string;
  readonly #keep: number;
  readonly #logger: Logger;
  #writes: Promise<unknown> = Promise.resolve();

  constructor(options: GenerationStoreOptions) {
    this.dataDir = options.dataDir;
    this.#keep = options.keepGenerations ?? 2;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Writes and publishes a new generation, then prunes all but the newest `keepGenerations`. */
  write(
    lastAppliedSeq: number,
    meta: Record<string, unknown>,
    files: ReadonlyMap<string, FileContent>,
  ): Promise<GenerationManifest> {
    const result = this.#writes.then(() => this.#writeNow(lastAppliedSeq, meta, files));
    this.#writes = result.catch(() => undefined);
    return result;
  }

  /**
   * Loads the newest generation that verifies and that `parse` accepts. A generation failing
   * either is logged and skipped for the one before it, unless `isFatal(error)` holds, which
   * rethrows. Resolves undefined when no generation is usable.
   */
  async loadNewest<T>(
    parse: (generation: VerifiedGeneration) => Promise<T>,
    isFatal: (error: unknown) => boolean = () => false,
  ): Promise<{ value: T; manifest: GenerationManifest } | undefined> {
    await mkdir(this.dataDir, { recursive: true });
    await this.#removeTemporaries();
    for (const generation of await this.#listGenerations()) {
      const dir = join(this.dataDir, generationName(generation));
      try {
        const verified = await verifyGeneration(dir);
        return { value: await parse(verified), manifest: verified.manifest };
      } catch (error) {
        if (isFatal(error)) throw error;
        this.#logger.warn(
          { err: error, generation, dir },
          'snapshot generation is corrupt or incomplete; falling back to the previous one',
        );
      }
    }
    return undefined;
  }

  async #writeNow(
    lastAppliedSeq: number,
    meta: Record<string, unknown>,
    files: ReadonlyMap<string, FileContent>,
  ): Promise<GenerationManifest> {
    await mkdir(this.dataDir, { recursive: true });
    const generation = ((await this.#listGenerations())[0] ?? 0) + 1;
    const temp = join(this.dataDir, `${TEMP_PREFIX}${generation}-${process.pid}`);
    let manifest: GenerationManifest;
    try {
      await rm(temp, { recursive: true, force: true });
      await mkdir(temp);
      manifest = await writeFiles(temp, { generation, lastAppliedSeq, meta }, files);
      await fsyncDirectory(temp);
      await rename(temp, join(this.dataDir, generationName(generation)));
      await fsyncDirectory(this.dataDir);
    } catch (error) {
      await rm(temp, { recursive: true, force: true }).catch((cleanupError: unknown) =>
        this.#logger.error({ err: cleanupError, dir: temp }, 'failed to remove snapshot temp'),
      );
      throw new SnapshotError(this.dataDir, error);
    }
    await this.#prune();
    return manifest;
  }

  async #prune(): Promise<void> {
    const stale = (await this.#listGenerations()).slice(this.#keep);
    for (const generation of stale) {
      await rm(join(this.dataDir, generationName(generation)), { recursive: true, force: true });
    }
  }

  async #removeTemporaries(): Promise<void> {
    for (const name of await readdir(this.dataDir)) {
      if (name.startsWith(TEMP_PREFIX)) {
        this.#logger.info({ dir: name }, 'removing an unfinished snapshot generation');
        await rm(join(this.dataDir, name), { recursive: true, force: true });
      }
    }
  }

  /** Generation numbers present, newest first. */
  async #listGenerations(): Promise<number[]> {
    const names = await readdir(this.dataDir).catch(() => []);
    return names
      .filter((name) => /^generation-\d+$/.test(name))
      .map((name) => Number(name.slice(GENERATION_PREFIX.length)))
      .sort((a, b) => b - a);
  }
}

function generationName(generation: number): string {
  return `${GENERATION_PREFIX}${String(generation).padStart(12, '0')}`;
}

async function writeFiles(
  dir: string,
  header: Pick<GenerationManifest, 'generation' | 'lastAppliedSeq' | 'meta'>,
  files: ReadonlyMap<string, FileContent>,
): Promise<GenerationManifest> {
  const digests: FileDigest[] = [];
  for (const [name, content] of files) {
    digests.push(await writeFileDurably(join(dir, name), content));
  }
  const manifest = { format: FORMAT, ...header, createdAt: Date.now(), files: digests };
  const body = JSON.stringify(manifest);
  const envelope = JSON.stringify({ manifest, sha256: sha256(body) });
  await writeFileDurably(join(dir, MANIFEST), [envelope]);
  return manifest;
}

async function verifyGeneration(dir: string): Promise<VerifiedGeneration> {
  const envelope = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as {
    manifest: GenerationManifest;
    sha256: string;
  };
  if (sha256(JSON.stringify(envelope.manifest)) !== envelope.sha256) {
    throw new Error(`${MANIFEST} checksum does not match its content`);
  }
  if (envelope.manifest.format !== FORMAT) {
    throw new Error(`format must be ${FORMAT}, got ${envelope.manifest.format}`);
  }
  const files = new Map<string, Buffer>();
  for (const digest of envelope.manifest.files) {
    const data = await readFile(join(dir, digest.name));
    if (data.length !== digest.bytes || sha256(data) !== digest.sha256) {
      throw new Error(`${digest.name} does not match its size or SHA-256 in ${MANIFEST}`);
    }
    files.set(digest.name, data);
  }
  return { manifest: envelope.manifest, files };
}
