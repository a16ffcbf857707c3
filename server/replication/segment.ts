import { readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/*
 * A FileLog directory holds segment files named after the sequence of their first record,
 * `00000000000000000001.seg`, each a run of frames:
 *
 *   0   u32  magic 0x53434c47 ("SCLG")
 *   4   u32  payload length L
 *   8   u64  sequence number
 *   16  u32  CRC-32 (zlib) of bytes 4..16 followed by the payload
 *   20  L bytes of payload: an encoded record
 */

export const FRAME_HEADER_BYTES = 20;
const MAGIC = 0x53434c47;
/** Upper bound on one payload, so a damaged length field cannot make a reader allocate gigabytes. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024;
const SEGMENT_SUFFIX = '.seg';

/** A segment file of a FileLog directory. */
export interface SegmentFile {
  /** Sequence number of the segment's first record. */
  baseSeq: number;
  path: string;
}

/** Outcome of reading the frame at one offset of a segment. */
export type FrameRead =
  | { kind: 'frame'; seq: number; payload: Buffer; end: number }
  /** The file ends before the frame does: at the end of the segment, or a frame being written. */
  | { kind: 'incomplete' }
  /** The bytes are there but fail the magic, length or checksum test; `end` is where they claim to stop. */
  | { kind: 'invalid'; problem: string; end: number };

/** Lists the segments of a directory in sequence order. */
export async function listSegments(directory: string): Promise<SegmentFile[]> {
  const names = await readdir(directory);
  return names
    .filter((name) => /^\d{20}\.seg$/.test(name))
    .map((name) => ({ baseSeq: Number(name.slice(0, 20)), path: join(directory, name) }))
    .sort((a, b) => a.baseSeq - b.baseSeq);
}

/** Path of the segment whose first record has sequence `baseSeq`. */
export function segmentPath(directory: string, baseSeq: number): string {
  return join(directory, String(baseSeq).padStart(20, '0') + SEGMENT_SUFFIX);
}

/** Builds the frame that stores `payload` as record `seq`. */
export function encodeFrame(seq: number, payload: Uint8Array): Buffer {
  const frame = Buffer.alloc(FRAME_HEADER_BYTES + payload.byteLength);
  frame.writeUInt32LE(MAGIC, 0);
  frame.writeUInt32LE(payload.byteLength, 4);
  frame.writeBigUInt64LE(BigInt(seq), 8);
  frame.set(payload, FRAME_HEADER_BYTES);
  frame.writeUInt32LE(frameChecksum(frame.subarray(4, 16), payload), 16);
  return frame;
}

/** Reads the frame starting at `offset` of a segment whose current size is `fileSize`. */
export async function readFrame(
  file: FileHandle,
  offset: number,
  fileSize: number,
): Promise<FrameRead> {
  if (offset + FRAME_HEADER_BYTES > fileSize) return { kind: 'incomplete' };
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  await file.read(header, 0, FRAME_HEADER_BYTES, offset);

  const length = header.readUInt32LE(4);
  const end = offset + FRAME_HEADER_BYTES + length;
  if (header.readUInt32LE(0) !== MAGIC) return { kind: 'invalid', problem: 'bad magic', end };
  if (length > MAX_PAYLOAD_BYTES) return { kind: 'invalid', problem: 'bad length', end };
  if (end > fileSize) return { kind: 'incomplete' };

  const payload = Buffer.alloc(length);
  const { bytesRead } = await file.read(payload, 0, length, offset + FRAME_HEADER_BYTES);
  if (bytesRead < length) return { kind: 'incomplete' };
  if (frameChecksum(header.subarray(4, 16), payload) !== header.readUInt32LE(16)) {
    return { kind: 'invalid', problem: 'CRC-32 mismatch', end };
  }
  return { kind: 'frame', seq: Number(header.readBigUInt64LE(8)), payload, end };
}

function frameChecksum(lengthAndSeq: Uint8Array, payload: Uint8Array): number {
  return crc32(payload, crc32(lengthAndSeq));
}
