import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Endpoint } from './endpoint.js';
import { formatResponseHead, isWebSocketUpgrade, upstreamRequestHeaders } from './headers.js';
import type { UpgradeResult } from './metrics.js';
import { endSocket, rejectOnSocket, type ProxyContext } from './proxy-context.js';
import { relayWebSocket } from './relay.js';

/**
 * Agent for upgrade connections: no keep-alive and no socket limit, like `agent: false`, but
 * shared, so an upgrade does not construct an Agent. Upgraded sockets leave the agent at once.
 */
const upgradeAgent = new Agent({ keepAlive: false });

/** Result of one upgrade attempt on one endpoint. */
type Attempt =
  | { kind: 'upgraded' }
  | { kind: 'responded' }
  | { kind: 'client_gone' }
  | {
      kind: 'failed';
      status: 502 | 503 | 504;
      reason: 'connect_failure' | 'upgrade_timeout' | 'endpoint_unavailable';
    };

/**
 * Forwards a WebSocket upgrade to an endpoint and relays the connection. Connect failures and
 * timeouts before the endpoint responded are retried on other endpoints while attempts and the
 * retry budget last, and so is a 503, which a stream server sends while it drains or is full.
 * Any other response than 101 is passed to the client unchanged and both sockets are closed,
 * without a retry because the endpoint chose that status. The balancer responds 503 with a
 * reason when no endpoint can take the upgrade, and 502, 503 or 504 when every attempt failed.
 */
export async function handleUpgrade(
  context: ProxyContext,
  req: IncomingMessage,
  client: Socket,
  head: Buffer,
): Promise<void> {
  client.on('error', (error) =>
    context.logger.debug({ err: error }, 'client socket error during upgrade'),
  );
  if (!isWebSocketUpgrade(req.headers)) return reject(context, client, 400, 'unsupported_upgrade');
  if (context.isDraining()) return reject(context, client, 503, 'draining');

  context.inProgress.count++;
  try {
    await forwardWithRetries(context, req, client, head);
  } finally {
    context.inProgress.count--;
  }
}

async function forwardWithRetries(
  context: ProxyContext,
  req: IncomingMessage,
  client: Socket,
  head: Buffer,
): Promise<void> {
  const tried = new Set<Endpoint>();
  let lastFailure: Extract<Attempt, { kind: 'failed' }> | undefined;
  const maxAttempts = context.config().retry.maxAttempts;

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1 && !context.retryBudget.tryAcquire(context.inProgress.count)) {
      context.metrics.rejections.inc({ reason: 'retry_budget' });
      break;
    }
    const picked = context.upstream.pick('upgrade', tried);
    if ('rejection' in picked) {
      if (attempt > 1) context.retryBudget.release();
      if (lastFailure) break;
      return reject(context, client, 503, picked.rejection);
    }
    if (attempt > 1) context.metrics.retries.inc();
    tried.add(picked.endpoint);

    const outcome = await attemptUpgrade(context, picked.endpoint, req, client, head);
    if (attempt > 1) context.retryBudget.release();
    if (outcome.kind !== 'failed') return;
    lastFailure = outcome;
    if (client.destroyed) return;
  }
  if (lastFailure) reject(context, client, lastFailure.status, lastFailure.reason);
}

function reject(context: ProxyContext, client: Socket, status: number, reason: string): void {
  context.metrics.rejections.inc({ reason });
  context.logger.debug({ status, reason }, 'upgrade rejected');
  rejectOnSocket(client, status, reason);
}

