import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { StreamClusterError } from '../../server/core/errors.js';
import { forwardTcpToUnix } from './forward.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

/** Options of {@link startTestCluster}. */
export interface TestClusterOptions {
  /** Number of KWOK nodes; default 3. */
  nodes?: number;
  /** Cluster folder; default a new folder under /tmp. */
  dir?: string;
  /** Limit for up.sh, including a first build of the binaries; default 40 minutes. */
  startTimeoutMs?: number;
}

/** Options of {@link TestCluster.kubectl} and {@link TestCluster.execInNamespace}. */
export interface CommandOptions {
  /** Text written to the command's stdin. */
  input?: string;
  /** Limit before the command is killed; default 60 s. */
  timeoutMs?: number;
}

/** A loopback port on the host that reaches an address inside the cluster's namespace. */
export interface PortForward {
  port: number;
  close(): Promise<void>;
}

/** A running test cluster. */
export interface TestCluster {
  /** Folder with logs/, pki/, pods/ (container logs and volumes) and volumes/ (claims). */
  dir: string;
  /** Name of the cluster's network namespace; pods get namespaces named `${netns}-N`. */
  netns: string;
  /** Path of an admin kubeconfig that works from the host. */
  kubeconfig: string;
  /** The API server's URL on the host (a loopback forwarder). */
  apiServerUrl: string;
  /** Path of the kubectl binary of the cluster's version. */
  kubectlPath: string;
  /** Runs kubectl against the cluster; resolves to stdout, rejects with stderr on failure. */
  kubectl(args: string[], options?: CommandOptions): Promise<string>;
  /** Runs a command inside the cluster's namespace, where pod addresses are reachable. */
  execInNamespace(argv: string[], options?: CommandOptions): Promise<string>;
  /**
   * Returns a host loopback port that forwards to host:port inside the namespace. The forwarder
   * is opened on first use and shared by later calls until it is closed or the cluster stops.
   */
  forward(host: string, port: number): Promise<PortForward>;
  /** Stops every process and removes the namespaces; keeps the folder when keep is true. */
  stop(options?: { keep?: boolean }): Promise<void>;
}

/**
 * Tells whether this machine can run the test cluster: it needs root and `ip netns`. Returns
 * the reason when it cannot, for a test's skip message.
 */
export function testClusterSupport(): { supported: true } | { supported: false; reason: string } {
  if (process.getuid?.() !== 0) {
    return { supported: false, reason: 'the test cluster needs root to create network namespaces' };
  }
  const probe = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    const detail = probe.error?.message ?? probe.stderr.trim();
    return {
      supported: false,
      reason: `the test cluster needs \`ip netns\` (iproute2): ${detail}`,
    };
  }
  return { supported: true };
}

/**
 * Starts a test cluster with up.sh (building its binaries first when the cache lacks them) and
 * returns handles to use and stop it. Throws with code CLUSTER_START_FAILED and up.sh's output.
 */
export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const args = ['--nodes', String(options.nodes ?? 3)];
  if (options.dir !== undefined) args.push('--dir', options.dir);
  let stdout: string;
  try {
    ({ stdout } = await run('bash', [join(here, 'up.sh'), ...args], {
      timeout: options.startTimeoutMs ?? 40 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    }));
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr || String(error);
    throw new StreamClusterError('CLUSTER_START_FAILED', `test/cluster/up.sh failed:\n${stderr}`, {
      cause: error,
    });
  }
  const exported = parseExports(stdout);
  const dir = exported.CLUSTER_DIR!;
  const kubeconfig = exported.KUBECONFIG!;
  const kubectlPath = join(exported.PATH!.split(':')[0]!, 'kubectl');
  const port = readFileSync(join(dir, 'run', 'api-server.port'), 'utf8').trim();
  return createHandle(
    dir,
    exported.CLUSTER_NETNS!,
    kubeconfig,
    kubectlPath,
    `https://127.0.0.1:${port}`,
  );
}

function createHandle(
  dir: string,
  netns: string,
  kubeconfig: string,
  kubectlPath: string,
  apiServerUrl: string,
): TestCluster {
  /** Forwarders by host:port, shared by every caller of forward(). */
  const opened = new Map<string, Promise<PortForward>>();
  const command = async (
    file: string,
    argv: string[],
    options: CommandOptions = {},
  ): Promise<string> => runWithInput(file, argv, options);
  let counter = 0;
  return {
    dir,
    netns,
    kubeconfig,
    apiServerUrl,
    kubectlPath,
    kubectl: (args, options) =>
      command(kubectlPath, ['--kubeconfig', kubeconfig, ...args], options),
    execInNamespace: (argv, options) => command('ip', ['netns', 'exec', netns, ...argv], options),
    forward(host, port) {
      const key = `${host}:${port}`;
      const open = opened.get(key);
      if (open) return open;
      const pending = openForward(host, port, () => opened.delete(key));
      opened.set(key, pending);
      // A forwarder that failed to open is tried again by the next call.
      pending.catch(() => opened.delete(key));
      return pending;
    },
    async stop(stopOptions = {}) {
      const open = await Promise.all(
        [...opened.values()].map((pending) => pending.catch(() => undefined)),
      );
      await Promise.all(open.map((forward) => forward?.close()));
      const args = stopOptions.keep === true ? ['--keep', dir] : [dir];
      await run('bash', [join(here, 'down.sh'), ...args], { timeout: 120_000 });
    },
  };

  async function openForward(host: string, port: number, onClose: () => void) {
    const socket = join(dir, 'run', `forward-${++counter}.sock`);
    const inside = spawn(
      'ip',
      [
        'netns',
        'exec',
        netns,
        process.execPath,
        '--import',
        'tsx',
        join(here, 'forward.ts'),
        'unix-to-tcp',
        socket,
        host,
        String(port),
      ],
      { stdio: 'ignore', cwd: join(here, '../..') },
    );
    await waitForFile(socket, inside);
    const outside = await forwardTcpToUnix(socket);
    const handle: PortForward = {
      port: outside.port!,
      async close() {
        onClose();
        await outside.close();
        inside.kill();
      },
    };
    return handle;
  }
}

function runWithInput(file: string, argv: string[], options: CommandOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      argv,
      { timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve(stdout);
          return;
        }
        const message = `${file} ${argv.join(' ')} failed: ${stderr.trim() || error.message}`;
        reject(new StreamClusterError('COMMAND_FAILED', message, { cause: error }));
      },
    );
    child.stdin?.end(options.input);
  });
}

async function waitForFile(path: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (child.exitCode !== null)
      throw new StreamClusterError(
        'FORWARD_FAILED',
        `forwarder for ${path} exited with ${child.exitCode}`,
      );
    if (Date.now() > deadline)
      throw new StreamClusterError(
        'FORWARD_FAILED',
        `forwarder socket ${path} did not appear within ${timeoutMs} ms`,
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function parseExports(stdout: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const match = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match !== null) values[match[1]!] = match[2]!;
  }
  return values;
}
