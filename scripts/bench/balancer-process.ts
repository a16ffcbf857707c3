// Runs `streamcluster balancer` with the given flags in its own process, for the benchmark.
import { runBalancer } from '../../server/balancer/index.js';

await runBalancer(process.argv.slice(2));
process.stdout.write('ready\n');
