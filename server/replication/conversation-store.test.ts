import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { connect, type NatsConnection } from '@nats-io/transport-node';

import { startNatsServer, type NatsCluster } from '../../test/support/nats.js';
import { FileConversationStore, type ConversationStore } from './conversation-store.js';
import { NatsConversationStore } from './nats-conversation-store.js';

interface Backend {
  name: string;
  /** Opens a store as one more stream server would, sharing the others' data. */
  open(): Promise<ConversationStore>;
}

let directory: string;
let nats: NatsCluster;
const connections: NatsConnection[] = [];

before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'conversations-'));
  nats = await startNatsServer();
});

after(async () => {
  for (const connection of connections) await connection.close();
  await nats.destroy();
  await rm(directory, { recursive: true, force: true });
});

const backends: Backend[] = [
  { name: 'file', open: async () => new FileConversationStore({ directory }) },
  {
    name: 'nats',
    async open() {
      const connection = await connect({ servers: nats.urls });
      connections.push(connection);
      return NatsConversationStore.open({ connection, bucket: 'conversations' });
    },
  },
];

for (const backend of backends) {
  describe(`${backend.name} conversation store`, () => {
    test('history resumes on another server', async () => {
      const [first, second] = [await backend.open(), await backend.open()];
      for (let i = 0; i < 5; i++) {
        const role = i % 2 ? 'assistant' : 'user';
        await (i < 3 ? first : second).append({
          conversationId: 'resume',
          role,
          text: `t${i}`,
          at: i,
        });
      }

      const history = await second.history('resume', 3);

      assert.deepEqual(
        history.map((turn) => turn.text),
        ['t2', 't3', 't4'],
      );
      assert.deepEqual(history[0], { conversationId: 'resume', role: 'user', text: 't2', at: 2 });
      assert.equal((await first.history('resume')).length, 5);
    });

    test('concurrent appends all land', async () => {
      const stores = [await backend.open(), await backend.open()];
      const appends = Array.from({ length: 10 }, (_, i) =>
        stores[i % 2]!.append({ conversationId: 'busy', role: 'user', text: `q${i}`, at: i }),
      );
      await Promise.all(appends);

      const texts = (await stores[0]!.history('busy')).map((turn) => turn.text).sort();

      assert.deepEqual(texts, Array.from({ length: 10 }, (_, i) => `q${i}`).sort());
    });

    test('unknown conversation has no history', async () => {
      const store = await backend.open();
      assert.deepEqual(await store.history('never-seen', 10), []);
    });

    test('invalid conversation id is rejected', async () => {
      const store = await backend.open();
      await assert.rejects(store.history('../etc/passwd'), {
        code: 'INVALID_ARGUMENT',
        message:
          /conversationId must be 1 to 128 letters, digits, '-' or '_', got "..\/etc\/passwd"/,
      });
    });
  });
}
