import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Runs `streamcluster ARGS` from the sources and returns its exit code and output. */
function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { ...process.env, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

describe('cli input errors', () => {
  let folder: string;

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'streamcluster-cli-'));
    await writeFile(join(folder, 'empty.txt'), '');
    await writeFile(join(folder, 'photo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2]));
  });

  after(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  // No server listens on port 9 of loopback; none of these files may need one.
  const url = ['--url', 'ws://127.0.0.1:9'];

  it('ingest names a missing file', async () => {
    const { code, stderr } = await run(['ingest', ...url, join(folder, 'missing.txt')]);
    assert.equal(code, 1);
    assert.match(stderr, /missing\.txt: file not found/);
    assert.doesNotMatch(stderr, /ENOENT/);
  });

  it('ingest rejects an empty file', async () => {
    const { code, stderr } = await run(['ingest', ...url, join(folder, 'empty.txt')]);
    assert.equal(code, 1);
    assert.match(stderr, /empty\.txt: file is empty/);
  });

  it('ingest rejects a binary file', async () => {
    const { code, stderr } = await run(['ingest', ...url, join(folder, 'photo.png')]);
    assert.equal(code, 1);
    assert.match(stderr, /photo\.png is neither a PDF nor UTF-8 text/);
  });

  it('balancer without endpoints is rejected', async () => {
    const { code, stderr } = await run(['balancer', '--port', '0', '--admin-port', '0']);
    assert.equal(code, 2);
    assert.match(stderr, /no endpoints to balance: set --endpoints/);
  });

  it('balancer help matches other commands', async () => {
    const balancer = await run(['balancer', '--help']);
    const ingest = await run(['ingest', '--help']);
    assert.equal(balancer.code, 0);
    assert.match(balancer.stdout, /^usage: streamcluster balancer \[flags\]\n\nflags:\n {2}--port/);
    assert.match(ingest.stdout, /^usage: streamcluster ingest FILE\.\.\.\n\nflags:\n {2}--/);
  });
});
