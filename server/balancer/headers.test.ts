import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  connectionTokens,
  endToEndHeaders,
  formatResponseHead,
  isWebSocketUpgrade,
} from './headers.js';

test('connection tokens from Firefox header', () => {
  assert.deepEqual(connectionTokens({ connection: 'keep-alive, Upgrade' }), [
    'keep-alive',
    'upgrade',
  ]);
});

test('websocket upgrade detection cases', () => {
  const cases: [Record<string, string>, boolean][] = [
    [{ connection: 'Upgrade', upgrade: 'websocket' }, true],
    [{ connection: 'keep-alive, Upgrade', upgrade: 'WebSocket' }, true],
    [{ connection: 'keep-alive,  upgrade ', upgrade: 'websocket' }, true],
    [{ connection: 'keep-alive', upgrade: 'websocket' }, false],
    [{ connection: 'Upgrade', upgrade: 'h2c' }, false],
    [{ upgrade: 'websocket' }, false],
  ];
  for (const [headers, expected] of cases) {
    assert.equal(isWebSocketUpgrade(headers), expected, JSON.stringify(headers));
  }
});

test('end-to-end headers drop hop-by-hop and named fields', () => {
  const kept = endToEndHeaders({
    connection: 'close, x-secret',
    'x-secret': '1',
    'keep-alive': 'timeout=5',
    'proxy-connection': 'keep-alive',
    te: 'trailers',
    'transfer-encoding': 'chunked',
    upgrade: 'websocket',
    trailer: 'x-sum',
    host: 'example.test',
    'content-type': 'text/plain',
  });
  assert.deepEqual(kept, { host: 'example.test', 'content-type': 'text/plain' });
});

test('response head keeps hop-by-hop only for 101', () => {
  const raw = ['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', 'abc'];
  assert.equal(
    formatResponseHead(101, 'Switching Protocols', raw, true),
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: abc\r\n\r\n',
  );
  const error = [
    'Content-Length',
    '3',
    'Connection',
    'keep-alive, X-Hop',
    'X-Hop',
    '1',
    'Transfer-Encoding',
    'chunked',
  ];
  assert.equal(
    formatResponseHead(500, 'Oops', error, false, [['Connection', 'close']]),
    'HTTP/1.1 500 Oops\r\nContent-Length: 3\r\nConnection: close\r\n\r\n',
  );
});
