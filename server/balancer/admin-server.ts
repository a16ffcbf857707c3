import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/logger.js';
import type { Upstream } from './upstream.js';

/** Collaborators of the admin listener. */
export interface AdminServerOptions {
  registry: Registry;
  upstream: Upstream;
  /** True once the proxy listener accepts connections and the balancer is not draining. */
  isReady: () => boolean;
  logger: Logger;
}

/**
 * Creates the admin listener, kept apart from the proxy port so its paths never shadow an
 * endpoint's: `/healthz` (the process runs), `/readyz` (the balancer accepts new connections; 503
 * while draining), `/metrics` (Prometheus text) and `/endpoints` (endpoint state as JSON).
 */
export function createAdminServer(options: AdminServerOptions): Server {
  return createServer((req, res) => {
    void route(options, req, res).catch((error: unknown) => {
      options.logger.error({ err: error, path: req.url }, 'admin request failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
}

async function route(
  options: AdminServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://admin').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return send(res, 405, 'text/plain', 'method not allowed\n');
  switch (path) {
    case '/healthz':
      return send(res, 200, 'text/plain', 'ok\n');
    case '/readyz':
      return options.isReady()
        ? send(res, 200, 'text/plain', 'ready\n')
        : send(res, 503, 'text/plain', 'draining\n');
    case '/metrics':
      return send(res, 200, options.registry.contentType, await options.registry.metrics());
    case '/endpoints':
      return send(
        res,
        200,
        'application/json',
        JSON.stringify(describeEndpoints(options.upstream), null, 2),
      );
    default:
      return send(res, 404, 'text/plain', 'not found\n');
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Endpoint state as JSON, for the admin `/endpoints` and the web page's `/ui/api/endpoints`. */
export function describeEndpoints(upstream: Upstream): object {
  return {
    panic: upstream.inPanic(),
    endpoints: upstream.allEndpoints().map((endpoint) => ({
      id: endpoint.id,
      weight: endpoint.weight,
      priority: endpoint.priority,
      ready: endpoint.ready,
      removed: endpoint.removed,
      healthy: endpoint.health.healthy,
      ejected: endpoint.isEjected(),
      breaker: upstream.breakerOf(endpoint).state,
      openConnections: endpoint.openConnections,
      pendingUpgrades: endpoint.pendingUpgrades,
      activeRequests: endpoint.activeRequests,
      latencyEwmaMs: endpoint.latencyEwmaMs,
      load: endpoint.load,
    })),
  };
}
