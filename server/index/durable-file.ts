import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';

/** Name, size and SHA-256 of a file as written. */
export interface FileDigest {
  name: string;
  bytes: number;
  sha256: string;
}

/** File content: bytes, or text pieces written in order (so large files need no single string). */
export type FileContent = Uint8Array | Iterable<string>;

const FLUSH_BYTES = 1 << 20;

/**
 * Writes a new file (failing if it exists), fsyncs it and returns its digest. A write error such
 * as ENOSPC rejects; the caller removes the partial file.
 */
export async function writeFileDurably(path: string, content: FileContent): Promise<FileDigest> {
  const hash = createHash('sha256');
  let bytes = 0;
  const file = await open(path, 'wx');
  try {
    for (const piece of pieces(content)) {
      hash.update(piece);
      bytes += piece.length;
      await writeAll(file, piece);
    }
    await file.sync();
  } finally {
    await file.close();
  }
  return { name: basename(path), bytes, sha256: hash.digest('hex') };
}

/** Fsyncs a directory, so the names created or renamed in it survive a power loss. */
export async function fsyncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Returns the hex SHA-256 of `data`. */
export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

// Text pieces are gathered into buffers of about FLUSH_BYTES, so writes stay few and large.
function* pieces(content: FileContent): Generator<Uint8Array> {
  if (content instanceof Uint8Array) {
    yield content;
    return;
  }
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for (const text of content) {
    const buffer = Buffer.from(text, 'utf8');
    pending.push(buffer);
    pendingBytes += buffer.length;
    if (pendingBytes >= FLUSH_BYTES) {
      yield Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}

async function writeAll(file: Awaited<ReturnType<typeof open>>, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await file.write(data, offset, data.length - offset);
    offset += bytesWritten;
  }
}
