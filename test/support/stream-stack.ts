import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createBalancer, type Balancer } from '../../server/balancer/index.js';
import {
  serverConfig,
  startServer,
  type RunningServer,
  type ServerConfig,
} from '../../server/app/main.js';
import { silentLogger, type Logger } from '../../server/core/logger.js';
import { startChatServer, streamTokens, type ChatServer } from './chat-completions-server.js';

/** A real stream server on a loopback port with its own data directory, for tests. */
export interface TestServer {
  url: string;
  httpUrl: string;
  port: number;
  running: RunningServer;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Starts a stream server with the real model, parser, file log and index. `flags` are the
 * command-line flags of `streamcluster server`; `--data-dir` defaults to a fresh temp directory,
 * and the logger to one that drops everything.
 */
export async function startTestServer(
  flags: string[] = [],
  options: { dataDir?: string; logger?: Logger } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'streamcluster-server-')));
  const config: ServerConfig = serverConfig(
    ['--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--embed-workers', '1', ...flags],
    {},
  );
  const running = await startServer(config, options.logger ?? silentLogger);
  const { port } = running.server.address();
  let stopped = false;
  return {
    url: `ws://127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${port}`,
    port,
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

/** Options for {@link startSharedLogServers}. */
export interface SharedLogServersOptions {
  /** Number of stream servers. */
  count: number;
  /** Prefix of the server ids, which are `<serverIdPrefix>-0`, `<serverIdPrefix>-1` and so on. */
  serverIdPrefix: string;
  /** Tokens that the fake generator streams for every question. */
  answerTokens: string[];
  /** Pause before each token, in milliseconds. */
  tokenDelayMs: number;
}

/** Stream servers that share one embedded log and generate with a fake chat completions server. */
export interface SharedLogServers {
  servers: TestServer[];
  chat: ChatServer;
  logDir: string;
  /** Stops the servers and the fake generator, then deletes the log directory. */
  stop(): Promise<void>;
}

/**
 * Starts stream servers that share an embedded log in a fresh temporary directory. Every server
 * generates answers with the OpenAI-compatible generator, pointed at a local fake that streams
 * the same tokens slowly, so a test can break a connection or a server in the middle of an
 * answer.
 */
export async function startSharedLogServers(
  options: SharedLogServersOptions,
): Promise<SharedLogServers> {
  const logDir = await mkdtemp(join(tmpdir(), 'streamcluster-log-'));
  const chat = await startChatServer((_request, response) =>
    streamTokens(response, options.answerTokens, options.tokenDelayMs),
  );
  const flags = [
    '--log-dir',
    logDir,
    '--answer-generator',
    'openai',
    '--openai-base-url',
    chat.baseUrl,
    '--openai-model',
    'fake',
  ];
  const ids = Array.from({ length: options.count }, (_, i) => `${options.serverIdPrefix}-${i}`);
  const started = await Promise.allSettled(
    ids.map((id) => startTestServer([...flags, '--server-id', id])),
  );
  const servers = started.flatMap((result) =>
    result.status === 'fulfilled' ? [result.value] : [],
  );

  const stop = async (): Promise<void> => {
    await Promise.allSettled(servers.map((server) => server.stop()));
    await chat.close();
    await rm(logDir, { recursive: true, force: true });
  };
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return { servers, chat, logDir, stop };
}

/**
 * Starts a balancer on loopback `port` (0 picks a free one) in front of the endpoints on
 * `endpointPorts`. Health checks run every 200 ms, so the balancer soon notices an endpoint
 * that stopped or came back.
 */
export async function startTestBalancer(endpointPorts: number[], port = 0): Promise<Balancer> {
  const balancer = createBalancer({
    config: {
      endpoints: endpointPorts.map((endpointPort) => ({ host: '127.0.0.1', port: endpointPort })),
      healthCheck: { intervalMs: 200 },
    },
  });
  await balancer.listen(port, '127.0.0.1');
  return balancer;
}
