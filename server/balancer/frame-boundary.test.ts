import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildCloseFrame, buildMaskedCloseFrame } from './close-frame.js';
import { FrameBoundaryTracker } from './frame-boundary.js';

/** Encodes one final frame as RFC 6455 section 5.2 lays it out; a masked frame gets a zero key. */
function frame(opcode: number, payload: Buffer, mask = false): Buffer {
  const length = payload.length;
  const lengthBytes =
    length < 126
      ? Buffer.from([length])
      : length < 65536
        ? Buffer.from([126, length >> 8, length & 0xff])
        : Buffer.concat([
            Buffer.from([127]),
            Buffer.from(new BigUint64Array([BigInt(length)]).buffer).reverse(),
          ]);
  if (mask) lengthBytes[0]! |= 0x80;
  return Buffer.concat([
    Buffer.from([0x80 | opcode]),
    lengthBytes,
    mask ? Buffer.alloc(4) : Buffer.alloc(0),
    payload,
  ]);
}

test('frame boundaries across split chunks', () => {
  const stream = Buffer.concat([
    frame(1, Buffer.from('hi')),
    frame(2, Buffer.alloc(300)),
    frame(2, Buffer.alloc(70_000)),
    frame(1, Buffer.from('masked'), true),
  ]);
  for (const chunkSize of [1, 3, 7, 1000, stream.length]) {
    const tracker = new FrameBoundaryTracker();
    for (let offset = 0; offset < stream.length; offset += chunkSize) {
      tracker.push(stream.subarray(offset, offset + chunkSize));
    }
    assert.equal(tracker.atBoundary(), true, `chunk size ${chunkSize}`);
    assert.equal(tracker.sawCloseFrame, false);
  }
});

test('frame boundary mid-frame is reported', () => {
  const tracker = new FrameBoundaryTracker();
  const data = frame(2, Buffer.alloc(500));
  tracker.push(data.subarray(0, 100));
  assert.equal(tracker.atBoundary(), false);
  tracker.push(data.subarray(100));
  assert.equal(tracker.atBoundary(), true);
});

test('close frame is seen', () => {
  const tracker = new FrameBoundaryTracker();
  tracker.push(frame(1, Buffer.from('bye')));
  tracker.push(buildCloseFrame(1000, 'done'));
  assert.equal(tracker.sawCloseFrame, true);
  assert.equal(tracker.atBoundary(), true);
});

test('close frame layout', () => {
  const built = buildCloseFrame(1012, 'endpoint went away');
  assert.deepEqual(
    built,
    frame(8, Buffer.concat([Buffer.from([0x03, 0xf4]), Buffer.from('endpoint went away')])),
  );
  assert.equal(buildCloseFrame(1011, 'x'.repeat(200)).length, 2 + 125);
});

test('masked close frame unmasks to code', () => {
  const built = buildMaskedCloseFrame(1001, 'bye');
  assert.equal(built[0], 0x88);
  assert.equal(built[1], 0x80 | 5);
  const key = built.subarray(2, 6);
  const payload = Buffer.from(built.subarray(6).map((byte, i) => byte ^ key[i % 4]!));
  assert.equal(payload.readUInt16BE(0), 1001);
  assert.equal(payload.subarray(2).toString(), 'bye');
  const tracker = new FrameBoundaryTracker();
  tracker.push(built);
  assert.equal(tracker.atBoundary(), true);
  assert.equal(tracker.sawCloseFrame, true);
});
