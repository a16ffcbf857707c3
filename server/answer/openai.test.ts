import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';

import {
  sendDelta,
  sleep,
  startChatServer,
  startEventStream,
  streamTokens,
  type ChatHandler,
} from '../../test/support/chat-completions-server.js';
import { NETWORKING_CHUNK, PRINTING_CHUNK, STRADDLING_CHUNK } from '../../test/support/chunks.js';
import { ValidationError } from '../core/errors.js';
import { GeneratorFailedError, GeneratorTimeoutError } from './errors.js';
import { OpenAiGenerator, type OpenAiGeneratorOptions } from './openai.js';
import { NO_ANSWER_TEXT, type AnswerEvent, type AnswerRequest, type Citation } from './types.js';

const API_KEY = 'sk-test-4f9c2e7a1b';
const chunks = [STRADDLING_CHUNK, NETWORKING_CHUNK, PRINTING_CHUNK];
const question: AnswerRequest = {
  question: 'How do I free disk space and set a static address?',
  history: [],
  chunks,
};

// Each test installs its handler here; the server lives for the whole suite.
let handle: ChatHandler = () => {};
let server: Awaited<ReturnType<typeof startChatServer>>;

before(async () => {
  server = await startChatServer((request, response, raw) => handle(request, response, raw));
});
after(() => server.close());

function generator(options: Partial<OpenAiGeneratorOptions> = {}) {
  return new OpenAiGenerator({
    baseUrl: server.baseUrl,
    model: 'test-model',
    apiKeyEnv: 'TEST_API_KEY',
    env: { TEST_API_KEY: API_KEY },
    ...options,
  });
}

async function collect(events: AsyncIterable<AnswerEvent>) {
  const tokens: string[] = [];
  let citations: Citation[] | undefined;
  for await (const event of events) {
    if (event.type === 'token') tokens.push(event.text);
    else citations = event.citations;
  }
  return { tokens, text: tokens.join(''), citations };
}

/** Collects until the iteration throws, and returns the error with the tokens seen before it. */
async function collectFailure(events: AsyncIterable<AnswerEvent>) {
  const tokens: string[] = [];
  try {
    for await (const event of events) if (event.type === 'token') tokens.push(event.text);
  } catch (error) {
    return { error, tokens };
  }
  assert.fail('expected the answer stream to fail');
}

