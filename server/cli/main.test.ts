// The `streamcluster` command run as a user runs it, checking exit codes and the one-line
// messages of startup failures.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const COMMAND = fileURLToPath(new URL('../../bin/streamcluster.js', import.meta.url));

async function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [COMMAND, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

describe('streamcluster command failures', () => {
  it('reports a port in use in one line and exits 1', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as { port: number };
    try {
      const { code, stderr } = await run([
        'balancer',
        '--endpoints',
        '127.0.0.1:1',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--admin-port',
        '0',
      ]);
      assert.equal(code, 1);
      assert.match(
        stderr,
        new RegExp(`^balancer: 127\\.0\\.0\\.1:${port} is already in use; `, 'm'),
      );
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    } finally {
      holder.close();
    }
  });

  it('reports a missing config file in one line and exits 1', async () => {
    const { code, stderr } = await run(['balancer', '--config', '/nonexistent/balancer.yaml']);
    assert.equal(code, 1);
    assert.match(stderr, /^balancer: ENOENT: .*\/nonexistent\/balancer\.yaml'; check the path/m);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  });

  it('rejects a URL that is not ws:// as bad usage', async () => {
    const { code, stderr } = await run(['ask', '--url', 'notaurl', 'When?']);
    assert.equal(code, 2);
    assert.match(
      stderr,
      /--url must be ws:\/\/host:port or wss:\/\/host:port URLs, and "notaurl" is not$/m,
    );
  });

  it('rejects an empty question as bad usage', async () => {
    const { code, stderr } = await run(['ask', ' ']);
    assert.equal(code, 2);
    assert.match(stderr, /^missing QUESTION/);
  });
});
