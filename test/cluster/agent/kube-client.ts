import { readFileSync } from 'node:fs';
import { Agent, request, type RequestOptions } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { StreamClusterError } from '../../../server/core/errors.js';

/** Connection settings of {@link KubeClient}; the files are PEM. */
export interface KubeClientOptions {
  apiServerUrl: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** A non-2xx response of the API server; `status` is its HTTP status. */
export class KubeApiError extends StreamClusterError {
  readonly status: number;

  constructor(method: string, path: string, status: number, body: string) {
    super('KUBE_API_ERROR', `${method} ${path} failed with HTTP ${status}: ${body.slice(0, 500)}`);
    this.status = status;
  }
}

/** One line of a watch stream. */
export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/**
 * Minimal Kubernetes REST client over client-certificate TLS: JSON requests and line-delimited
 * watch streams. The agent needs a handful of calls, which this covers without a dependency.
 */
export class KubeClient {
  private readonly base: URL;
  private readonly agent: Agent;

  constructor(options: KubeClientOptions) {
    this.base = new URL(options.apiServerUrl);
    this.agent = new Agent({
      keepAlive: true,
      ca: readFileSync(options.caFile),
      cert: readFileSync(options.certFile),
      key: readFileSync(options.keyFile),
    });
  }

  /** Sends a request and parses the JSON response; throws {@link KubeApiError} on non-2xx. */
  async request<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = contentType ?? 'application/json';
      // Node sends a DELETE body without chunked encoding, so the length must be explicit.
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const response = await this.send({ method, path, headers }, payload);
    const text = await readBody(response);
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) throw new KubeApiError(method, path, status, text);
    return JSON.parse(text) as T;
  }

  /** Sends a merge patch (RFC 7386), the simplest patch that works on any object. */
  mergePatch<T>(path: string, patch: unknown): Promise<T> {
    return this.request<T>('PATCH', path, patch, 'application/merge-patch+json');
  }

  /**
   * Streams watch events of PATH (which carries the watch query) to onEvent until the server
   * ends the stream or signal aborts. Rejects with {@link KubeApiError} when the server
   * refuses the watch itself.
   */
  async watch<T>(
    path: string,
    onEvent: (event: WatchEvent<T>) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const response = await this.send({ method: 'GET', path, signal }, undefined);
    const status = response.statusCode ?? 0;
    if (status !== 200) throw new KubeApiError('GET', path, status, await readBody(response));
    let pending = '';
    response.setEncoding('utf8');
    try {
      for await (const chunk of response as AsyncIterable<string>) {
        pending += chunk;
        let newline: number;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (line !== '') onEvent(JSON.parse(line) as WatchEvent<T>);
        }
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private send(options: RequestOptions, payload: string | undefined): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const call = request(
        {
          ...options,
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port,
          agent: this.agent,
        },
        resolve,
      );
      call.on('error', reject);
      call.end(payload);
    });
  }
}

async function readBody(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
