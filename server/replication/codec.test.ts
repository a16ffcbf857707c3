import assert from 'node:assert/strict';
import { test } from 'node:test';

import { makeDocumentRecord } from '../../test/support/records.js';
import { decodeRecord, encodeRecord } from './codec.js';
import type { LogRecord } from './types.js';

test('codec round-trips every record type', () => {
  const records: LogRecord[] = [
    makeDocumentRecord({ name: 'round-trip', chunkCount: 3, dimension: 8 }),
    { type: 'document.delete', documentId: 'abc' },
    { type: 'conversation.turn', conversationId: 'c1', role: 'user', text: 'héllo ✓', at: 5 },
  ];
  for (const record of records) assert.deepEqual(decodeRecord(encodeRecord(record)), record);
});

test('codec stores vectors as raw float32 bytes', () => {
  const record = makeDocumentRecord({ name: 'raw', chunkCount: 20, dimension: 384 });
  const bytes = encodeRecord(record);
  const jsonBytes = Buffer.byteLength(JSON.stringify({ ...record, vectors: undefined }));

  assert.ok(bytes.byteLength < jsonBytes + 20 * 384 * 4 + 16);
  const tail = Buffer.from(bytes.subarray(bytes.byteLength - 4));
  assert.equal(tail.readFloatLE(0), record.vectors.at(-1));
});

test('codec decodes from an unaligned offset', () => {
  const record = makeDocumentRecord({ name: 'unaligned', chunkCount: 2, dimension: 4 });
  const encoded = encodeRecord(record);
  const shifted = new Uint8Array(encoded.byteLength + 1);
  shifted.set(encoded, 1);

  assert.deepEqual(decodeRecord(shifted.subarray(1)), record);
});

test('codec rejects a flipped bit', () => {
  const bytes = encodeRecord(makeDocumentRecord({ name: 'flip', chunkCount: 2, dimension: 4 }));
  bytes[bytes.byteLength - 3]! ^= 0x10;

  assert.throws(() => decodeRecord(bytes, 'message 7'), {
    code: 'LOG_CORRUPT',
    message: /message 7 fails its CRC-32 checksum/,
  });
});

test('codec rejects vectors of the wrong length', () => {
  const record = makeDocumentRecord({ name: 'short', chunkCount: 2, dimension: 4 });
  record.vectors = record.vectors.subarray(1);

  assert.throws(() => encodeRecord(record), {
    code: 'INVALID_ARGUMENT',
    message: /8 floats, got 7/,
  });
});
