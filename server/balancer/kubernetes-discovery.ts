import { readFileSync } from 'node:fs';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { StreamClusterError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { EndpointSpec } from './balancer-config.js';
import { endpointsFromSlices, type EndpointSlice, type SliceMapping } from './endpoint-slices.js';

/** Address and credentials of the Kubernetes API server. */
export interface KubernetesApi {
  /** Base URL, such as `https://10.96.0.1:443`. */
  baseUrl: string;
  /** Reads the bearer token; called for every request because projected tokens rotate. */
  token?: () => string;
  /** CA bundle for an https base URL. */
  ca?: Buffer;
}

const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Returns the API server as seen from inside a pod, from the service environment and the mounted service account. */
export function inClusterApi(env: NodeJS.ProcessEnv = process.env): KubernetesApi {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) {
    throw new StreamClusterError(
      'KUBERNETES_UNAVAILABLE',
      'KUBERNETES_SERVICE_HOST must be set for Kubernetes discovery, got nothing; run inside a pod or use static endpoints',
    );
  }
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    baseUrl: `https://${hostPart}:${port}`,
    token: () => readFileSync(`${serviceAccountDir}/token`, 'utf8').trim(),
    ca: readFileSync(`${serviceAccountDir}/ca.crt`),
  };
}

/** Settings of a {@link KubernetesDiscovery}. */
export interface KubernetesDiscoveryOptions extends SliceMapping {
  api: KubernetesApi;
  namespace: string;
  service: string;
  logger: Logger;
  /** Called with the full endpoint list after the initial list and after every change. */
  onUpdate: (endpoints: EndpointSpec[]) => void;
  /** First delay before a relist after an error; doubles up to 30 s. Default 1000 ms. */
  retryDelayMs?: number;
  /** Server-side watch duration before the watch is renewed; default 300 s. */
  watchTimeoutSeconds?: number;
}

/** A watch event of the Kubernetes API. */
interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: EndpointSlice & { code?: number; message?: string };
}

/**
 * Watches the EndpointSlices of a Service (label `kubernetes.io/service-name`) with plain HTTP
 * requests: list, then watch from the list's resourceVersion, renewing the watch when it ends and
 * listing again after an error or 410 Gone. Every change yields the whole endpoint list.
 */
export class KubernetesDiscovery {
  private readonly slices = new Map<string, EndpointSlice>();
  private resourceVersion = '';
  private current: ClientRequest | undefined;
  private stopped = true;
  private retryDelayMs: number;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: KubernetesDiscoveryOptions) {
    this.retryDelayMs = options.retryDelayMs ?? 1000;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.current?.destroy();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.list();
        this.retryDelayMs = this.options.retryDelayMs ?? 1000;
        while (!this.stopped && (await this.watch())) {
          // The watch ended normally (server timeout); renew it from the last resourceVersion.
        }
      } catch (error) {
        if (this.stopped) return;
        this.options.logger.warn(
          {
            err: error,
            namespace: this.options.namespace,
            service: this.options.service,
            retryInMs: this.retryDelayMs,
          },
          'EndpointSlice watch failed, listing again',
        );
        await new Promise<void>((resolve) => {
          this.retryTimer = setTimeout(resolve, this.retryDelayMs);
        });
        this.retryDelayMs = Math.min(this.retryDelayMs * 2, 30_000);
      }
    }
  }

  private collectionPath(): string {
    const selector = encodeURIComponent(`kubernetes.io/service-name=${this.options.service}`);
    const namespace = encodeURIComponent(this.options.namespace);
    return `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices?labelSelector=${selector}`;
  }

  private async list(): Promise<void> {
    const res = await this.send(this.collectionPath());
    const text = await readBody(res);
    if (res.statusCode !== 200) throw apiError(res.statusCode, text);
    const body = JSON.parse(text) as {
      metadata?: { resourceVersion?: string };
      items?: EndpointSlice[];
    };
    this.slices.clear();
    for (const slice of body.items ?? []) this.slices.set(slice.metadata.name, slice);
    this.resourceVersion = body.metadata?.resourceVersion ?? '';
    this.publish();
  }

  /** Follows one watch; resolves true when it ended normally and can be renewed. */
  private async watch(): Promise<boolean> {
    const timeout = this.options.watchTimeoutSeconds ?? 300;
    const path = `${this.collectionPath()}&watch=1&allowWatchBookmarks=true&timeoutSeconds=${timeout}&resourceVersion=${encodeURIComponent(this.resourceVersion)}`;
    const res = await this.send(path);
    if (res.statusCode !== 200) throw apiError(res.statusCode, await readBody(res).catch(() => ''));

    let buffered = '';
    res.setEncoding('utf8');
    for await (const chunk of res as AsyncIterable<string>) {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line !== '') this.apply(JSON.parse(line) as WatchEvent);
      }
    }
    return true;
  }

  private apply(event: WatchEvent): void {
    const slice = event.object;
    if (event.type === 'ERROR') throw apiError(slice.code, slice.message ?? '');
    this.resourceVersion = slice.metadata?.resourceVersion ?? this.resourceVersion;
    if (event.type === 'BOOKMARK') return;
    if (event.type === 'DELETED') this.slices.delete(slice.metadata.name);
    else this.slices.set(slice.metadata.name, slice);
    this.publish();
  }

  private publish(): void {
    const { portName, zone, endpointOverrides } = this.options;
    const mapping = { portName, zone, endpointOverrides };
    this.options.onUpdate(endpointsFromSlices([...this.slices.values()], mapping));
  }

  private send(path: string): Promise<IncomingMessage> {
    const { api } = this.options;
    const url = new URL(path, api.baseUrl);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (api.token) headers.authorization = `Bearer ${api.token()}`;
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(url, { headers, ca: api.ca }, resolve);
      req.on('error', reject);
      req.end();
      this.current = req;
    });
  }
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function apiError(status: number | undefined, body: unknown): StreamClusterError {
  const detail = typeof body === 'string' ? body : JSON.stringify(body);
  return new StreamClusterError(
    'KUBERNETES_API_ERROR',
    `Kubernetes API responded with ${status ?? 'an error'}: ${detail.slice(0, 300)}; check the Service name and the balancer's RBAC (list and watch endpointslices)`,
  );
}
