// Measures the time to encode and decode one realistic document.put record.
// Usage: node --import tsx scripts/bench/record-codec.ts [--chunks 20] [--dimension 384]
//          [--iterations 2000]
import { parseArgs } from 'node:util';

import { decodeRecord, encodeRecord } from '../../server/replication/codec.js';
import { makeDocumentRecord } from '../../test/support/records.js';

const { values } = parseArgs({
  options: {
    chunks: { type: 'string', default: '20' },
    dimension: { type: 'string', default: '384' },
    iterations: { type: 'string', default: '2000' },
  },
});
const iterations = Number(values.iterations);
const record = makeDocumentRecord({
  name: 'codec',
  chunkCount: Number(values.chunks),
  dimension: Number(values.dimension),
});
const bytes = encodeRecord(record);

let started = performance.now();
for (let i = 0; i < iterations; i++) encodeRecord(record);
const encodeMs = (performance.now() - started) / iterations;
started = performance.now();
for (let i = 0; i < iterations; i++) decodeRecord(bytes);
const decodeMs = (performance.now() - started) / iterations;

console.log(
  JSON.stringify({
    recordBytes: bytes.byteLength,
    encodeMs: Number(encodeMs.toFixed(3)),
    decodeMs: Number(decodeMs.toFixed(3)),
  }),
);
