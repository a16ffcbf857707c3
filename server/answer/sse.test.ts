import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { GeneratorFailedError } from './errors.js';
import { EventStreamParser, readEventData } from './sse.js';

async function* bytesOf(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield typeof part === 'string' ? new TextEncoder().encode(part) : part;
}

async function dataOf(...parts: (string | Uint8Array)[]): Promise<string[]> {
  const events: string[] = [];
  for await (const data of readEventData(bytesOf(...parts), { maxEventChars: 1024 })) {
    events.push(data);
  }
  return events;
}

describe('readEventData', () => {
  it('yields the data of each event', async () => {
    assert.deepEqual(await dataOf('data: {"a":1}\n\ndata: [DONE]\n\n'), ['{"a":1}', '[DONE]']);
  });

  it('accepts CRLF and CR line ends', async () => {
    assert.deepEqual(await dataOf('data: one\r\n\r\ndata: two\r\rdata: three\n\n'), [
      'one',
      'two',
      'three',
    ]);
  });

  it('joins events split across chunks', async () => {
    assert.deepEqual(await dataOf('da', 'ta: spl', 'it\r', '\n', '\r\n'), ['split']);
  });

  it('decodes characters split across chunks', async () => {
    const bytes = new TextEncoder().encode('data: café ✓\n\n');
    const cut = bytes.indexOf(0xc3) + 1;
    assert.deepEqual(await dataOf(bytes.slice(0, cut), bytes.slice(cut)), ['café ✓']);
  });

  it('skips comments and other fields', async () => {
    assert.deepEqual(await dataOf(': keep-alive\n\nevent: message\nid: 7\ndata: x\n\n'), ['x']);
  });

  it('joins the data lines of one event', async () => {
    assert.deepEqual(await dataOf('data: first\ndata:second\n\n'), ['first\nsecond']);
  });

  it('yields a last event without its blank line', async () => {
    assert.deepEqual(await dataOf('data: [DONE]'), ['[DONE]']);
  });

  it('rejects an event longer than the limit', () => {
    const parser = new EventStreamParser(1024);
    assert.throws(() => parser.push(`data: ${'x'.repeat(2000)}`), GeneratorFailedError);
  });
});
