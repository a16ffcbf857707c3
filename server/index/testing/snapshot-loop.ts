// Child process for the crash tests: opens a store in the data directory given as argv[2], then
// applies one document per seq and snapshots after each, printing {"acknowledged": seq} once a
// snapshot is durable, until it is killed.
import { DocumentStore } from '../document-store.js';
import { entry, putRecord } from './fixtures.js';

const [dataDir, dimensionArg, chunksArg] = process.argv.slice(2);
const dimension = Number(dimensionArg);
const chunksPerDocument = Number(chunksArg);

const store = await DocumentStore.open({ dimension, dataDir });
process.stdout.write(JSON.stringify({ opened: store.lastAppliedSeq }) + '\n');
for (let seq = store.lastAppliedSeq + 1; ; seq++) {
  await store.apply(entry(seq, putRecord(`doc${seq}`, chunksPerDocument, dimension, seq)));
  await store.snapshot();
  process.stdout.write(JSON.stringify({ acknowledged: seq }) + '\n');
}
