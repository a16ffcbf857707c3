import {
  Agent,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { Endpoint } from './endpoint.js';
import { endToEndHeaders, upstreamRequestHeaders } from './headers.js';
import { rejectReasonHeader, type ProxyContext } from './proxy-context.js';

/** Methods that are safe to send again when the first endpoint could not be reached. */
const idempotentMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Keep-alive connection pools per endpoint, for plain HTTP requests only. */
export class EndpointAgents {
  private readonly agents = new Map<string, Agent>();

  get(endpoint: Endpoint): Agent {
    let agent = this.agents.get(endpoint.id);
    if (!agent) {
      agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 16 });
      this.agents.set(endpoint.id, agent);
    }
    return agent;
  }

  /** Closes the pool of an endpoint that left. */
  forget(endpoint: Endpoint): void {
    this.agents.get(endpoint.id)?.destroy();
    this.agents.delete(endpoint.id);
  }

  destroyAll(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

/**
 * Forwards a plain HTTP request to an endpoint and streams the response back with hop-by-hop fields
 * removed. A bodiless idempotent request whose endpoint could not be reached is retried on another
 * endpoint within the attempts and the retry budget; a request with a body is never resent.
 */
export async function handleRequest(
  context: ProxyContext,
  agents: EndpointAgents,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (SERVER_CONTROL_PATHS.has((req.url ?? '/').split('?')[0]!)) {
    return respond(context, res, 403, 'server_control_path');
  }
  const hasBody =
    req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0';
  const retryable =
    idempotentMethods.has(req.method ?? '') && !hasBody && !req.headers['transfer-encoding'];
  const maxAttempts = retryable ? context.config().retry.maxAttempts : 1;
  const tried = new Set<Endpoint>();

  context.inProgress.count++;
  try {
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1 && !context.retryBudget.tryAcquire(context.inProgress.count)) break;
      const picked = context.upstream.pick('request', tried);
      if (attempt > 1) context.retryBudget.release();
      if ('rejection' in picked) {
        if (attempt === 1) return respond(context, res, 503, picked.rejection);
        break;
      }
      if (attempt > 1) context.metrics.retries.inc();
      tried.add(picked.endpoint);
      if (await forwardOnce(context, agents, picked.endpoint, req, res)) return;
      if (res.headersSent || req.socket.destroyed) return;
    }
    respond(context, res, 502, 'connect_failure');
  } finally {
    context.inProgress.count--;
  }
}

/**
 * Stream server paths that change its state (shed clients, start draining). They are for the
 * operator and the balancer's own rebalancing, which call server pods directly, so the proxy
 * never forwards a client's request to them.
 */
const SERVER_CONTROL_PATHS = new Set(['/drain', '/draining']);

function respond(context: ProxyContext, res: ServerResponse, status: number, reason: string): void {
  context.metrics.rejections.inc({ reason });
  context.metrics.requests.inc({ result: 'rejected' });
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    [rejectReasonHeader]: reason,
  });
  res.end(`${reason}\n`);
}

/** Sends the request to one endpoint; resolves false when the endpoint could not be reached. */
function forwardOnce(
  context: ProxyContext,
  agents: EndpointAgents,
  endpoint: Endpoint,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const config = context.config();
  endpoint.activeRequests++;
  const upstreamRequest = httpRequest({
    host: endpoint.host,
    port: endpoint.port,
    method: req.method,
    path: req.url,
    headers: upstreamRequestHeaders(req, config),
    agent: agents.get(endpoint),
    setHost: false,
    timeout: config.requestTimeoutMs,
  });

  return new Promise<boolean>((resolve) => {
    let done = false;
    // A client that leaves early aborts the upstream request; that error is not the endpoint's.
    let clientGone = false;
    const finish = (reached: boolean): void => {
      if (done) return;
      done = true;
      endpoint.activeRequests--;
      context.upstream.retireIfIdle(endpoint);
      resolve(reached);
    };
    upstreamRequest.on('timeout', () => upstreamRequest.destroy(new Error('request timed out')));
    upstreamRequest.on('error', (error) => {
      if (res.headersSent || clientGone) {
        res.destroy();
        return finish(true);
      }
      context.logger.warn({ endpoint: endpoint.id, err: error }, 'request to endpoint failed');
      context.upstream.recordFailure(endpoint);
      context.metrics.requests.inc({ result: 'connect_failure' });
      finish(false);
    });
    upstreamRequest.on('response', (upstreamRes) => {
      if (clientGone) {
        upstreamRes.destroy();
        return finish(true);
      }
      context.upstream.recordSuccess(endpoint);
      context.metrics.requests.inc({
        result: String(Math.floor((upstreamRes.statusCode ?? 0) / 100)) + 'xx',
      });
      res.writeHead(
        upstreamRes.statusCode ?? 502,
        upstreamRes.statusMessage,
        endToEndHeaders(upstreamRes.headers),
      );
      upstreamRes.pipe(res);
      upstreamRes.on('error', () => res.destroy());
      upstreamRes.on('end', () => finish(true));
      res.on('close', () => {
        upstreamRes.destroy();
        finish(true);
      });
    });
    res.on('close', () => {
      if (res.writableFinished) return;
      clientGone = true;
      upstreamRequest.destroy();
    });
    req.pipe(upstreamRequest);
  });
}
