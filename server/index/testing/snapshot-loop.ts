// Child process for the crash tests: opens a store in the data directory given as argv[2], then
// applies rounds of two entries, a document at seq 2k - 1 and a conversation turn at seq 2k, and
// snapshots after each round. It prints {"acknowledged": seq} once a snapshot is durable, until
// it is killed.
import { DocumentStore } from '../document-store.js';
import { entry, putRecord, turnRecord } from './fixtures.js';

const [dataDir, dimensionArg, chunksArg] = process.argv.slice(2);
const dimension = Number(dimensionArg);
const chunksPerDocument = Number(chunksArg);

const store = await DocumentStore.open({ dimension, dataDir });
process.stdout.write(JSON.stringify({ opened: store.lastAppliedSeq }) + '\n');
for (let round = Math.floor(store.lastAppliedSeq / 2) + 1; ; round++) {
  const seq = 2 * round;
  await store.apply(entry(seq - 1, putRecord(`doc${round}`, chunksPerDocument, dimension, round)));
  await store.apply(entry(seq, turnRecord(`c${round}`, `turn ${round}`)));
  await store.snapshot();
  process.stdout.write(JSON.stringify({ acknowledged: seq }) + '\n');
}
