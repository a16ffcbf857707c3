// A WebSocket echo endpoint in its own process, for the benchmark. Prints `listening <port>`.
import { startWsBackend } from '../../server/balancer/testing/ws-backend.js';

const backend = await startWsBackend('bench');
process.stdout.write(`listening ${backend.port}\n`);
