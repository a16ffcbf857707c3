import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  serverConfig,
  startServer,
  type RunningServer,
  type ServerConfig,
} from '../../server/app/main.js';
import { silentLogger } from '../../server/core/logger.js';

/** A real stream server on a loopback port with its own data directory, for tests. */
export interface TestServer {
  url: string;
  httpUrl: string;
  running: RunningServer;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Starts a stream server with the real model, parser, file log and index. `flags` are the
 * command-line flags of `streamcluster server`; `--data-dir` defaults to a fresh temp directory.
 */
export async function startTestServer(
  flags: string[] = [],
  options: { dataDir?: string } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'streamcluster-server-')));
  const config: ServerConfig = serverConfig(
    ['--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--embed-workers', '1', ...flags],
    {},
  );
  const running = await startServer(config, silentLogger);
  const { port } = running.server.address();
  let stopped = false;
  return {
    url: `ws://127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${port}`,
    running,
    dataDir,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await running.stop();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
