import { headers, type MsgHdrs } from '@nats-io/transport-node';

/*
 * A record is published as one or more consecutive messages ("parts") so that records larger
 * than the server's max_payload still fit. Headers on every part:
 *
 *   StreamCluster-Seq     the record's sequence in the log (gap-free, unlike stream sequences)
 *   StreamCluster-Record  an id unique to one publishing attempt of the record
 *   StreamCluster-Part    "i/n", 1-based
 *
 * Parts of one record are contiguous in the stream: each is published with the expected last
 * stream sequence of the part before it. A record whose last part never arrived (its appender
 * died) is skipped by readers, and the next appender reuses its sequence.
 */

const SEQ_HEADER = 'StreamCluster-Seq';
const RECORD_HEADER = 'StreamCluster-Record';
const PART_HEADER = 'StreamCluster-Part';

/** The headers of one part. */
export interface PartInfo {
  seq: number;
  recordId: string;
  part: number;
  parts: number;
}

/** Builds the NATS headers of a part. */
export function partHeaders(info: PartInfo): MsgHdrs {
  const h = headers();
  h.set(SEQ_HEADER, String(info.seq));
  h.set(RECORD_HEADER, info.recordId);
  h.set(PART_HEADER, `${info.part}/${info.parts}`);
  return h;
}

/** Reads a part's headers; undefined for a message the log did not write. */
export function parsePartHeaders(h: MsgHdrs | undefined): PartInfo | undefined {
  const seq = Number(h?.get(SEQ_HEADER));
  const recordId = h?.get(RECORD_HEADER);
  const [part, parts] = (h?.get(PART_HEADER) ?? '').split('/').map(Number);
  if (!Number.isSafeInteger(seq) || seq < 1 || !recordId || !part || !parts) return undefined;
  return { seq, recordId, part, parts };
}

/** Cuts a payload into parts of at most `partBytes` bytes; an empty payload is one empty part. */
export function splitPayload(payload: Uint8Array, partBytes: number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let offset = 0; offset < payload.byteLength; offset += partBytes) {
    parts.push(payload.subarray(offset, offset + partBytes));
  }
  return parts.length > 0 ? parts : [payload];
}

/** A complete record put back together, with the stream sequence of its first part. */
export interface AssembledRecord {
  seq: number;
  payload: Uint8Array;
  firstStreamSeq: number;
}

/**
 * Joins the parts of records read in stream order. Parts of an abandoned record are dropped
 * when the next record's first part arrives.
 */
export class PartAssembler {
  #current: PartInfo | undefined;
  #chunks: Uint8Array[] = [];
  #firstStreamSeq = 0;

  /** Adds the next message of the stream; returns a record once its last part arrived. */
  add(info: PartInfo, data: Uint8Array, streamSeq: number): AssembledRecord | undefined {
    if (info.part === 1) {
      this.#current = info;
      this.#chunks = [];
      this.#firstStreamSeq = streamSeq;
    } else if (!this.#follows(info)) {
      this.#current = undefined;
      return undefined;
    }
    this.#chunks.push(data);
    this.#current = info;
    if (info.part < info.parts) return undefined;

    this.#current = undefined;
    const payload = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#chunks = [];
    return { seq: info.seq, payload, firstStreamSeq: this.#firstStreamSeq };
  }

  #follows(info: PartInfo): boolean {
    const current = this.#current;
    return current?.recordId === info.recordId && current.part + 1 === info.part;
  }
}
