import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { StreamClusterError } from '../../server/core/errors.js';

const run = promisify(execFile);

/** Kubernetes release whose binaries the test cluster's build script caches. */
export const KUBE_VERSION = 'v1.36.3';

/** Folder of the cached kube-apiserver and etcd binaries. */
export function kubeBinDir(): string {
  const cache =
    process.env.STREAMCLUSTER_CACHE ?? join(process.env.HOME ?? '/root', '.cache/streamcluster');
  return join(cache, 'kube', KUBE_VERSION, 'bin');
}

/** Returns why a real API server cannot start here, or undefined when it can. */
export function apiServerUnavailable(): string | undefined {
  for (const name of ['etcd', 'kube-apiserver']) {
    const path = join(kubeBinDir(), name);
    if (!existsSync(path)) return `${path} is missing; run test/cluster/build.sh`;
  }
  return undefined;
}

/** A running etcd and kube-apiserver on loopback, for tests that need a real API server. */
export interface TestApiServer {
  url: string;
  kubeConfig: KubeConfig;
  /** A kubeconfig file for kubectl and child processes. */
  kubeconfigPath: string;
  /** Runs the cached kubectl against this API server; resolves to stdout. */
  kubectl(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function start(dir: string, name: string, args: string[]): ChildProcess {
  const log = createWriteStream(join(dir, `${name}.log`));
  const child = spawn(join(kubeBinDir(), name), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

function getStatus(url: string, token?: string): Promise<number> {
  return new Promise((resolve) => {
    const headers = token ? { authorization: `Bearer ${token}` } : undefined;
    const req = request(url, { rejectUnauthorized: false, headers, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  child: ChildProcess,
  dir: string,
) {
  const deadline = Date.now() + 120_000;
  while (!(await check())) {
    if (child.exitCode !== null) {
      throw new StreamClusterError(
        'TEST_SERVER_FAILED',
        `${what} exited with ${child.exitCode}; see ${dir}`,
      );
    }
    if (Date.now() > deadline) {
      throw new StreamClusterError(
        'TEST_SERVER_FAILED',
        `${what} not ready within 120 s; see ${dir}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function writeCredentials(dir: string, token: string): void {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin-uid,"system:masters"\n`);
}

/**
 * Starts etcd and kube-apiserver from the cached binaries in a temporary folder, serving on
 * loopback with a self-signed certificate and an admin token. No controllers or nodes run, so
 * workloads get no pods and nothing is garbage collected; tests drive those parts themselves.
 */
export async function startTestApiServer(): Promise<TestApiServer> {
  const dir = mkdtempSync(join(tmpdir(), 'streamcluster-apiserver-'));
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const token = randomBytes(16).toString('hex');
  writeCredentials(dir, token);

  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const etcd = start(dir, 'etcd', [
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=default=${peerUrl}`,
    '--log-level=warn',
  ]);
  const apiserver = start(dir, 'kube-apiserver', [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${apiPort}`,
    `--cert-dir=${join(dir, 'certs')}`,
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    '--authorization-mode=RBAC',
    '--service-account-issuer=https://kubernetes.default.svc',
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    '--service-cluster-ip-range=10.96.0.0/24',
    // Loopback cannot be advertised as the kubernetes Service endpoint.
    '--endpoint-reconciler-type=none',
    '--advertise-address=10.255.255.1',
    '--v=1',
  ]);
  const url = `https://127.0.0.1:${apiPort}`;
  const stop = async () => {
    for (const child of [apiserver, etcd]) {
      if (child.exitCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      'etcd',
      async () => (await getStatusHttp(`${etcdUrl}/health`)) === 200,
      etcd,
      dir,
    );
    await waitFor(
      'kube-apiserver',
      async () => (await getStatus(`${url}/readyz`, token)) === 200,
      apiserver,
      dir,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const kubeconfigPath = join(dir, 'kubeconfig');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'test', server: url, skipTLSVerify: true }],
    users: [{ name: 'admin', token }],
    contexts: [{ name: 'test', cluster: 'test', user: 'admin' }],
    currentContext: 'test',
  });
  writeFileSync(kubeconfigPath, kubeConfig.exportConfig());
  const kubectl = async (args: string[]) => {
    const { stdout } = await run(join(kubeBinDir(), 'kubectl'), [
      '--kubeconfig',
      kubeconfigPath,
      ...args,
    ]);
    return stdout;
  };
  return { url, kubeConfig, kubeconfigPath, kubectl, stop };
}

async function getStatusHttp(url: string): Promise<number> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return response.status;
  } catch {
    return 0;
  }
}
