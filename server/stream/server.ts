import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { WebSocketServer, type WebSocket } from 'ws';

import { busiestPoolUtilization, type WorkerBusyTime } from '../core/busy-time.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { tokensEqual } from '../core/token.js';
import { StreamConnection, type ConnectionLimits } from './connection.js';
import type { DataPlane } from './data-plane.js';
import { OperationJournal, type JournalOptions } from './journal.js';
import { StreamMetrics } from './metrics.js';
import { CloseCode, SUBPROTOCOL } from './protocol.js';

/** Options for {@link StreamServer}; every limit has a default suited to one server process. */
export interface StreamServerOptions {
  dataPlane: DataPlane;
  /** Name reported in `welcome` and `/stats`; default the host name. */
  serverId?: string;
  logger?: Logger;
  metrics?: StreamMetrics;
  /**
   * Bearer token required at the upgrade and on the admin requests `POST /drain`,
   * `POST /draining` and `DELETE /draining`; no authentication when unset. Probes and scrapes
   * (`/healthz`, `/readyz`, `/stats`, `/metrics`) stay open.
   */
  authToken?: string;
  /** Interval between pings; a client that misses one pong is terminated. Default 15000 ms. */
  heartbeatIntervalMs?: number;
  /** Largest WebSocket message accepted, after decompression. Default 1 MiB. */
  maxPayloadBytes?: number;
  /** Negotiate permessage-deflate. Default false. */
  perMessageDeflate?: boolean;
  /** Maximum open connections; further upgrades get 503. Default 10000. */
  maxConnections?: number;
  /** Largest document accepted. Default 64 MiB. */
  maxDocumentBytes?: number;
  /** Concurrent ingests on one connection. Default 4. */
  maxIngestsPerConnection?: number;
  /** Concurrent ingests on the server. Default 8. */
  maxIngestsPerServer?: number;
  /** Sustained client messages per second per connection (uploads not counted). Default 50. */
  messagesPerSecond?: number;
  /** Messages a connection may send at once above the sustained rate. Default 100. */
  messageBurst?: number;
  /** Socket buffer above which a client's events pause. Default 1 MiB. */
  highWaterMarkBytes?: number;
  /** Unsent bytes above which a client is closed with 4008. Default 16 MiB. */
  hardLimitBytes?: number;
  /** Top-k when a request gives none. Default 5. */
  defaultTopK?: number;
  /** Largest top-k a request may ask for. Default 100. */
  maxTopK?: number;
  journal?: JournalOptions;
  /**
   * Busy time of the process's worker pools (embedding, parsing), read every second. Their
   * utilization is reported beside the event loop's, because CPU-heavy ingestion runs there.
   */
  workerBusyTime?: () => WorkerBusyTime[];
}

/** Options of {@link StreamServer.drain}. */
export interface DrainOptions {
  /** Connections closed per batch. Default: all at once. */
  batchSize?: number;
  /** Pause between batches. Default 1000 ms. */
  batchIntervalMs?: number;
  /** Maximum wait for in-flight ingests before their connections are closed. Default 30000 ms. */
  timeoutMs?: number;
}

/**
 * The stream server: WebSocket protocol `streamcluster.v1` plus `/healthz`, `/readyz`,
 * `/metrics` and `/stats` on one HTTP port.
 */
export class StreamServer {
  readonly metrics: StreamMetrics;
  readonly serverId: string;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly connections = new Map<WebSocket, StreamConnection>();
  private readonly alive = new WeakSet<WebSocket>();
  private readonly load = { inflightIngests: 0 };
  private readonly journal: OperationJournal;
  private readonly log: Logger;
  private readonly limits: ConnectionLimits;
  private draining = false;
  /** Set once {@link drain} runs: a shutdown, which `DELETE /draining` cannot undo. */
  private stopping = false;
  private shedTimer?: NodeJS.Timeout;
  private heartbeat?: NodeJS.Timeout;
  private eluTimer?: NodeJS.Timeout;
  private eluSample: EventLoopUtilization = performance.eventLoopUtilization();
  private elu = 0;
  private workerSample: { atMs: number; pools: WorkerBusyTime[] } = { atMs: 0, pools: [] };
  private workerUtilization = 0;

