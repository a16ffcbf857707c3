import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandReferences } from './container-env.js';
import { defaultImageTable, resolveCommand } from './image-table.js';
import { rewritePaths } from './pod-volumes.js';

const table = defaultImageTable('/repo');

describe('resolveCommand', () => {
  it('runs the project image entry point with container args', () => {
    const command = resolveCommand(table, {
      name: 'server',
      image: 'ghcr.io/acme/streamcluster:1.2',
      args: ['serve'],
    });
    assert.equal(command.file, process.execPath);
    assert.deepEqual(command.args, ['bin/streamcluster.js', 'serve']);
    assert.equal(command.cwd, '/repo');
  });

  it('lets the container command replace the entrypoint', () => {
    const command = resolveCommand(table, {
      name: 'app',
      image: 'node:20',
      command: ['node', 'app.mjs'],
      args: ['-v'],
    });
    assert.deepEqual([command.file, ...command.args], [process.execPath, 'app.mjs', '-v']);
  });

  it('maps the NATS image to nats-server', () => {
    const command = resolveCommand(table, {
      name: 'nats',
      image: 'nats:2.10-alpine',
      args: ['--jetstream'],
    });
    assert.deepEqual([command.file, ...command.args], ['nats-server', '--jetstream']);
  });

  it('rejects an unmapped image', () => {
    assert.throws(() => resolveCommand(table, { name: 'db', image: 'postgres:16' }), {
      code: 'IMAGE_NOT_MAPPED',
    });
  });
});

describe('rewritePaths', () => {
  const mounts = [
    { mountPath: '/data', localPath: '/tmp/c/volumes/pvc-1' },
    { mountPath: '/data/models', localPath: '/tmp/c/models' },
  ];

  it('rewrites whole path segments after = and at the start', () => {
    assert.equal(rewritePaths('--dir=/data/index', mounts), '--dir=/tmp/c/volumes/pvc-1/index');
    assert.equal(rewritePaths('/data', mounts), '/tmp/c/volumes/pvc-1');
  });

  it('prefers the longest mount path', () => {
    assert.equal(rewritePaths('/data/models/a', mounts), '/tmp/c/models/a');
  });

  it('leaves other paths alone', () => {
    assert.equal(rewritePaths('/database', mounts), '/database');
    assert.equal(rewritePaths('http://x/data', mounts), 'http://x/data');
  });
});

describe('expandReferences', () => {
  it('expands known names and keeps unknown ones and escapes', () => {
    const env = { PORT: '8080' };
    assert.equal(
      expandReferences('--port=$(PORT) $(NOPE) $$(PORT)', env),
      '--port=8080 $(NOPE) $(PORT)',
    );
  });
});
