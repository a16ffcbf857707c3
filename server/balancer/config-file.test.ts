import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, symlink, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ValidationError } from '../core/errors.js';
import { silentLogger } from '../core/logger.js';
import { mergeConfig, validateConfig, type PartialBalancerConfig } from './balancer-config.js';
import { ConfigFileWatcher, readConfigFile } from './config-file.js';
import { eventually } from './testing/ws-client.js';

test('config file reads YAML and JSON', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'balancer-config-'));
  try {
    await writeFile(join(folder, 'a.yaml'), 'algorithm: round-robin\npanic:\n  mode: fail\n');
    await writeFile(join(folder, 'b.json'), '{"endpoints":[{"host":"10.0.0.1","port":8080}]}');
    assert.deepEqual(await readConfigFile(join(folder, 'a.yaml')), {
      algorithm: 'round-robin',
      panic: { mode: 'fail' },
    });
    assert.deepEqual(await readConfigFile(join(folder, 'b.json')), {
      endpoints: [{ host: '10.0.0.1', port: 8080 }],
    });
    await writeFile(join(folder, 'c.yaml'), '- not\n- an object\n');
    await assert.rejects(readConfigFile(join(folder, 'c.yaml')), ValidationError);
  } finally {
    await rm(folder, { recursive: true });
  }
});

test('config merge keeps defaults per section', () => {
  const config = mergeConfig({ panic: { mode: 'fail' } }, { healthCheck: { intervalMs: 100 } });
  assert.equal(config.panic.mode, 'fail');
  assert.equal(config.panic.thresholdPercent, 50);
  assert.equal(config.healthCheck.intervalMs, 100);
  assert.equal(config.healthCheck.path, '/readyz');
});

test('config validation lists every problem', () => {
  const layer = {
    algorithm: 'random',
    panic: { thresholdPercent: 150 },
    endpoints: [{ host: '', port: 70000 }],
  } as unknown as PartialBalancerConfig;
  assert.throws(
    () => validateConfig(mergeConfig(layer)),
    (error: unknown) =>
      error instanceof ValidationError &&
      error.problems.length === 4 &&
      error.problems.includes(
        'algorithm must be round-robin or least-connections or latency-aware, got "random"',
      ),
  );
});

test('config watcher follows ConfigMap symlink swaps', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'balancer-watch-'));
  const seen: PartialBalancerConfig[] = [];
  const errors: unknown[] = [];
  // A ConfigMap volume: config.yaml -> ..data/config.yaml, ..data -> a timestamped folder.
  const writeVersion = async (name: string, text: string): Promise<void> => {
    await mkdir(join(folder, name));
    await writeFile(join(folder, name, 'config.yaml'), text);
    await symlink(name, join(folder, '..data_tmp'));
    await rename(join(folder, '..data_tmp'), join(folder, '..data'));
  };
  await writeVersion('v1', 'algorithm: round-robin\n');
  await symlink('..data/config.yaml', join(folder, 'config.yaml'));
  const watcher = new ConfigFileWatcher({
    path: join(folder, 'config.yaml'),
    logger: silentLogger,
    onChange: (config) => seen.push(config),
    onError: (error) => errors.push(error),
    debounceMs: 10,
    pollMs: 200,
  });
  try {
    await watcher.start();
    await writeVersion('v2', 'algorithm: latency-aware\n');
    await eventually(() => seen.length === 2, 3000, 'second config');
    await writeVersion('v3', 'algorithm: [\n');
    await eventually(() => errors.length === 1, 3000, 'parse error');
  } finally {
    watcher.stop();
    await rm(folder, { recursive: true });
  }
  assert.deepEqual(seen, [{ algorithm: 'round-robin' }, { algorithm: 'latency-aware' }]);
  assert.ok(errors[0] instanceof ValidationError);
});