  constructor(private readonly options: StreamServerOptions) {
    this.log = options.logger ?? silentLogger;
    this.metrics = options.metrics ?? new StreamMetrics();
    this.serverId = options.serverId ?? process.env.HOSTNAME ?? 'stream-server';
    this.journal = new OperationJournal(options.journal);
    this.limits = {
      maxDocumentBytes: options.maxDocumentBytes ?? 64 << 20,
      maxTopK: options.maxTopK ?? 100,
      maxQuestionChars: 4000,
      maxIngestsPerConnection: options.maxIngestsPerConnection ?? 4,
      maxIngestsPerServer: options.maxIngestsPerServer ?? 8,
      messagesPerSecond: options.messagesPerSecond ?? 50,
      messageBurst: options.messageBurst ?? 100,
      highWaterMarkBytes: options.highWaterMarkBytes ?? 1 << 20,
      hardLimitBytes: options.hardLimitBytes ?? 16 << 20,
      defaultTopK: options.defaultTopK ?? 5,
    };
    this.http = createServer((request, response) => this.handleHttp(request, response));
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayloadBytes ?? 1 << 20,
      perMessageDeflate: options.perMessageDeflate
        ? { threshold: 1024, concurrencyLimit: 4, serverMaxWindowBits: 13 }
        : false,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    this.http.on('upgrade', (request, socket, head) => this.handleUpgrade(request, socket, head));
  }

