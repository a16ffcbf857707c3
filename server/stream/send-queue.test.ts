import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';

import { SendQueue } from './send-queue.js';

/** Pauses the client's TCP socket so the server's writes back up, as a slow reader's would. */
function pauseReading(ws: WebSocket): () => void {
  const socket = (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  socket.pause();
  return () => socket.resume();
}

describe('send queue', () => {
  let wss: WebSocketServer;
  let url: string;
  const accepted: WebSocket[] = [];

  before(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    wss.on('connection', (ws) => accepted.push(ws));
    await once(wss, 'listening');
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  });

  after(() => wss.close());

  async function connectPair(): Promise<{ client: WebSocket; server: WebSocket }> {
    const client = new WebSocket(url);
    await once(client, 'open');
    while (accepted.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    return { client, server: accepted.shift()! };
  }

  it('delivers frames in order to a reader', async () => {
    const { client, server } = await connectPair();
    const queue = new SendQueue(server, { highWaterMarkBytes: 1024, hardLimitBytes: 1 << 20 });
    const received: string[] = [];
    client.on('message', (data) => received.push(data.toString()));
    for (let i = 0; i < 100; i++) queue.push(JSON.stringify({ i, pad: 'x'.repeat(100) }));
    while (received.length < 100) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(
      received.map((text) => (JSON.parse(text) as { i: number }).i),
      Array.from({ length: 100 }, (_, i) => i),
    );
    client.close();
  });

  it('coalesces unsent progress frames with the same key', async () => {
    const { client, server } = await connectPair();
    const resume = pauseReading(client);
    const queue = new SendQueue(server, { highWaterMarkBytes: 1, hardLimitBytes: 1 << 30 });
    // The first frame goes to the socket; the rest wait behind the high-water mark.
    queue.push(JSON.stringify({ n: -1, pad: 'x'.repeat(4 << 20) }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (let n = 0; n < 50; n++) queue.push(JSON.stringify({ n }), 'op1/embed');
    const received: number[] = [];
    client.on('message', (data) => received.push((JSON.parse(data.toString()) as { n: number }).n));
    resume();
    while (!received.includes(49)) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(received, [-1, 49]);
    client.close();
  });

  it('closes a reader that stops reading with 4008 past the hard limit', async () => {
    const { client, server } = await connectPair();
    const resume = pauseReading(client);
    let slow = 0;
    const queue = new SendQueue(
      server,
      { highWaterMarkBytes: 16 << 10, hardLimitBytes: 1 << 20 },
      () => slow++,
    );
    const frame = JSON.stringify({ pad: 'x'.repeat(64 << 10) });
    let accepted = 0;
    // Kernel buffers take the first megabytes; the queue then grows until the hard limit.
    for (let i = 0; i < 2000 && queue.push(frame); i++) {
      accepted++;
      if (i % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.ok(accepted < 2000, 'the queue stopped taking frames');
    assert.equal(slow, 1);
    assert.equal(queue.push(frame), false, 'a closed queue rejects frames');
    const closed = once(client, 'close');
    resume();
    const [code] = (await closed) as [number];
    assert.equal(code, 4008);
  });
});
