// Runs `streamcluster balancer` with the given flags in its own process, so a test can signal it.
// Prints `listening <port>` on stdout once the proxy listener accepts connections.
import { runBalancer } from '../cli.js';

const balancer = await runBalancer(process.argv.slice(2));
process.stdout.write(`listening ${balancer?.address()?.port}\n`);
