// The `streamcluster` command as a user starts it: bin/streamcluster.js. Ctrl-C in a terminal
// sends SIGINT to the whole foreground process group, and `kill -9 $!` reaches only the pid the
// shell started, so both must act on the server process itself.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { StreamClusterClient } from '../../client/client.js';
import { freePort } from '../support/nats.js';
import { waitUntil } from '../support/server-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COMMAND = join(ROOT, 'bin', 'streamcluster.js');

/** Starts `streamcluster server` in its own process group, as a shell's foreground job. */
async function startCommand(dataDir: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const args = ['server', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir];
  const child = spawn(process.execPath, [COMMAND, ...args, '--embed-workers', '1'], {
    cwd: ROOT,
    detached: true,
    stdio: 'ignore',
  });
  await waitUntil('the command to serve', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    return response?.status === 200;
  });
  return { child, port };
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('streamcluster command', () => {
  const folders: string[] = [];
  const started: ChildProcess[] = [];

  after(async () => {
    for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  it('drains and snapshots on Ctrl-C to its process group', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'streamcluster-command-'));
    folders.push(dataDir);
    const { child, port } = await startCommand(dataDir);
    started.push(child);
    const client = new StreamClusterClient({ urls: `ws://127.0.0.1:${port}`, reconnect: false });
    await client.ingest(Buffer.from('The lamp of Port Alder was first lit in 1874.'), {
      name: 'lamp.txt',
    });
    client.close();

    const exited = once(child, 'exit');
    process.kill(-child.pid!, 'SIGINT');
    const [code] = await exited;

    assert.equal(code, 0);
    const generations = (await readdir(join(dataDir, 'index'))).filter((name) =>
      name.startsWith('generation-'),
    );
    assert.equal(generations.length, 1, 'the drain wrote its final snapshot');
  });

  it('stops serving when its pid is killed', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'streamcluster-command-'));
    folders.push(dataDir);
    const { child, port } = await startCommand(dataDir);
    started.push(child);

    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;

    await waitUntil('the port to close', async () => !(await portOpen(port)), 10_000);
  });
});
