import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';

import { createAnswerGenerator, answerSettings } from '../answer/index.js';
import { resolveRetrievalQuery } from '../conversation/index.js';
import { formatHelp, parseArgs, resolveConfig, type ConfigOf } from '../core/config.js';
import { ValidationError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import { createEmbedder, defaultModelDir } from '../embed/index.js';
import { chunkDocument, DocumentParser } from '../ingest/index.js';
import { DocumentStore } from '../index/document-store.js';
import { FileLog } from '../replication/file-log.js';
import { openNatsLog } from '../replication/deferred-nats-log.js';
import type { DocumentLog } from '../replication/types.js';
import { StreamMetrics } from '../stream/metrics.js';
import { StreamServer } from '../stream/server.js';
import { DocumentService } from './document-service.js';
import { storeView } from './store-view.js';
import { serverSettings } from './settings.js';

const settings = { ...serverSettings, ...answerSettings };
export type ServerConfig = ConfigOf<typeof settings>;

/** A running stream server with everything it owns, for `streamcluster server` and tests. */
export interface RunningServer {
  server: StreamServer;
  service: DocumentService;
  /** Drains connections, snapshots the index and releases every resource. */
  stop(): Promise<void>;
}

/** `streamcluster server`: runs until SIGTERM or SIGINT, then drains and exits. */
export async function runServer(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, settings, ['help']);
  if (flags.has('help')) {
    process.stdout.write(
      `usage: streamcluster server [flags]\n\nflags:\n${formatHelp(settings)}\n`,
    );
    return 0;
  }
  const config = resolveConfig(settings, flags);
  checkServerConfig(config);
  const logger = createLogger({ name: 'server' });
  const running = await startServer(config, logger);
  await new Promise<void>((resolveSignal) => {
    process.once('SIGTERM', () => resolveSignal());
    process.once('SIGINT', () => resolveSignal());
  });
  logger.info('signal received; draining');
  await running.stop();
  logger.info('stopped');
  return 0;
}

/**
 * Rejects combinations of settings that are each valid alone, before any model is loaded. Every
 * problem names the flag and its variable.
 */
export function checkServerConfig(config: ServerConfig): void {
  const problems: string[] = [];
  if (config.log === 'nats' && config.natsUrls.length === 0) {
    problems.push(
      '--nats-url (STREAMCLUSTER_NATS_URL) must name at least one NATS server for --log nats, got nothing',
    );
  }
  if (
    config.answerGenerator === 'openai' &&
    (config.openaiBaseUrl === '' || config.openaiModel === '')
  ) {
    problems.push(
      '--openai-base-url and --openai-model (STREAMCLUSTER_OPENAI_BASE_URL, STREAMCLUSTER_OPENAI_MODEL) must be set for --answer-generator openai',
    );
  }
  if (problems.length > 0) throw new ValidationError(problems);
}

/** Parses flags and environment into a server configuration (defaults for everything unset). */
export function serverConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return resolveConfig(settings, parseArgs(argv, settings).flags, env);
}

/** Builds and starts a stream server: model, parser, log, index, generator, WebSocket server. */
export async function startServer(config: ServerConfig, logger: Logger): Promise<RunningServer> {
  const dataDir = resolve(config.dataDir);
  await mkdir(join(dataDir, 'index'), { recursive: true }).catch((error: unknown) => {
    throw new ValidationError(
      [
        `--data-dir (STREAMCLUSTER_DATA_DIR) must be a writable directory, got ${JSON.stringify(config.dataDir)}: ${(error as Error).message}`,
      ],
      { cause: error },
    );
  });
  const embedder = await createEmbedder({
    model: config.model || defaultModelDir(),
    workers: config.embedWorkers || Math.max(1, availableParallelism()),
    logger: logger.child({ component: 'embedder' }),
  });
  const parser = new DocumentParser({
    workers: config.parseWorkers,
    defaults: { maxBytes: config.maxDocumentBytes, timeoutMs: config.parseTimeoutMs },
    logger: logger.child({ component: 'parser' }),
  });
  const store = await DocumentStore.open({
    dimension: embedder.dimension,
    model: embedder.modelName,
    dataDir: join(dataDir, 'index'),
    index: { kind: config.indexKind },
    conversations: { maxTurns: config.historyMaxTurns },
    logger: logger.child({ component: 'index' }),
  });
  const log = await openLog(config, dataDir, logger);
  const metrics = new StreamMetrics();
  const embed = (texts: string[], options?: { signal?: AbortSignal }) =>
    embedder.embed(texts, options);
  const generator = createAnswerGenerator(config, {
    embed,
    logger: logger.child({ component: 'answer' }),
  });

  const service = new DocumentService({
    embedder,
    parse: (bytes, options) =>
      parser.parse(
        { name: '', data: bytes, type: options.type, password: options.password },
        { onPage: options.onPage },
      ),
    chunk: (documentId, pages) =>
      chunkDocument(documentId, pages, {
        countTokens: (texts) => embedder.countTokens(texts),
        maxTokens: embedder.maxTokens,
      }),
    log,
    index: storeView(store),
    generator,
    retrievalQuery: resolveRetrievalQuery,
    logger,
    metrics,
    consistencyTimeoutMs: config.consistencyTimeoutMs,
    readyLagRecords: config.readyLagRecords,
    headPollIntervalMs: config.logHeadPollIntervalMs,
  });
  service.start();

  const server = new StreamServer({
    dataPlane: service,
    serverId: config.serverId || undefined,
    logger,
    metrics,
    authToken: config.authToken || undefined,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    maxConnections: config.maxConnections,
    maxDocumentBytes: config.maxDocumentBytes,
    perMessageDeflate: config.perMessageDeflate,
    highWaterMarkBytes: config.sendHighWaterMarkBytes,
    hardLimitBytes: config.sendHardLimitBytes,
    workerBusyTime: () => [parser.busyTime(), ...(embedder.busyTime ? [embedder.busyTime()] : [])],
  });
  await server.listen(config.port, config.host);

  let snapshottedSeq = store.lastAppliedSeq;
  const snapshot = async () => {
    if (store.lastAppliedSeq === snapshottedSeq) return;
    const info = await store.snapshot();
    snapshottedSeq = info.lastAppliedSeq;
  };
  const timer = setInterval(() => {
    snapshot().catch((error: unknown) =>
      logger.error({ err: error }, 'snapshot failed; the previous one stays valid'),
    );
  }, config.snapshotIntervalMs);
  timer.unref();

  return {
    server,
    service,
    stop: async () => {
      clearInterval(timer);
      await server.drain({
        timeoutMs: config.drainTimeoutMs,
        batchSize: config.drainBatchSize || undefined,
      });
      await server.close();
      await service.stop();
      await snapshot().catch((error: unknown) =>
        logger.error({ err: error }, 'final snapshot failed'),
      );
      await Promise.allSettled([log.close(), parser.close(), embedder.close()]);
      await store.close();
    },
  };
}

async function openLog(
  config: ServerConfig,
  dataDir: string,
  logger: Logger,
): Promise<DocumentLog> {
  const child = logger.child({ component: 'log' });
  if (config.log === 'nats') {
    // An unreachable NATS does not stop the server: it serves its index snapshot and connects
    // in the background. Invalid settings and a conflicting stream still throw here.
    return openNatsLog({
      servers: config.natsUrls,
      stream: config.natsStream,
      replicas: config.natsReplicas,
      logger: child,
      name: config.serverId || undefined,
    });
  }
  return FileLog.open({
    directory: config.logDir ? resolve(config.logDir) : join(dataDir, 'log'),
    logger: child,
  });
}
