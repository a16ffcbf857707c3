import { endianness } from 'node:os';
import { crc32 } from 'node:zlib';

import { ValidationError } from '../core/errors.js';
import { LogCorruptError } from './errors.js';
import type { DocumentPutRecord, LogRecord } from './types.js';

/*
 * Binary form of one LogRecord, shared by every backend. Little-endian:
 *
 *   0  u8   format version (1)
 *   1  u8   record type (1 document.put, 2 document.delete, 3 conversation.turn)
 *   2  u16  reserved, 0
 *   4  u32  CRC-32 (zlib) of every byte from offset 8 to the end
 *   8  u32  length H of the JSON header
 *   12      H bytes of UTF-8 JSON: the record without its `vectors`
 *           zero padding up to a multiple of 4
 *           document.put only: the vectors as raw float32 values
 *
 * Vectors stay binary because JSON would triple their size and cost a parse per float.
 */

const FORMAT_VERSION = 1;
const PREFIX_BYTES = 12;
const CHECKSUM_OFFSET = 4;
const CHECKED_FROM = 8;
const TYPE_CODES = { 'document.put': 1, 'document.delete': 2, 'conversation.turn': 3 } as const;
const TYPE_NAMES = ['', 'document.put', 'document.delete', 'conversation.turn'] as const;
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** Encodes a record into its binary form, checksum included. */
export function encodeRecord(record: LogRecord): Uint8Array {
  const header = Buffer.from(JSON.stringify(headerOf(record)), 'utf8');
  const vectorsAt = align4(PREFIX_BYTES + header.length);
  const vectors = record.type === 'document.put' ? vectorBytes(record) : new Uint8Array(0);
  const out = Buffer.alloc(vectorsAt + vectors.byteLength);

  out.writeUInt8(FORMAT_VERSION, 0);
  out.writeUInt8(TYPE_CODES[record.type], 1);
  out.writeUInt32LE(header.length, CHECKED_FROM);
  header.copy(out, PREFIX_BYTES);
  out.set(vectors, vectorsAt);
  out.writeUInt32LE(crc32(out.subarray(CHECKED_FROM)), CHECKSUM_OFFSET);
  return out;
}

/**
 * Decodes the binary form of a record, checking its checksum and shape. Throws LogCorruptError
 * naming `where` (a file offset, a stream sequence) when the bytes are damaged.
 */
export function decodeRecord(bytes: Uint8Array, where = 'record'): LogRecord {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length < PREFIX_BYTES) throw corrupt(where, `is ${view.length} bytes, shorter than 12`);
  const version = view.readUInt8(0);
  if (version !== FORMAT_VERSION) throw corrupt(where, `has format version ${version}, not 1`);
  if (view.readUInt32LE(CHECKSUM_OFFSET) !== crc32(view.subarray(CHECKED_FROM))) {
    throw corrupt(where, 'fails its CRC-32 checksum');
  }

  const type = TYPE_NAMES[view.readUInt8(1)];
  const headerLength = view.readUInt32LE(CHECKED_FROM);
  const headerEnd = PREFIX_BYTES + headerLength;
  if (!type || headerEnd > view.length) throw corrupt(where, 'has an invalid type or header');
  const header = JSON.parse(view.toString('utf8', PREFIX_BYTES, headerEnd)) as LogRecord;
  if (header.type !== type) throw corrupt(where, `has type ${type} but a ${header.type} header`);
  if (header.type !== 'document.put') return header;

  const vectors = readVectors(view.subarray(align4(headerEnd)));
  if (vectors.length !== header.chunks.length * header.dimension) {
    throw corrupt(where, `has ${vectors.length} floats for ${header.chunks.length} chunks`);
  }
  return { ...header, vectors };
}

function headerOf(record: LogRecord): unknown {
  if (record.type !== 'document.put') return record;
  const { vectors: _vectors, ...rest } = record;
  return rest;
}

function vectorBytes(record: DocumentPutRecord): Uint8Array {
  const expected = record.chunks.length * record.dimension;
  if (record.vectors.length !== expected) {
    throw new ValidationError([
      `vectors must hold chunks.length * dimension = ${expected} floats, got ` +
        `${record.vectors.length}; embed every chunk with the same model before appending`,
    ]);
  }
  if (LITTLE_ENDIAN_HOST) {
    return new Uint8Array(record.vectors.buffer, record.vectors.byteOffset, expected * 4);
  }
  const out = Buffer.alloc(expected * 4);
  record.vectors.forEach((value, i) => out.writeFloatLE(value, i * 4));
  return out;
}

function readVectors(bytes: Buffer): Float32Array {
  const count = Math.floor(bytes.length / 4);
  if (LITTLE_ENDIAN_HOST) {
    // A copy gives the array its own aligned buffer, so the caller may drop the record bytes.
    const copy = new Uint8Array(count * 4);
    copy.set(bytes.subarray(0, count * 4));
    return new Float32Array(copy.buffer);
  }
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

function align4(offset: number): number {
  return (offset + 3) & ~3;
}

function corrupt(where: string, problem: string): LogCorruptError {
  return new LogCorruptError(`${where} ${problem}; restore it from a replica or backup`);
}
