// Measures the balancer side by side with a direct connection and HAProxy, in one run on loopback:
// echo round trips per second and their p99 latency, upgrades per second, and memory per idle
// proxied connection. Every phase runs for a fixed time or count, so the run always ends.
//
//   node --import tsx scripts/bench/balancer.ts [--seconds 5] [--clients 32] [--idle 2000] [--rounds 3]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const seconds = Number(args.get('seconds') ?? 5);
const clients = Number(args.get('clients') ?? 32);
const idleConnections = Number(args.get('idle') ?? 2000);
const rounds = Number(args.get('rounds') ?? 3);
const payload = 'x'.repeat(64);

const children: ChildProcess[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'balancer-bench-'));
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts a process and waits until it prints a line matching `ready`. */
async function startProcess(
  command: string,
  argv: string[],
  ready: RegExp,
): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(command, argv, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  children.push(child);
  let output = '';
  for await (const chunk of child.stdout!) {
    output += String(chunk);
    const match = ready.exec(output);
    if (match) return { child, line: match[0] };
  }
  throw new Error(`${command} exited before it was ready: ${output}`);
}

function tsx(script: string): string[] {
  return ['--import', 'tsx', new URL(script, import.meta.url).pathname];
}

async function waitForPort(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createServer().listen(port, '127.0.0.1');
      socket.on('listening', () => socket.close(() => resolve(false)));
      socket.on('error', () => resolve(true));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on port ${port}`);
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('message', () => resolve(ws)); // the backend greets first
    ws.once('error', reject);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Closed-loop echo: each client keeps one message in flight for `seconds`. */
async function measureEcho(
  url: string,
): Promise<{ messagesPerSecond: number; p50Ms: number; p99Ms: number }> {
  const sockets = await Promise.all(Array.from({ length: clients }, () => open(url)));
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          let sentAt = 0;
          const send = (): void => {
            if (performance.now() >= deadline) return resolve();
            sentAt = performance.now();
            ws.send(payload);
          };
          ws.on('message', () => {
            latencies.push(performance.now() - sentAt);
            send();
          });
          send();
        }),
    ),
  );
  for (const ws of sockets) ws.terminate();
  latencies.sort((a, b) => a - b);
  return {
    messagesPerSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

/**
 * Opens connections from 8 workers for `seconds`, each until the backend's first message, then
 * drops it without a closing handshake, so the figure is the handshake rate and not the close path.
 */
async function measureUpgrades(url: string): Promise<number> {
  let count = 0;
  const deadline = performance.now() + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const ws = await open(url);
      count++;
      ws.terminate();
      await once(ws, 'close');
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return count / seconds;
}

function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

/** Opens `idleConnections` idle WebSockets and returns the proxy's RSS growth per connection. */
async function measureIdleMemory(url: string, pid: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 500));
  const before = rssKiB(pid);
  const sockets: WebSocket[] = [];
  for (let i = 0; i < idleConnections; i += 100) {
    sockets.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(100, idleConnections - i) }, () => open(url)),
      )),
    );
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = rssKiB(pid);
  for (const ws of sockets) ws.terminate();
  await new Promise((resolve) => setTimeout(resolve, 500));
  return ((after - before) * 1024) / idleConnections;
}

function haproxyConfig(port: number, backendPort: number): string {
  return [
    'global',
    '  maxconn 8000',
    '  nbthread 1',
    'defaults',
    '  mode http',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout tunnel 1h',
    'frontend websocket',
    `  bind 127.0.0.1:${port}`,
    '  default_backend streams',
    'backend streams',
    `  server s1 127.0.0.1:${backendPort}`,
    '',
  ].join('\n');
}

/**
 * Starts HAProxy on a free port. Another process may take the port between the probe and
 * HAProxy's bind, so a failed start is retried on a new port, three times at most.
 */
async function startHaproxy(
  backendPort: number,
): Promise<{ haproxy: ChildProcess; haproxyPort: number }> {
  const configPath = join(scratch, 'haproxy.cfg');
  for (let attempt = 1; ; attempt++) {
    const haproxyPort = await freePort();
    writeFileSync(configPath, haproxyConfig(haproxyPort, backendPort));
    const haproxy = spawn('haproxy', ['-f', configPath, '-db'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(haproxy);
    const exited = once(haproxy, 'exit').then(() => false);
    const started = await Promise.race([
      waitForPort(haproxyPort).then(
        () => true,
        () => false,
      ),
      exited,
    ]);
    if (started) return { haproxy, haproxyPort };
    if (attempt === 3)
      throw new Error('HAProxy failed to start three times; see its messages above');
  }
}

async function main(): Promise<void> {
  const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const haproxyVersion =
    spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? '';
  if (!haproxyVersion)
    throw new Error('haproxy is not installed; run scripts/setup/10-balancer.sh');

  const backend = await startProcess(
    process.execPath,
    tsx('../../server/balancer/testing/ws-backend-process.ts'),
    /listening (\d+)/,
  );
  const backendPort = Number(/\d+/.exec(backend.line)![0]);

  const balancer = await startProcess(
    process.execPath,
    [
      ...tsx('../../server/balancer/testing/balancer-process.ts'),
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--admin-port',
      '0',
      '--endpoints',
      `127.0.0.1:${backendPort}`,
    ],
    /listening (\d+)/,
  );
  const balancerPort = Number(/\d+/.exec(balancer.line)![0]);

  const { haproxy, haproxyPort } = await startHaproxy(backendPort);

  const targets = [
    { name: 'direct', url: `ws://127.0.0.1:${backendPort}/`, pid: undefined },
    {
      name: 'streamcluster balancer',
      url: `ws://127.0.0.1:${balancerPort}/`,
      pid: balancer.child.pid,
    },
    {
      name: `HAProxy (${haproxyVersion.split(' ').slice(0, 3).join(' ')}, nbthread 1)`,
      url: `ws://127.0.0.1:${haproxyPort}/`,
      pid: haproxy.pid,
    },
  ];
  // Warm-up, so JIT compilation does not count against whichever target runs first.
  for (const target of targets) await measureEcho(target.url);

  // Rounds interleave the targets, so a burst of load from elsewhere on the machine hits all of
  // them alike; each figure is the median over the rounds.
  const echoRuns = new Map(
    targets.map((target) => [target.name, [] as Awaited<ReturnType<typeof measureEcho>>[]]),
  );
  const upgradeRuns = new Map(targets.map((target) => [target.name, [] as number[]]));
  for (let round = 0; round < rounds; round++) {
    for (const target of targets) echoRuns.get(target.name)!.push(await measureEcho(target.url));
    for (const target of targets)
      upgradeRuns.get(target.name)!.push(await measureUpgrades(target.url));
  }
  const median = (values: number[]): number =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

  const rows: string[] = [];
  const directP99 = median(echoRuns.get('direct')!.map((run) => run.p99Ms));
  for (const target of targets) {
    const runs = echoRuns.get(target.name)!;
    const p99 = median(runs.map((run) => run.p99Ms));
    const memory = target.pid ? (await measureIdleMemory(target.url, target.pid)).toFixed(0) : '-';
    const added = target.name === 'direct' ? '-' : (p99 - directP99).toFixed(3);
    rows.push(
      `| ${target.name} | ${median(runs.map((run) => run.messagesPerSecond)).toFixed(0)} | ${median(runs.map((run) => run.p50Ms)).toFixed(3)} | ${p99.toFixed(3)} | ${added} | ${median(upgradeRuns.get(target.name)!).toFixed(0)} | ${memory} |`,
    );
  }
  process.stdout.write(
    [
      `${clients} clients, 64-byte echo for ${seconds} s per target and round; 8 workers opening connections for ${seconds} s; median of ${rounds} interleaved rounds; ${idleConnections} idle connections; load average before the run: ${loadBefore}`,
      '',
      '| Path | Messages/s | p50 ms | p99 ms | Added p99 ms | Upgrades/s | Bytes RSS per idle connection |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
    ].join('\n'),
  );
}

await main();
process.exit(0);
