import type { Socket } from 'node:net';
import type { Logger } from '../core/logger.js';
import type { BalancerConfig } from './balancer-config.js';
import type { BalancerMetrics } from './metrics.js';
import type { RelayedConnection } from './relay.js';
import type { RetryBudget } from './retry-budget.js';
import type { Upstream } from './upstream.js';

/** What the upgrade and request handlers share with the balancer. */
export interface ProxyContext {
  upstream: Upstream;
  metrics: BalancerMetrics;
  retryBudget: RetryBudget;
  logger: Logger;
  now: () => number;
  /** Current configuration; reloads replace it between calls. */
  config: () => BalancerConfig;
  isDraining: () => boolean;
  /** Relayed WebSockets, so draining can close them. */
  connections: Set<RelayedConnection>;
  /** Upgrades and requests in progress, the base of the retry budget. */
  inProgress: { count: number };
}

/** Header naming why the balancer rejected an upgrade or request itself. */
export const rejectReasonHeader = 'X-StreamCluster-Reject-Reason';

const statusTexts: Record<number, string> = {
  400: 'Bad Request',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * Answers on a raw client socket (an upgrade the balancer will not forward) with a status, the
 * reason in a header and a one-line body, then closes the socket once the response is written.
 */
export function rejectOnSocket(socket: Socket, status: number, reason: string): void {
  if (socket.destroyed || socket.writableEnded) return;
  const body = `${reason}\n`;
  const head = [
    `HTTP/1.1 ${status} ${statusTexts[status] ?? 'Error'}`,
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    `${rejectReasonHeader}: ${reason}`,
  ].join('\r\n');
  endSocket(socket, `${head}\r\n\r\n${body}`);
}

/** Ends a socket after writing `data` and destroys it if the peer keeps its side open. */
export function endSocket(socket: Socket, data?: string | Buffer): void {
  if (data === undefined) socket.end();
  else socket.end(data);
  const timer = setTimeout(() => socket.destroy(), 2000);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
