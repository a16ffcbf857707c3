import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { startNatsServer, type NatsCluster } from '../../test/support/nats.js';
import { openReplication, type ReplicationConfig } from './open-replication.js';

let directory: string;
let nats: NatsCluster;

before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'replication-'));
  nats = await startNatsServer();
});

after(async () => {
  await nats.destroy();
  await rm(directory, { recursive: true, force: true });
});

for (const backend of ['file', 'nats'] as const) {
  test(`open replication with the ${backend} backend`, async () => {
    const config: ReplicationConfig =
      backend === 'file' ? { backend, directory } : { backend, servers: nats.urls };
    const replication = await openReplication(config);
    const turn = { conversationId: 'c1', role: 'user' as const, text: 'hello', at: 1 };

    const seq = await replication.log.append({ type: 'document.delete', documentId: 'd1' });
    await replication.conversations.append(turn);

    assert.equal(seq, 1);
    assert.deepEqual(await replication.conversations.history('c1'), [turn]);
    await replication.close();
  });
}

test('open replication lays out the file backend', async () => {
  assert.deepEqual((await readdir(directory)).sort(), ['conversations', 'log']);
});
