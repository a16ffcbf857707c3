import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { ValidationError } from '../core/errors.js';
import { silentLogger } from '../core/logger.js';
import { cliOverrides, runBalancer, balancerSettings } from './cli.js';
import { resolveConfig } from '../core/config.js';
import { startWsBackend } from './testing/ws-backend.js';
import { connectClient, eventually, within } from './testing/ws-client.js';

test('cli flags become config overrides', () => {
  const cli = resolveConfig(
    balancerSettings,
    new Map([
      ['endpoints', '10.0.0.1:80;weight=2,10.0.0.2:80'],
      ['algorithm', 'round-robin'],
      ['kubernetes-service', 'stream'],
    ]),
    {},
  );
  assert.deepEqual(
    cliOverrides(cli, () => 'demo'),
    {
      endpoints: [
        { host: '10.0.0.1', port: 80, weight: 2 },
        { host: '10.0.0.2', port: 80 },
      ],
      algorithm: 'round-robin',
      kubernetes: { service: 'stream', namespace: 'demo' },
    },
  );
});

test('cli balancer reloads its config file', async () => {
  const [a, b] = await Promise.all([startWsBackend('a'), startWsBackend('b')]);
  const folder = await mkdtemp(join(tmpdir(), 'balancer-cli-'));
  const file = join(folder, 'balancer.json');
  const endpoints = (port: number) => JSON.stringify({ endpoints: [{ host: '127.0.0.1', port }] });
  await writeFile(file, endpoints(a.port));
  const balancer = await runBalancer(
    ['--port', '0', '--admin-port', '0', '--host', '127.0.0.1', '--config', file],
    { logger: silentLogger, env: {}, handleSignals: false },
  );
  assert.ok(balancer);
  try {
    const url = `ws://127.0.0.1:${balancer.address()!.port}/`;
    const first = await connectClient(url);
    assert.equal(await first.next(), 'hello a');

    await writeFile(file, endpoints(b.port));
    await eventually(
      () => balancer.upstream.endpoints()[0]?.port === b.port,
      7000,
      'reloaded endpoints',
    );
    const second = await connectClient(url);
    assert.equal(await second.next(), 'hello b');
    first.ws.send('after reload');
    assert.equal(await first.next(), 'after reload');
    first.ws.terminate();
    second.ws.terminate();
  } finally {
    await balancer.close();
    await Promise.all([a.close(), b.close()]);
    await rm(folder, { recursive: true });
  }
});

test('cli balancer drains on SIGTERM', async () => {
  const backend = await startWsBackend('a');
  const folder = await mkdtemp(join(tmpdir(), 'balancer-sigterm-'));
  const file = join(folder, 'balancer.yaml');
  await writeFile(
    file,
    `endpoints:\n  - { host: 127.0.0.1, port: ${backend.port} }\ndrain: { timeoutMs: 100 }\n`,
  );
  const script = fileURLToPath(new URL('./testing/balancer-process.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      script,
      '--port',
      '0',
      '--admin-port',
      '0',
      '--host',
      '127.0.0.1',
      '--config',
      file,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, LOG_LEVEL: 'silent' } },
  );
  try {
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    const port = Number(/listening (\d+)/.exec(line.toString())![1]);
    const client = await connectClient(`ws://127.0.0.1:${port}/`);
    assert.equal(await client.next(), 'hello a');

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const closed = await within(client.closed, 5000, 'client close after SIGTERM');
    assert.equal(closed.code, 1012);
    const [code] = (await within(exited, 5000, 'balancer exit')) as [number];
    assert.equal(code, 0);
  } finally {
    child.kill('SIGKILL');
    await backend.close();
    await rm(folder, { recursive: true });
  }
});

test('cli rejects web token without page', async () => {
  await assert.rejects(
    runBalancer(['--web-token', 'page-token'], { logger: silentLogger, env: {} }),
    (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      // Both problems are reported at once.
      assert.equal(error.problems.length, 2);
      assert.match(error.problems[0]!, /^no endpoints to balance/);
      assert.match(error.problems[1]!, /^--web-token .* served only with --web-root/);
      return true;
    },
  );
});

test('cli hides an invalid web token', async () => {
  const token = 'secret/with spaces';
  await assert.rejects(
    runBalancer(['--endpoints', '127.0.0.1:1'], {
      logger: silentLogger,
      env: { STREAMCLUSTER_BALANCER_WEB_TOKEN: token },
    }),
    (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.match(error.message, /^STREAMCLUSTER_BALANCER_WEB_TOKEN must contain only letters/);
      assert.match(error.message, /the value is not shown/);
      assert.doesNotMatch(error.message, /secret/);
      return true;
    },
  );
});

test('cli hides an invalid server token', async () => {
  await assert.rejects(
    runBalancer(['--endpoints', '127.0.0.1:1', '--server-token', 'secret/with spaces'], {
      logger: silentLogger,
      env: {},
    }),
    (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.match(error.message, /^--server-token must contain only letters/);
      assert.match(error.message, /the value is not shown/);
      assert.doesNotMatch(error.message, /secret/);
      return true;
    },
  );
});

test('cli web token protects the endpoint list', async () => {
  const backend = await startWsBackend('a');
  const webRoot = await mkdtemp(join(tmpdir(), 'balancer-cli-web-'));
  await writeFile(join(webRoot, 'index.html'), '<!doctype html><title>page</title>');
  const balancer = await runBalancer(
    [
      '--port',
      '0',
      '--admin-port',
      '0',
      '--host',
      '127.0.0.1',
      '--endpoints',
      `127.0.0.1:${backend.port}`,
    ],
    {
      logger: silentLogger,
      env: {
        STREAMCLUSTER_BALANCER_WEB_ROOT: webRoot,
        STREAMCLUSTER_BALANCER_WEB_TOKEN: 'page-token',
      },
      handleSignals: false,
    },
  );
  assert.ok(balancer);
  try {
    const url = `http://127.0.0.1:${balancer.address()!.port}/ui/api/endpoints`;
    assert.equal((await fetch(url)).status, 401);
    const response = await fetch(url, { headers: { authorization: 'Bearer page-token' } });
    assert.equal(response.status, 200);
  } finally {
    await balancer.close();
    await backend.close();
    await rm(webRoot, { recursive: true });
  }
});
