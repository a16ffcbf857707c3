/**
 * Follows WebSocket frame boundaries in one direction of a relayed stream without parsing
 * payloads: it reads each frame header (2 to 14 bytes) and skips the payload length. The relay
 * uses it to know whether the endpoint sent a close frame and whether a frame of its own can be
 * inserted without splitting one of the endpoint's frames. Cost is per frame, not per byte.
 */
export class FrameBoundaryTracker {
  private payloadLeft = 0;
  private partial: Buffer | undefined;
  /** True once a close frame (opcode 8) began in this direction. */
  sawCloseFrame = false;

  /** True between frames, where a new frame can be written. */
  atBoundary(): boolean {
    return this.payloadLeft === 0 && this.partial === undefined;
  }

  /** Advances over one chunk of the stream. */
  push(chunk: Buffer): void {
    let data = chunk;
    if (this.partial) {
      data = Buffer.concat([this.partial, chunk]);
      this.partial = undefined;
    }
    let offset = 0;
    while (offset < data.length) {
      if (this.payloadLeft > 0) {
        const skipped = Math.min(this.payloadLeft, data.length - offset);
        this.payloadLeft -= skipped;
        offset += skipped;
        continue;
      }
      const headerLength = frameHeaderLength(data, offset);
      if (headerLength === undefined || offset + headerLength > data.length) {
        this.partial = Buffer.from(data.subarray(offset));
        return;
      }
      if ((data[offset]! & 0x0f) === 0x8) this.sawCloseFrame = true;
      this.payloadLeft = payloadLength(data, offset);
      offset += headerLength;
    }
  }
}

/** Header length of the frame at `offset`, or undefined when its first two bytes are not there yet. */
function frameHeaderLength(data: Buffer, offset: number): number | undefined {
  if (data.length - offset < 2) return undefined;
  const second = data[offset + 1]!;
  const lengthCode = second & 0x7f;
  const maskLength = second & 0x80 ? 4 : 0;
  const extended = lengthCode === 126 ? 2 : lengthCode === 127 ? 8 : 0;
  return 2 + extended + maskLength;
}

function payloadLength(data: Buffer, offset: number): number {
  const lengthCode = data[offset + 1]! & 0x7f;
  if (lengthCode === 126) return data.readUInt16BE(offset + 2);
  if (lengthCode === 127) return Number(data.readBigUInt64BE(offset + 2));
  return lengthCode;
}
