import { StreamClusterError } from '../../server/core/errors.js';
import { describeRequestFailure, serverUrl, type StatsTarget } from './stats.js';

/** Options of one `POST /drain` request; see the contract in docs/balancer.md. */
export interface ShedRequest {
  /** Connections the server should close. */
  connections: number;
  /** Time over which the server spreads the closes, in milliseconds. */
  spreadMs: number;
  /** Upper bound of the random delay clients wait before they reconnect, in milliseconds. */
  reconnectDelayMs: number;
}

/**
 * The requests the operator sends to a stream server besides `/stats`, for graceful scale-in and
 * for moving load onto new servers. Injected, so tests can route them to local servers.
 */
export interface ServerRequests {
  /**
   * Starts (`true`) or stops (`false`) draining for removal: `POST` or `DELETE /draining`, with
   * `token` as `Authorization: Bearer` when the servers require one.
   */
  setDraining(target: StatsTarget, draining: boolean, token?: string): Promise<void>;
  /**
   * Asks the server to close connections: `POST /drain`, with `token` as for `setDraining`.
   * Resolves to the count it accepted.
   */
  shed(target: StatsTarget, request: ShedRequest, token?: string): Promise<number>;
}

/** A request to a stream server that failed or was refused. */
export class ServerRequestError extends StreamClusterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SERVER_REQUEST_FAILED', message, options);
  }
}

/**
 * Sends the requests over HTTP. `resolve` maps a pod's address to one this process can reach,
 * the identity by default.
 */
export function httpServerRequests(
  options: { timeoutMs?: number; resolve?: (target: StatsTarget) => Promise<StatsTarget> } = {},
): ServerRequests {
  const timeoutMs = options.timeoutMs ?? 2000;
  const resolve = options.resolve ?? (async (target: StatsTarget) => target);

  const send = async (
    target: StatsTarget,
    method: string,
    path: string,
    token: string | undefined,
  ): Promise<string> => {
    const url = serverUrl(await resolve(target), path);
    const request = `${method} ${serverUrl(target, path)} of ${target.podName}`;
    const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
    try {
      const response = await fetch(url, {
        method,
        headers,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = await response.text();
      if (!response.ok) {
        throw new ServerRequestError(`${request} returned HTTP ${response.status}: ${body.trim()}`);
      }
      return body;
    } catch (error) {
      throw describeRequestFailure(error, request, timeoutMs, ServerRequestError);
    }
  };

  return {
    async setDraining(target, draining, token) {
      await send(target, draining ? 'POST' : 'DELETE', '/draining', token);
    },
    async shed(target, request, token) {
      const query = new URLSearchParams({
        connections: String(request.connections),
        spreadMs: String(Math.round(request.spreadMs)),
        reconnectDelayMs: String(request.reconnectDelayMs),
      });
      const body = await send(target, 'POST', `/drain?${query}`, token);
      const accepted = (JSON.parse(body) as { accepted?: unknown }).accepted;
      return typeof accepted === 'number' ? accepted : 0;
    },
  };
}
