import { boolean, integer, oneOf, text, list, type Settings } from '../core/config.js';
import { bearerToken } from '../core/token.js';
import { natsUrlProblem, streamNameProblem } from '../replication/nats-validation.js';

/** Parses the comma-separated NATS server URLs and rejects those that are not NATS URLs. */
function natsUrls(raw: string): string[] {
  const urls = list(raw);
  const invalid = urls.flatMap((url) => {
    const problem = natsUrlProblem(url);
    return problem ? [`${JSON.stringify(url)} ${problem}`] : [];
  });
  if (invalid.length > 0) throw new Error(`has invalid URLs: ${invalid.join('; ')}`);
  return urls;
}

/** Parses a JetStream stream name. */
function streamName(raw: string): string {
  const problem = streamNameProblem(raw);
  if (problem) throw new Error(problem);
  return raw;
}

/** Flags and environment variables of `streamcluster server`, besides the answer settings. */
export const serverSettings = {
  port: {
    flag: 'port',
    env: 'STREAMCLUSTER_PORT',
    help: 'TCP port of WebSocket and HTTP; 0 picks a free one.',
    default: 8080,
    parse: integer(0, 65535),
  },
  host: {
    flag: 'host',
    env: 'STREAMCLUSTER_HOST',
    help: 'Address to listen on.',
    default: '0.0.0.0',
    parse: text,
  },
  serverId: {
    flag: 'server-id',
    env: 'STREAMCLUSTER_SERVER_ID',
    help: 'Name in logs, /stats and the welcome event; default the host name.',
    default: '',
    parse: text,
  },
  dataDir: {
    flag: 'data-dir',
    env: 'STREAMCLUSTER_DATA_DIR',
    help: 'Directory of the index snapshots (the server volume in Kubernetes).',
    default: './.data/server',
    parse: text,
  },
  log: {
    flag: 'log',
    env: 'STREAMCLUSTER_LOG',
    help: 'Replicated log: file (embedded, one machine) or nats.',
    default: 'file' as 'file' | 'nats',
    parse: oneOf('file', 'nats'),
  },
  logDir: {
    flag: 'log-dir',
    env: 'STREAMCLUSTER_LOG_DIR',
    help: 'Directory of the embedded file log; servers on one machine share it. Default <data-dir>/log.',
    default: '',
    parse: text,
  },
  natsUrls: {
    flag: 'nats-url',
    env: 'STREAMCLUSTER_NATS_URL',
    help: 'Comma-separated NATS server URLs, nats://host[:port] or tls://host[:port], for --log nats.',
    default: [] as string[],
    parse: natsUrls,
  },
  natsStream: {
    flag: 'nats-stream',
    env: 'STREAMCLUSTER_NATS_STREAM',
    help: 'JetStream stream holding the log, for --log nats; servers of one cluster share it.',
    default: 'STREAMCLUSTER_LOG',
    parse: streamName,
  },
  natsReplicas: {
    flag: 'nats-replicas',
    env: 'STREAMCLUSTER_NATS_REPLICAS',
    help: 'JetStream replicas of the log stream when the server creates it.',
    default: 1,
    parse: integer(1, 5),
  },
  model: {
    flag: 'model',
    env: 'STREAMCLUSTER_MODEL',
    help: 'Embedding model: a local model directory or a Hugging Face model id. Default the locally built all-MiniLM-L6-v2.',
    default: '',
    parse: text,
  },
  embedWorkers: {
    flag: 'embed-workers',
    env: 'STREAMCLUSTER_EMBED_WORKERS',
    help: 'Embedding worker threads; 0 means one per core.',
    default: 0,
    parse: integer(0, 64),
  },
  parseWorkers: {
    flag: 'parse-workers',
    env: 'STREAMCLUSTER_PARSE_WORKERS',
    help: 'PDF parsing worker threads.',
    default: 1,
    parse: integer(1, 16),
  },
  parseTimeoutMs: {
    flag: 'parse-timeout-ms',
    env: 'STREAMCLUSTER_PARSE_TIMEOUT_MS',
    help: 'Deadline of one PDF parse, in milliseconds.',
    default: 120_000,
    parse: integer(1000),
  },
  maxDocumentBytes: {
    flag: 'max-document-bytes',
    env: 'STREAMCLUSTER_MAX_DOCUMENT_BYTES',
    help: 'Largest document accepted, in bytes.',
    default: 64 * 1024 * 1024,
    parse: integer(1),
  },
  indexKind: {
    flag: 'index-kind',
    env: 'STREAMCLUSTER_INDEX_KIND',
    help: 'Vector index: flat (exact) or hnsw (approximate, for large corpora).',
    default: 'flat' as 'flat' | 'hnsw',
    parse: oneOf('flat', 'hnsw'),
  },
  snapshotIntervalMs: {
    flag: 'snapshot-interval-ms',
    env: 'STREAMCLUSTER_SNAPSHOT_INTERVAL_MS',
    help: 'How often the index is snapshotted when it changed, in milliseconds.',
    default: 60_000,
    parse: integer(1000),
  },
  consistencyTimeoutMs: {
    flag: 'consistency-timeout-ms',
    env: 'STREAMCLUSTER_CONSISTENCY_TIMEOUT_MS',
    help: "Maximum wait for a request's minSeq to be applied, in milliseconds.",
    default: 5000,
    parse: integer(0),
  },
  readyLagRecords: {
    flag: 'ready-lag-records',
    env: 'STREAMCLUSTER_READY_LAG_RECORDS',
    help: 'Largest lag behind the log head, in records, at which /readyz still passes.',
    default: 100,
    parse: integer(0),
  },
  logHeadPollIntervalMs: {
    flag: 'log-head-poll-interval-ms',
    env: 'STREAMCLUSTER_LOG_HEAD_POLL_INTERVAL_MS',
    help: 'How often the log head is read to measure the replication lag, in milliseconds.',
    default: 1000,
    parse: integer(100),
  },
  authToken: {
    flag: 'auth-token',
    env: 'STREAMCLUSTER_AUTH_TOKEN',
    help: 'Bearer token that WebSocket clients and the admin requests POST /drain, POST and DELETE /draining must present; unset means no authentication.',
    default: '',
    parse: bearerToken,
    secret: true,
  },
  heartbeatIntervalMs: {
    flag: 'heartbeat-interval-ms',
    env: 'STREAMCLUSTER_HEARTBEAT_INTERVAL_MS',
    help: 'Ping interval; a client missing one pong is dropped, in milliseconds.',
    default: 15_000,
    parse: integer(100),
  },
  maxConnections: {
    flag: 'max-connections',
    env: 'STREAMCLUSTER_MAX_CONNECTIONS',
    help: 'Maximum open WebSocket connections; further upgrades get 503.',
    default: 10_000,
    parse: integer(1),
  },
  perMessageDeflate: {
    flag: 'per-message-deflate',
    env: 'STREAMCLUSTER_PER_MESSAGE_DEFLATE',
    help: 'Negotiate permessage-deflate compression.',
    default: false,
    parse: boolean,
  },
  drainTimeoutMs: {
    flag: 'drain-timeout-ms',
    env: 'STREAMCLUSTER_DRAIN_TIMEOUT_MS',
    help: 'Maximum wait on SIGTERM for in-flight ingests before closing, in milliseconds.',
    default: 25_000,
    parse: integer(0),
  },
  drainBatchSize: {
    flag: 'drain-batch-size',
    env: 'STREAMCLUSTER_DRAIN_BATCH_SIZE',
    help: 'Connections asked to reconnect per drain batch; 0 means all at once.',
    default: 0,
    parse: integer(0),
  },
  sendHighWaterMarkBytes: {
    flag: 'send-high-water-mark-bytes',
    env: 'STREAMCLUSTER_SEND_HIGH_WATER_MARK_BYTES',
    help: 'Socket buffer size above which events to a client pause, in bytes.',
    default: 1 << 20,
    parse: integer(1024),
  },
  sendHardLimitBytes: {
    flag: 'send-hard-limit-bytes',
    env: 'STREAMCLUSTER_SEND_HARD_LIMIT_BYTES',
    help: 'Unsent bytes for one client above which it is closed with 4008, in bytes.',
    default: 16 << 20,
    parse: integer(4096),
  },
} satisfies Settings;
