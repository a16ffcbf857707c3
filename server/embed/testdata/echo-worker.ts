// Worker for the pool tests: echoes requests, and fails on purpose for a few request texts.
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';

import { serveWorker } from '../worker-protocol.js';

/** workerData of the echo worker. */
export interface EchoWorkerData {
  failSetup?: boolean;
}

/** One request; `text` selects a failure: `exit`, `uncaught` or `reject`. */
export interface EchoRequest {
  text: string;
  delayMs?: number;
}

serveWorker<{ threadId: number }, EchoRequest, { text: string; threadId: number }>(async (data) => {
  if ((data as EchoWorkerData).failSetup) throw new Error('setup failed on purpose');
  return {
    info: { threadId },
    async handle(request) {
      if (request.text === 'exit') process.exit(7);
      if (request.text === 'uncaught') {
        setTimeout(() => {
          throw new Error('uncaught error on purpose');
        });
        await sleep(60_000);
      }
      if (request.text === 'reject') throw new Error('request failed on purpose');
      await sleep(request.delayMs ?? 0);
      return { result: { text: request.text.toUpperCase(), threadId } };
    },
  };
});
