// Child process for FileLog tests: appends records to a shared directory and prints one line
// `acked <seq> <name>` per acknowledged append, so the parent knows what must survive a kill.
// Usage: node --import tsx file-log-writer.ts <directory> <name> <count|forever> [chunkCount]
import { FileLog } from '../../server/replication/file-log.js';
import { makeDocumentRecord } from './records.js';

const [directory, name, countArg, chunkArg] = process.argv.slice(2);
if (!directory || !name || !countArg) {
  console.error('usage: file-log-writer.ts <directory> <name> <count|forever> [chunkCount]');
  process.exit(2);
}
const count = countArg === 'forever' ? Infinity : Number(countArg);
const chunkCount = Number(chunkArg ?? 20);
const inFlight = 4;

const log = await FileLog.open({ directory });
let next = 0;
async function appendLoop(): Promise<void> {
  while (next < count) {
    const recordName = `${name}-${next++}`;
    const seq = await log.append(makeDocumentRecord({ name: recordName, chunkCount }));
    process.stdout.write(`acked ${seq} ${recordName}\n`);
  }
}
await Promise.all(Array.from({ length: inFlight }, () => appendLoop()));
await log.close();