/** Sends the upgrade to one endpoint and settles on the first of: response, failure, timeout, client gone. */
function attemptUpgrade(
  context: ProxyContext,
  endpoint: Endpoint,
  req: IncomingMessage,
  client: Socket,
  head: Buffer,
): Promise<Attempt> {
  const { upstream, metrics, now } = context;
  const config = context.config();
  const startedMs = now();
  const label = metrics.label(endpoint);
  endpoint.pendingUpgrades++;

  const upstreamRequest = httpRequest({
    host: endpoint.host,
    port: endpoint.port,
    method: req.method,
    path: req.url,
    headers: upstreamRequestHeaders(req, config),
    agent: upgradeAgent,
    setHost: false,
  });

  return new Promise<Attempt>((resolve) => {
    let settled = false;
    const settle = (attempt: Attempt, result?: UpgradeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.off('close', onClientClose);
      endpoint.pendingUpgrades--;
      if (result) metrics.upgrades.inc({ endpoint: label, result });
      upstream.retireIfIdle(endpoint);
      resolve(attempt);
    };
    const fail = (
      status: 502 | 504,
      reason: 'connect_failure' | 'upgrade_timeout',
      error?: Error,
    ): void => {
      if (settled) return;
      context.logger.warn(
        { endpoint: endpoint.id, reason, err: error },
        'upgrade to endpoint failed',
      );
      upstreamRequest.destroy();
      upstream.recordFailure(endpoint);
      settle(
        { kind: 'failed', status, reason },
        reason === 'connect_failure' ? 'connect_failure' : 'timeout',
      );
    };
    const onClientClose = (): void => {
      upstreamRequest.destroy();
      settle({ kind: 'client_gone' });
    };
    const timer = setTimeout(() => fail(504, 'upgrade_timeout'), config.upgradeTimeoutMs);
    client.once('close', onClientClose);

    // Nagle's algorithm would hold the first frames behind the 101 until an ACK arrives.
    upstreamRequest.on('socket', (socket) => socket.setNoDelay(true));
    upstreamRequest.on('error', (error) => fail(502, 'connect_failure', error));
    upstreamRequest.on('upgrade', (res, socket: Socket, upstreamHead: Buffer) => {
      if (settled) return void socket.destroy();
      const latencyMs = now() - startedMs;
      metrics.upgradeSeconds.observe(latencyMs / 1000);
      upstream.recordSuccess(endpoint, latencyMs);
      settle({ kind: 'upgraded' }, 'upgraded');
      startRelay(context, endpoint, res, socket, upstreamHead, client, head);
    });
    upstreamRequest.on('response', (res) => {
      if (settled) return void res.destroy();
      if (res.statusCode === 503) {
        context.logger.info(
          { endpoint: endpoint.id, status: res.statusCode },
          'endpoint rejected upgrade as unavailable; trying another',
        );
        res.destroy();
        upstreamRequest.destroy();
        upstream.recordFailure(endpoint);
        settle({ kind: 'failed', status: 503, reason: 'endpoint_unavailable' }, 'server_error');
        return;
      }
      const serverError = (res.statusCode ?? 502) >= 500;
      if (serverError) upstream.recordFailure(endpoint);
      settle({ kind: 'responded' }, serverError ? 'server_error' : 'client_error');
      passAnswer(context, endpoint, res, client, () => upstreamRequest.destroy());
    });
    upstreamRequest.end();
  });
}

/** Passes an endpoint's non-101 response to the client, then closes both sides. */
function passAnswer(
  context: ProxyContext,
  endpoint: Endpoint,
  res: IncomingMessage,
  client: Socket,
  closeUpstream: () => void,
): void {
  context.logger.info(
    { endpoint: endpoint.id, status: res.statusCode },
    'endpoint responded to upgrade without 101',
  );
  res.on('error', () => client.destroy());
  res.on('close', closeUpstream);
  client.once('close', () => res.destroy());
  if (client.destroyed) return void res.destroy();

  client.write(
    formatResponseHead(res.statusCode ?? 502, res.statusMessage ?? '', res.rawHeaders, false, [
      ['Connection', 'close'],
    ]),
  );
  res.on('data', (chunk: Buffer) => {
    if (!client.write(chunk)) res.pause();
  });
  client.on('drain', () => res.resume());
  res.on('end', () => endSocket(client));
}

function startRelay(
  context: ProxyContext,
  endpoint: Endpoint,
  res: IncomingMessage,
  socket: Socket,
  upstreamHead: Buffer,
  client: Socket,
  head: Buffer,
): void {
  if (client.destroyed) return void socket.destroy();
  client.write(
    formatResponseHead(101, res.statusMessage ?? 'Switching Protocols', res.rawHeaders, true),
  );
  if (head.length > 0) socket.write(head);

  endpoint.openConnections++;
  const connection = relayWebSocket(
    client,
    socket,
    (how) => {
      endpoint.openConnections--;
      context.connections.delete(connection);
      context.metrics.relayEnds.inc({ how });
      context.upstream.retireIfIdle(endpoint);
      if (how !== 'closed')
        context.logger.info({ endpoint: endpoint.id, how }, 'relayed WebSocket ended');
    },
    upstreamHead,
  );
  context.connections.add(connection);
}
