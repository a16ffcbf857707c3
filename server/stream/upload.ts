import { createHash, type Hash } from 'node:crypto';

import type { DocumentType } from '../ingest/types.js';
import type { DocumentMediaType, IngestStartMessage } from './protocol.js';

const TYPE_BY_MEDIA: Record<DocumentMediaType, DocumentType> = {
  'application/pdf': 'pdf',
  'text/plain': 'text',
  'text/markdown': 'markdown',
};

/** Why an upload failed, as a protocol error code and a sentence. */
export interface UploadProblem {
  code: 'UPLOAD_TOO_LARGE' | 'CHECKSUM_MISMATCH';
  message: string;
}

/** Collects one document's binary frames and checks them against the announced size and hash. */
export class Upload {
  readonly type: DocumentType;
  private readonly parts: Buffer[] = [];
  private received = 0;
  private readonly hash: Hash = createHash('sha256');

  constructor(readonly announced: IngestStartMessage) {
    this.type = TYPE_BY_MEDIA[announced.mediaType];
  }

  get receivedBytes(): number {
    return this.received;
  }

  get complete(): boolean {
    return this.received === this.announced.size;
  }

  /** Adds a frame's data; returns a problem when the upload can no longer succeed. */
  add(data: Buffer): UploadProblem | undefined {
    this.received += data.length;
    if (this.received > this.announced.size) {
      return {
        code: 'UPLOAD_TOO_LARGE',
        message: `upload of op ${this.announced.op} sent ${this.received} bytes but announced size ${this.announced.size}; announce the exact size`,
      };
    }
    this.parts.push(data);
    this.hash.update(data);
    return undefined;
  }

  /** Checks the SHA-256 once every byte arrived and returns the document's bytes. */
  finish(): Buffer | UploadProblem {
    const digest = this.hash.digest('hex');
    if (digest !== this.announced.sha256) {
      return {
        code: 'CHECKSUM_MISMATCH',
        message: `sha256 of the received bytes is ${digest}, announced ${this.announced.sha256}; resend the document`,
      };
    }
    return Buffer.concat(this.parts, this.received);
  }
}

/**
 * Splits a binary upload frame: one byte with the op id's length, the op id in UTF-8, then data.
 * Returns undefined when the frame is too short to hold its header.
 */
export function parseUploadFrame(frame: Buffer): { op: string; data: Buffer } | undefined {
  if (frame.length < 1) return undefined;
  const length = frame[0]!;
  if (length === 0 || frame.length < 1 + length) return undefined;
  return { op: frame.subarray(1, 1 + length).toString('utf8'), data: frame.subarray(1 + length) };
}

/** Builds a binary upload frame; the inverse of {@link parseUploadFrame}. */
export function encodeUploadFrame(op: string, data: Uint8Array): Buffer {
  const opBytes = Buffer.from(op, 'utf8');
  if (opBytes.length === 0 || opBytes.length > 255) {
    throw new RangeError(`op must be 1 to 255 bytes in UTF-8, got ${opBytes.length}`);
  }
  return Buffer.concat([Buffer.from([opBytes.length]), opBytes, data]);
}