describe('OpenAiGenerator', { timeout: 60_000 }, () => {
  it('streams tokens and cites what the answer cites', async () => {
    const answer = [
      'Run apt clean',
      ' to delete the cached archives [1].',
      ' A static address needs netmask and gateway lines [2].',
    ];
    handle = (_request, response) => streamTokens(response, answer);

    const result = await collect(generator().generate(question));

    assert.deepEqual(result.tokens, answer);
    assert.deepEqual(
      result.citations?.map((citation) => citation.index),
      [1, 2],
    );
    const [first, second] = result.citations!;
    assert.equal(first!.chunkId, 'manual:7');
    assert.equal(first!.quote, 'Run apt clean to delete the cached archives and free disk space.');
    assert.equal(first!.pageStart, 3, 'page of the quoted sentence, not of the whole chunk');
    assert.equal(first!.pageEnd, 3);
    assert.equal(second!.quote, 'A static address needs the address, netmask and gateway lines.');
    assert.equal(second!.pageStart, 6);
  });

  it('sends the request the endpoint expects', async () => {
    handle = (_request, response) => streamTokens(response, ['Yes [1].']);
    const history = [
      { role: 'user' as const, text: 'How are updates installed?' },
      { role: 'assistant' as const, text: 'Automatically [1][2].' },
    ];

    await collect(generator().generate({ ...question, history }));

    const request = server.requests.at(-1)!;
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/v1/chat/completions');
    assert.equal(request.body.model, 'test-model');
    assert.equal(request.body.stream, true);
    const messages = request.body.messages!;
    assert.deepEqual(
      messages.map((message) => message.role),
      ['system', 'user', 'assistant', 'user'],
    );
    assert.equal(messages[2]!.content, 'Automatically.', 'old markers removed');
    const prompt = messages[3]!.content;
    assert.match(prompt, /\[1\] Debian manual\.pdf, pages 3-4:\nThe package manager/);
    assert.match(prompt, /\[3\] Debian manual\.pdf, page 9:\nPrinters are managed/);
    assert.match(prompt, /Question: How do I free disk space and set a static address\?$/);
  });

  it('sends the API key as a bearer token and never logs it', async () => {
    handle = (_request, response) => streamTokens(response, ['Done [1].']);
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(line) });

    await collect(generator({ logger }).generate(question));

    assert.equal(server.requests.at(-1)!.headers.authorization, `Bearer ${API_KEY}`);
    assert.ok(lines.length >= 2, 'the generator logged');
    for (const line of lines) assert.ok(!line.includes(API_KEY), `key in log line ${line}`);
  });

  it('sends no authorization without a key', async () => {
    handle = (_request, response) => streamTokens(response, ['Done [1].']);

    await collect(generator({ env: {} }).generate(question));

    assert.equal(server.requests.at(-1)!.headers.authorization, undefined);
  });

  it('reports HTTP 401 with the endpoint message, key redacted', async () => {
    handle = (_request, response) => {
      response.writeHead(401, { 'content-type': 'application/json' });
      const message = `Incorrect API key provided: ${API_KEY}.`;
      response.end(JSON.stringify({ error: { message, type: 'invalid_request_error' } }));
    };

    const { error } = await collectFailure(generator().generate(question));

    assert.ok(error instanceof GeneratorFailedError);
    assert.equal(error.code, 'GENERATOR_FAILED');
    assert.equal(error.status, 401);
    assert.match(error.message, /HTTP 401: Incorrect API key provided: \[redacted\]\./);
    assert.match(error.message, /check the API key in the environment variable TEST_API_KEY/);
    assert.ok(!error.message.includes(API_KEY));
  });

  it('reports HTTP 500 with the body text', async () => {
    handle = (_request, response) => {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('CUDA out of memory\n');
    };

    const { error } = await collectFailure(generator().generate(question));

    assert.ok(error instanceof GeneratorFailedError);
    assert.equal(error.status, 500);
    assert.match(error.message, /HTTP 500: CUDA out of memory; .*retry later/);
  });

  it('fails when the connection drops mid-stream', async () => {
    handle = async (_request, response, raw) => {
      startEventStream(response);
      sendDelta(response, 'Run apt');
      sendDelta(response, ' clean');
      await sleep(30);
      raw.socket.destroy();
    };

    const { error, tokens } = await collectFailure(generator().generate(question));

    assert.deepEqual(tokens, ['Run apt', ' clean']);
    assert.ok(error instanceof GeneratorFailedError, String(error));
    assert.match(error.message, /answer stream failed: terminated/);
  });

  it('fails when the stream ends before [DONE]', async () => {
    handle = (_request, response) => {
      startEventStream(response);
      sendDelta(response, 'Run apt clean');
      response.end();
    };

    const { error, tokens } = await collectFailure(generator().generate(question));

    assert.deepEqual(tokens, ['Run apt clean']);
    assert.ok(error instanceof GeneratorFailedError);
    assert.match(error.message, /closed the answer stream before \[DONE\]/);
  });

  it('accepts a stream closed after its finish reason', async () => {
    handle = (_request, response) => {
      startEventStream(response);
      sendDelta(response, 'Run apt clean [1].');
      sendDelta(response, '', 'stop');
      response.end();
    };

    const result = await collect(generator().generate(question));

    assert.equal(result.text, 'Run apt clean [1].');
    assert.equal(result.citations?.length, 1);
  });

  it('fails on an error event mid-stream', async () => {
    handle = (_request, response) => {
      startEventStream(response);
      sendDelta(response, 'Run');
      response.end('data: {"error":{"message":"model unloaded"}}\n\n');
    };

    const { error } = await collectFailure(generator().generate(question));

    assert.ok(error instanceof GeneratorFailedError);
    assert.match(error.message, /reported an error mid-stream: model unloaded/);
  });

  it('times out waiting for response headers', async () => {
    handle = () => {};

    const { error } = await collectFailure(generator({ connectTimeoutMs: 100 }).generate(question));

    assert.ok(error instanceof GeneratorTimeoutError, String(error));
    assert.equal(error.code, 'GENERATOR_TIMEOUT');
    assert.equal(error.phase, 'connect');
    assert.match(error.message, /sent no response headers within 100 ms; raise connectTimeoutMs/);
  });

  it('times out waiting for the first token', async () => {
    handle = (_request, response) => {
      startEventStream(response);
      sendDelta(response, undefined);
      response.write(': keep-alive\n\n');
    };

    const { error, tokens } = await collectFailure(
      generator({ firstTokenTimeoutMs: 150 }).generate(question),
    );

    assert.deepEqual(tokens, []);
    assert.ok(error instanceof GeneratorTimeoutError, String(error));
    assert.equal(error.phase, 'first-token');
    assert.equal(error.timeoutMs, 150);
  });

  it('times out when the stream goes idle', async () => {
    handle = (_request, response) => {
      startEventStream(response);
      sendDelta(response, 'Run apt');
    };

    const { error, tokens } = await collectFailure(
      generator({ idleTimeoutMs: 150 }).generate(question),
    );

    assert.deepEqual(tokens, ['Run apt']);
    assert.ok(error instanceof GeneratorTimeoutError, String(error));
    assert.equal(error.phase, 'idle');
  });

  it('does not count a slow consumer as idle', async () => {
    handle = (_request, response) => streamTokens(response, ['Run', ' apt', ' clean [1].']);

    const tokens: string[] = [];
    for await (const event of generator({ idleTimeoutMs: 200 }).generate(question)) {
      if (event.type !== 'token') continue;
      tokens.push(event.text);
      await sleep(500);
    }

    assert.equal(tokens.join(''), 'Run apt clean [1].');
  });

  it('stops and closes the connection when aborted mid-stream', { timeout: 10_000 }, async () => {
    let closedEarly: Promise<boolean> | undefined;
    handle = (_request, response) => {
      closedEarly = once(response, 'close').then(() => !response.writableEnded);
      return streamTokens(response, Array(100).fill(' word'), 20);
    };
    const controller = new AbortController();

    const tokens: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const event of generator().generate({
          ...question,
          signal: controller.signal,
        })) {
          if (event.type === 'token') tokens.push(event.text);
          if (tokens.length === 2) controller.abort();
        }
      })(),
      { name: 'AbortError' },
    );

    assert.equal(tokens.length, 2);
    assert.equal(await closedEarly, true, 'connection closed before the stream ended');
  });

  it('closes the connection when the consumer stops early', { timeout: 10_000 }, async () => {
    let closedEarly: Promise<boolean> | undefined;
    handle = (_request, response) => {
      closedEarly = once(response, 'close').then(() => !response.writableEnded);
      return streamTokens(response, Array(100).fill(' word'), 20);
    };

    for await (const event of generator().generate(question)) {
      if (event.type === 'token') break;
    }

    assert.equal(await closedEarly, true, 'connection closed before the stream ended');
  });

  it('fails clearly when the endpoint is not listening', async () => {
    const stopped = await startChatServer(() => {});
    await stopped.close();

    const { error } = await collectFailure(
      generator({ baseUrl: stopped.baseUrl }).generate(question),
    );

    assert.ok(error instanceof GeneratorFailedError);
    assert.match(error.message, /answer stream failed: fetch failed \(.*ECONNREFUSED/);
  });

  it('answers without a request when nothing was retrieved', async () => {
    const before = server.requests.length;

    const result = await collect(generator().generate({ ...question, chunks: [] }));

    assert.equal(result.text, NO_ANSWER_TEXT);
    assert.deepEqual(result.citations, []);
    assert.equal(server.requests.length, before);
  });

  it('rejects invalid options, listing each', () => {
    assert.throws(
      () => generator({ baseUrl: 'ftp://example', model: '', idleTimeoutMs: 0 }),
      (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.deepEqual(error.problems, [
          'baseUrl must be an http or https URL, got "ftp://example"',
          'model must be a model name, got ""',
          `idleTimeoutMs must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got 0`,
        ]);
        return true;
      },
    );
  });
});
