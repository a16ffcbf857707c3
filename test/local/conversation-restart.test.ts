import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { StreamClusterClient } from '../../client/client.js';
import type { AnswerEvent } from '../../client/types.js';
import {
  startChatServer,
  streamTokens,
  type ChatServer,
} from '../support/chat-completions-server.js';
import { startServerProcess, waitUntil, type ServerProcess } from '../support/server-process.js';

const MANUAL = [
  'Chapter one. The ferry to Inishmore leaves Rossaveal at ten in the morning.',
  'Tickets are sold at the pier office, which opens an hour before departure.',
  'Bicycles travel free of charge on every crossing.',
].join(' ');

const QUESTION = 'When does the ferry to Inishmore leave?';
const FOLLOW_UP = 'And where are tickets sold?';
const ANSWER_TOKENS = ['The ferry ', 'leaves at ten ', '[1].'];
const CONVERSATION_ID = 'ferry-trip';

/** Runs one question to its end and returns the answer text. */
async function ask(server: ServerProcess, question: string, minSeq?: number): Promise<string> {
  const client = new StreamClusterClient({ urls: server.url, reconnect: false });
  try {
    let answer = '';
    const events: AsyncIterable<AnswerEvent> = client.ask(question, {
      conversationId: CONVERSATION_ID,
      minSeq,
    });
    for await (const event of events) {
      if (event.type === 'answer.token') answer += event.text;
    }
    return answer;
  } finally {
    client.close();
  }
}

/** Returns the lastAppliedSeq of the newest snapshot generation on the server's volume. */
async function newestSnapshotSeq(server: ServerProcess): Promise<number> {
  const indexDir = join(server.dataDir, 'index');
  const names = (await readdir(indexDir)).filter((name) => name.startsWith('generation-'));
  const newest = names.sort().at(-1);
  if (newest === undefined) return 0;
  const text = await readFile(join(indexDir, newest, 'manifest.json'), 'utf8');
  return (JSON.parse(text) as { manifest: { lastAppliedSeq: number } }).manifest.lastAppliedSeq;
}

/** Returns the JSON log lines of the server's current run that carry message `msg`. */
function logLines(server: ServerProcess, msg: string): Array<Record<string, unknown>> {
  return server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === msg);
}

/**
 * A stream server that restarts on its own volume must answer follow-up questions of
 * conversations from before its last snapshot. The server runs as a child process, so it can be
 * killed with SIGKILL, and generates answers with the OpenAI-compatible generator pointed at a local fake
 * that records the chat messages, history included.
 */
describe('conversation after a restart', () => {
  let chat: ChatServer;
  let server: ServerProcess;

  before(async () => {
    chat = await startChatServer((_request, response) => streamTokens(response, ANSWER_TOKENS));
    server = await startServerProcess('restarted', [
      '--answer-generator',
      'openai',
      '--openai-base-url',
      chat.baseUrl,
      '--openai-model',
      'fake',
      '--snapshot-interval-ms',
      '1000',
    ]);
  });

  after(async () => {
    await server?.destroy();
    await chat?.close();
  });

  it('keeps history from before the snapshot', async () => {
    const client = new StreamClusterClient({ urls: server.url, reconnect: false });
    const ingested = await client
      .ingest(Buffer.from(MANUAL), { name: 'ferry.txt' })
      .finally(() => client.close());
    const answer = await ask(server, QUESTION, ingested.seq);
    assert.equal(answer, ANSWER_TOKENS.join(''));

    // The question and the answer are the two records after the document.
    const turnsSeq = ingested.seq + 2;
    await waitUntil('the turns to be applied', async () => {
      return (await server.stats()).lastAppliedSeq === turnsSeq;
    });
    await waitUntil('a snapshot that holds the turns', async () => {
      return (await newestSnapshotSeq(server)) === turnsSeq;
    });
    await server.kill('SIGKILL');
    await server.start();

    // The log lines reach the output asynchronously. Once the replay's start is there, the
    // snapshot load logged before it is there too.
    await waitUntil('the restarted server to read the log', async () => {
      return logLines(server, 'applying the log').length > 0;
    });
    const [loaded] = logLines(server, 'loaded snapshot generation');
    assert.equal(loaded?.lastAppliedSeq, turnsSeq);
    assert.equal(loaded?.conversations, 1);
    // Nothing is left to replay, so the history can only come from the snapshot.
    assert.equal(logLines(server, 'applying the log')[0]!.fromSeq, turnsSeq + 1);

    await ask(server, FOLLOW_UP);
    assert.equal(chat.requests.length, 2);
    const messages = chat.requests[1]!.body.messages!;
    assert.equal(messages.length, 4, JSON.stringify(messages));
    assert.deepEqual(messages[1], { role: 'user', content: QUESTION });
    assert.deepEqual(messages[2], { role: 'assistant', content: 'The ferry leaves at ten.' });
    assert.equal(messages[3]!.role, 'user');
    assert.match(messages[3]!.content, /Question: And where are tickets sold\?$/);
  });

  it('keeps only --history-max-turns turns', async () => {
    const limited = await startServerProcess('limited', [
      '--answer-generator',
      'openai',
      '--openai-base-url',
      chat.baseUrl,
      '--openai-model',
      'fake',
      '--history-max-turns',
      '2',
    ]);
    try {
      const client = new StreamClusterClient({ urls: limited.url, reconnect: false });
      const ingested = await client
        .ingest(Buffer.from(MANUAL), { name: 'ferry.txt' })
        .finally(() => client.close());
      const before = chat.requests.length;
      await ask(limited, QUESTION, ingested.seq);
      await ask(limited, FOLLOW_UP, ingested.seq + 2);
      await ask(limited, 'Do bicycles cost extra?', ingested.seq + 4);

      assert.equal(chat.requests.length, before + 3);
      const messages = chat.requests.at(-1)!.body.messages!;
      // The system prompt, the last two turns (the follow-up and its answer) and the question.
      assert.equal(messages.length, 4, JSON.stringify(messages));
      assert.deepEqual(messages[1], { role: 'user', content: FOLLOW_UP });
      assert.equal(messages[2]!.role, 'assistant');
    } finally {
      await limited.destroy();
    }
  });
});
