// Runs a test backend in its own process, so a test can kill it with SIGKILL as a crash would.
// Prints `listening <port>` on stdout once it accepts connections.
import { startWsBackend } from './ws-backend.js';

const backend = await startWsBackend(process.argv[2] ?? 'child');
process.stdout.write(`listening ${backend.port}\n`);
