import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

import type { ChangeNotifier } from './change-notifier.js';
import { LogCorruptError } from './errors.js';
import { listSegments, readFrame, type FrameRead, type SegmentFile } from './segment.js';

/** One stored record as the reader finds it, before decoding. */
export interface StoredFrame {
  seq: number;
  payload: Buffer;
  /** Segment path and byte offset, for error messages. */
  where: string;
}

/** How often a damaged-looking frame is re-read before it is reported corrupt. */
const CORRUPT_CONFIRMATIONS = 3;
const CONFIRM_DELAY_MS = 20;

/**
 * Yields the frames of a FileLog directory with `seq >= fromSeq`, then follows new appends
 * until `signal` aborts. Another process may be appending, or truncating a torn tail left by a
 * writer that crashed, so a frame that looks damaged is re-read a few times before it counts as
 * corruption.
 */
export async function* followFrames(
  directory: string,
  fromSeq: number,
  notifier: ChangeNotifier,
  signal: AbortSignal,
): AsyncGenerator<StoredFrame> {
  let segment = await waitForSegment(directory, fromSeq, notifier, signal);
  if (!segment) return;
  let file = await open(segment.path, 'r');
  try {
    let offset = 0;
    let nextSeq = segment.baseSeq;
    let suspicious = 0;
    let size = (await file.stat()).size;
    while (!signal.aborted) {
      let frame = await readFrame(file, offset, size);
      if (frame.kind !== 'frame') {
        size = (await file.stat()).size;
        frame = await readFrame(file, offset, size);
      }
      const where = `segment ${segment.path} at byte ${offset}`;

      if (frame.kind === 'frame') {
        if (frame.seq !== nextSeq) throw gapError(where, nextSeq, frame.seq);
        suspicious = 0;
        nextSeq++;
        offset = frame.end;
        if (frame.seq >= fromSeq) yield { seq: frame.seq, payload: frame.payload, where };
        continue;
      }

      const next = await nextSegment(directory, segment);
      if (next && frame.kind === 'incomplete' && offset === size) {
        if (next.baseSeq !== nextSeq) throw gapError(`segment ${next.path}`, nextSeq, next.baseSeq);
        await file.close();
        segment = next;
        file = await open(segment.path, 'r');
        [offset, size] = [0, (await file.stat()).size];
        continue;
      }

      if (isDamage(frame, size, next !== undefined)) {
        if (++suspicious >= CORRUPT_CONFIRMATIONS) throw damageError(where, nextSeq, frame);
        await sleep(CONFIRM_DELAY_MS);
        continue;
      }
      suspicious = 0;
      await notifier.wait(signal);
    }
  } finally {
    await file.close();
  }
}

/** The segment to start reading at: the last one whose first sequence is at most `fromSeq`. */
async function waitForSegment(
  directory: string,
  fromSeq: number,
  notifier: ChangeNotifier,
  signal: AbortSignal,
): Promise<SegmentFile | undefined> {
  while (!signal.aborted) {
    const segments = await listSegments(directory);
    const start = segments.filter((s) => s.baseSeq <= fromSeq).at(-1) ?? segments[0];
    if (start) return start;
    await notifier.wait(signal);
  }
  return undefined;
}

async function nextSegment(
  directory: string,
  current: SegmentFile,
): Promise<SegmentFile | undefined> {
  return (await listSegments(directory)).find((s) => s.baseSeq > current.baseSeq);
}

/**
 * Whether a frame that is not readable now is damage rather than a write in progress. Bytes at
 * the very end of the newest segment may be a torn tail the next appender truncates; anything
 * followed by more bytes, or left in an older segment, will not heal.
 */
function isDamage(frame: FrameRead, size: number, hasNewerSegment: boolean): boolean {
  if (frame.kind === 'invalid') return frame.end < size || hasNewerSegment;
  return hasNewerSegment;
}

function gapError(where: string, expected: number, found: number): LogCorruptError {
  return new LogCorruptError(
    `${where} holds sequence ${found} where ${expected} was expected; the log has a gap or a ` +
      'misplaced segment, restore the directory from a backup or replay from a replica',
  );
}

function damageError(where: string, seq: number, frame: FrameRead): LogCorruptError {
  const problem = frame.kind === 'invalid' ? frame.problem : 'truncated frame';
  return new LogCorruptError(
    `${where}: record ${seq} is damaged (${problem}); records from ${seq} on cannot be read ` +
      'until the segment is restored from a backup or the log is rebuilt from a replica',
  );
}