  /** Starts listening; port 0 picks a free port. */
  async listen(port = 0, host = '127.0.0.1'): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    this.startTimers();
    const address = this.address();
    this.log.info(
      { port: address.port, host: address.address, serverId: this.serverId },
      'stream server listening',
    );
    return address;
  }

  address(): AddressInfo {
    return this.http.address() as AddressInfo;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Load report served at `/stats`; the balancer and the operator read it. */
  stats(): Record<string, unknown> {
    const data = this.options.dataPlane.stats();
    return {
      serverId: this.serverId,
      connections: this.connections.size,
      inflightIngests: this.load.inflightIngests,
      eventLoopUtilization: Number(this.elu.toFixed(4)),
      workerUtilization: Number(this.workerUtilization.toFixed(4)),
      draining: this.draining,
      ready: this.readiness().ready,
      documents: data.documents,
      chunks: data.chunks,
      lastAppliedSeq: data.lastAppliedSeq,
      ...(data.replication && {
        logHeadSeq: data.replication.logHeadSeq,
        replicationLagRecords: data.replication.lagRecords,
        log: data.replication.log,
      }),
    };
  }

  /**
   * Stops taking connections and asks clients to reconnect elsewhere: readiness turns false,
   * new upgrades get 503, and open connections are closed with 1012 in batches. A connection
   * with an ingest in flight is closed once the ingest finishes or the timeout passes.
   */
  async drain(options: DrainOptions = {}): Promise<void> {
    if (!this.draining) this.log.info({ connections: this.connections.size }, 'draining');
    this.draining = true;
    this.stopping = true;
    const deadline = performance.now() + (options.timeoutMs ?? 30_000);
    const batchSize = options.batchSize ?? Number.POSITIVE_INFINITY;
    const interval = options.batchIntervalMs ?? 1000;
    while (this.connections.size > 0) {
      const expired = performance.now() >= deadline;
      const idle = [...this.connections].filter(([, c]) => expired || c.inflightIngests === 0);
      for (const [ws] of idle.slice(0, batchSize))
        ws.close(CloseCode.serviceRestart, 'server draining; reconnect');
      if (expired) break;
      await new Promise((resolve) => setTimeout(resolve, idle.length > 0 ? interval : 100));
    }
  }

  /**
   * Closes up to `count` connections with 1012 over `spreadMs`, so the balancer can move them to
   * less loaded servers. Connections with no operation in flight go first; ingests are never cut.
   * A new request replaces one still in progress, so balancer replicas asking in the same round
   * do not shed the sum of their requests. Returns how many connections will be closed.
   */
  shed(count: number, options: { spreadMs?: number; reconnectDelayMs?: number } = {}): number {
    clearTimeout(this.shedTimer);
    const candidates = [...this.connections]
      .filter(([, connection]) => connection.inflightIngests === 0)
      .sort(([, a], [, b]) => a.inflightOperations - b.inflightOperations)
      .slice(0, count)
      .map(([ws]) => ws);
    const reason = JSON.stringify({
      reason: 'rebalance',
      reconnectDelayMs: options.reconnectDelayMs ?? 0,
    });
    const gapMs = candidates.length > 1 ? (options.spreadMs ?? 0) / candidates.length : 0;
    const accepted = candidates.length;
    const closeNext = () => {
      const ws = candidates.shift();
      if (!ws) return;
      if (ws.readyState === ws.OPEN) ws.close(CloseCode.serviceRestart, reason);
      this.shedTimer = setTimeout(closeNext, gapMs);
      this.shedTimer.unref();
    };
    closeNext();
    if (accepted > 0) this.log.info({ accepted, requested: count }, 'shedding connections');
    return accepted;
  }

  /**
   * Turns draining on or off without closing anything, for an operator that removes this server
   * on scale-in. While draining, `/readyz` fails, `/stats` reports `draining: true` and upgrades
   * get 503, so balancers send new connections elsewhere. The operator moves the open ones with
   * `POST /drain`. Returns false when asked to stop draining during a shutdown.
   */
  setDraining(draining: boolean): boolean {
    if (!draining && this.stopping) return false;
    if (draining !== this.draining) {
      this.log.info(
        { connections: this.connections.size },
        draining ? 'draining for removal' : 'draining cancelled; accepting connections again',
      );
    }
    this.draining = draining;
    return true;
  }

  /** Closes every connection and the listener. Call {@link drain} first for a graceful stop. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    clearInterval(this.eluTimer);
    clearTimeout(this.shedTimer);
    this.journal.abortAll();
    for (const ws of this.connections.keys()) ws.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private startTimers(): void {
    const interval = this.options.heartbeatIntervalMs ?? 15_000;
    this.heartbeat = setInterval(() => this.checkHeartbeats(), interval).unref();
    this.eluTimer = setInterval(() => this.sampleEventLoop(), 1000).unref();
  }

  private checkHeartbeats(): void {
    for (const ws of this.connections.keys()) {
      if (!this.alive.has(ws)) {
        this.log.debug('terminating connection that missed a pong');
        ws.terminate();
        continue;
      }
      this.alive.delete(ws);
      ws.ping();
    }
  }

  private sampleEventLoop(): void {
    const delta = performance.eventLoopUtilization(this.eluSample);
    this.eluSample = performance.eventLoopUtilization();
    // An exponentially weighted average over about ten seconds keeps one busy second from
    // looking like sustained load to the autoscaler.
    this.elu = this.elu * 0.9 + delta.utilization * 0.1;
    this.metrics.eventLoopUtilization.set(this.elu);
    this.sampleWorkers();
  }

  /** Samples the busiest worker pool's share of time on requests, averaged as the event loop's. */
  private sampleWorkers(): void {
    if (!this.options.workerBusyTime) return;
    const pools = this.options.workerBusyTime();
    const atMs = performance.now();
    const previous = this.workerSample;
    this.workerSample = { atMs, pools };
    if (previous.atMs === 0) return;
    const share = busiestPoolUtilization(previous.pools, pools, atMs - previous.atMs);
    this.workerUtilization = this.workerUtilization * 0.9 + share * 0.1;
    this.metrics.workerUtilization.set(this.workerUtilization);
  }

  private readiness(): { ready: boolean; reason?: string } {
    if (this.draining) return { ready: false, reason: 'draining' };
    return this.options.dataPlane.readiness();
  }

  private handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (error) => this.log.debug({ err: error }, 'socket error before upgrade'));
    const reject = (status: number, reason: string, outcome: string) => {
      this.metrics.connectionsTotal.inc({ outcome });
      const body = `${reason}\n`;
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
          'Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
          (status === 401 ? 'WWW-Authenticate: Bearer\r\n' : 'Retry-After: 1\r\n') +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    };
    if (!this.authorized(request))
      return reject(401, 'missing or invalid bearer token', 'unauthorized');
    const offered = (request.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    if (!offered.includes(SUBPROTOCOL)) {
      return reject(400, `offer the WebSocket subprotocol ${SUBPROTOCOL}`, 'bad_subprotocol');
    }
    if (this.draining)
      return reject(503, 'server is draining; connect to another server', 'draining');
    if (this.connections.size >= (this.options.maxConnections ?? 10_000)) {
      return reject(503, 'server is at its connection limit; retry later', 'full');
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws));
  }

  private authorized(request: IncomingMessage): boolean {
    const expected = this.options.authToken;
    if (!expected) return true;
    const header = request.headers.authorization ?? '';
    // Browsers cannot set headers on a WebSocket, so the token may also come as a subprotocol.
    const protocols = (request.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    const candidates = [
      header.startsWith('Bearer ') ? header.slice(7) : '',
      ...protocols.filter((p) => p.startsWith('bearer.')).map((p) => p.slice(7)),
    ];
    return candidates.some((token) => token !== '' && tokensEqual(token, expected));
  }

  private accept(ws: WebSocket): void {
    this.metrics.connectionsTotal.inc({ outcome: 'accepted' });
    const connection = new StreamConnection(ws, {
      dataPlane: this.options.dataPlane,
      journal: this.journal,
      metrics: this.metrics,
      logger: this.log,
      limits: this.limits,
      load: this.load,
      isDraining: () => this.draining,
    });
    this.connections.set(ws, connection);
    this.alive.add(ws);
    this.metrics.connections.set(this.connections.size);
    ws.on('pong', () => this.alive.add(ws));
    ws.on('error', (error) =>
      this.log.debug({ err: error, connectionId: connection.id }, 'connection error'),
    );
    ws.on('close', (code) => {
      this.connections.delete(ws);
      this.metrics.connections.set(this.connections.size);
      this.log.debug({ connectionId: connection.id, code }, 'connection closed');
    });
    connection.sendEvent({
      type: 'welcome',
      protocol: SUBPROTOCOL,
      serverId: this.serverId,
      limits: {
        maxPayloadBytes: this.options.maxPayloadBytes ?? 1 << 20,
        maxDocumentBytes: this.limits.maxDocumentBytes,
        maxIngestsPerConnection: this.limits.maxIngestsPerConnection,
        maxTopK: this.limits.maxTopK,
        messagesPerSecond: this.limits.messagesPerSecond,
        messageBurst: this.limits.messageBurst,
      },
    });
  }

  private handleHttp(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      response.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      response.end(body);
    };
    switch (path) {
      case '/healthz':
        return reply(200, 'ok\n');
      case '/readyz': {
        const { ready, reason } = this.readiness();
        // A ready server can still be degraded (log unavailable), and the body states the cause.
        let body = `not ready: ${reason}\n`;
        if (ready) body = reason ? `ready; ${reason}\n` : 'ready\n';
        return reply(ready ? 200 : 503, body);
      }
      case '/stats':
        return reply(200, JSON.stringify(this.stats()), 'application/json');
      case '/metrics':
        this.refreshGauges();
        this.metrics.registry
          .metrics()
          .then((text) => reply(200, text, this.metrics.registry.contentType))
          .catch((error: unknown) => {
            this.log.error({ err: error }, 'rendering metrics failed');
            reply(500, 'metrics unavailable\n');
          });
        return;
      case '/drain':
        if (!this.authorizeAdmin(request, response, path)) return;
        return this.handleShed(request, response);
      case '/draining':
        if (!this.authorizeAdmin(request, response, path)) return;
        return this.handleDraining(request, response);
      default:
        return reply(
          404,
          `not found: ${path}; this server serves WebSocket ${SUBPROTOCOL}, /healthz, /readyz, /stats, /metrics, /drain, /draining\n`,
        );
    }
  }

  /**
   * Checks the `Authorization: Bearer` header of an admin request against `authToken` and
   * replies 401 when it does not match. Only the header counts here, because admin callers
   * (balancers, the operator) are not browsers. Returns true when the request may proceed.
   */
  private authorizeAdmin(
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
  ): boolean {
    const expected = this.options.authToken;
    if (!expected) return true;
    const header = request.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (presented !== '' && tokensEqual(presented, expected)) return true;

    this.log.warn(
      {
        method: request.method,
        path,
        remoteAddress: request.socket.remoteAddress,
        reason: header === '' ? 'missing' : 'invalid',
      },
      'rejected admin request without a valid bearer token',
    );
    response.writeHead(401, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-store',
      'WWW-Authenticate': 'Bearer',
    });
    response.end(
      `${path} requires the header Authorization: Bearer <token>, with the token this server was started with (--auth-token, STREAMCLUSTER_AUTH_TOKEN)\n`,
    );
    return false;
  }

  /** `POST /drain?connections=N&spreadMs=S&reconnectDelayMs=M`, the balancer's rebalance call. */
  private handleShed(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const count = Number(url.searchParams.get('connections'));
    const spreadMs = Number(url.searchParams.get('spreadMs') ?? 0);
    const reconnectDelayMs = Number(url.searchParams.get('reconnectDelayMs') ?? 0);
    const valid = [count, spreadMs, reconnectDelayMs].every((n) => Number.isInteger(n) && n >= 0);
    if (request.method !== 'POST' || !valid || count < 1) {
      response.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end(
        'use POST /drain?connections=N&spreadMs=S&reconnectDelayMs=M with N >= 1 and non-negative integers\n',
      );
      return;
    }
    const accepted = this.shed(count, { spreadMs, reconnectDelayMs });
    response.writeHead(202, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ accepted }));
  }

  /** `POST /draining` starts draining for removal, `DELETE /draining` cancels it. */
  private handleDraining(request: IncomingMessage, response: ServerResponse): void {
    const json = (status: number, body: unknown) => {
      response.writeHead(status, {
        'Content-Type': 'application/json',
        'Cache-Control': 'no-store',
      });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'POST' && request.method !== 'DELETE') {
      response.writeHead(405, {
        'Content-Type': 'text/plain; charset=utf-8',
        Allow: 'POST, DELETE',
      });
      response.end('use POST /draining to start draining or DELETE /draining to stop\n');
      return;
    }
    const changed = this.setDraining(request.method === 'POST');
    const body = { draining: this.draining, connections: this.connections.size };
    if (!changed) return json(409, { ...body, error: 'the server is shutting down' });
    json(200, body);
  }

  private refreshGauges(): void {
    const data = this.options.dataPlane.stats();
    this.metrics.indexDocuments.set(data.documents);
    this.metrics.indexChunks.set(data.chunks);
    this.metrics.lastAppliedSeq.set(data.lastAppliedSeq);
    if (data.replication) {
      this.metrics.logHeadSeq.set(data.replication.logHeadSeq);
      this.metrics.replicationLag.set(data.replication.lagRecords);
      this.metrics.logAvailable.set(data.replication.log === 'available' ? 1 : 0);
    }
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  503: 'Service Unavailable',
};
