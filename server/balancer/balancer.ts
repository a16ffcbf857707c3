import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Registry } from 'prom-client';
import { silentLogger, type Logger } from '../core/logger.js';
import { createAdminServer } from './admin-server.js';
import {
  mergeConfig,
  validateConfig,
  type BalancerConfig,
  type PartialBalancerConfig,
} from './balancer-config.js';
import { closeCodes } from './close-frame.js';
import { ConfigFileWatcher } from './config-file.js';
import { HealthChecker } from './health-checker.js';
import { EndpointAgents, handleRequest } from './http-proxy.js';
import { KubernetesDiscovery, inClusterApi, type KubernetesApi } from './kubernetes-discovery.js';
import { LoadReporter } from './load-reporter.js';
import { BalancerMetrics } from './metrics.js';
import type { Random } from './picker.js';
import type { ProxyContext } from './proxy-context.js';
import { Rebalancer } from './rebalancer.js';
import { RetryBudget } from './retry-budget.js';
import { handleUpgrade } from './upgrade-proxy.js';
import { Upstream } from './upstream.js';
import { handleWebPage, type WebPageOptions } from './web-page.js';

/** Options of {@link createBalancer}; collaborators are injected for tests and embedding. */
export interface BalancerOptions {
  /** Settings layered over the file's (and the defaults); see {@link BalancerConfig}. */
  config?: PartialBalancerConfig;
  /** JSON or YAML file of settings, watched and reloaded on change; default none. */
  configFile?: string;
  /** Port of the admin listener (`/healthz`, `/readyz`, `/metrics`); default none (not started). */
  adminPort?: number;
  /** Host the admin listener binds; default the proxy listener's host. */
  adminHost?: string;
  /**
   * Folder of the built web page, served at `/ui/` on the proxy listener together with
   * `/ui/api/endpoints`; default none (no page, every path is forwarded).
   */
  webRoot?: string;
  /**
   * Bearer token that `/ui/api/endpoints` requires, so only callers holding it see endpoint
   * addresses; default none (the list is open). Has no effect without `webRoot`.
   */
  webToken?: string;
  /**
   * Bearer token sent as `Authorization: Bearer` with rebalance shed requests, so endpoints
   * started with `--auth-token` accept them; default none.
   */
  serverToken?: string;
  /** Kubernetes API for EndpointSlice discovery; default the in-cluster service account. */
  kubernetesApi?: KubernetesApi;
  logger?: Logger;
  /** Registry for the balancer's metrics; default a new one. */
  registry?: Registry;
  /** Clock in ms; default Date.now. */
  now?: () => number;
  random?: Random;
}

/** A running balancer. */
export interface Balancer {
  /** Starts the proxy listener (and the admin listener when `adminPort` is set). */
  listen(port?: number, host?: string): Promise<AddressInfo>;
  /** Address of the proxy listener, or null before {@link listen}. */
  address(): AddressInfo | null;
  /** Address of the admin listener, or null when it is not running. */
  adminAddress(): AddressInfo | null;
  /** Replaces the `config` layer and applies the result; open connections stay. */
  configure(config: PartialBalancerConfig): void;
  /** Current merged configuration. */
  config(): BalancerConfig;
  /**
   * Drains: `/readyz` fails at once, the listener keeps accepting for `drain.delayMs`, then closes;
   * open WebSockets get `drain.timeoutMs` to end, then a 1012 close frame, then the balancer closes.
   */
  drain(): Promise<void>;
  /** Stops at once: closes listeners and destroys every connection. */
  close(): Promise<void>;
  readonly upstream: Upstream;
  readonly metrics: BalancerMetrics;
  readonly registry: Registry;
}

/** Creates a WebSocket-aware balancer; nothing listens or polls until {@link Balancer.listen}. */
export function createBalancer(options: BalancerOptions = {}): Balancer {
  return new BalancerImpl(options);
}

class BalancerImpl implements Balancer {
  readonly upstream: Upstream;
  readonly metrics: BalancerMetrics;
  readonly registry: Registry;
  private current: BalancerConfig;
  private fileLayer: PartialBalancerConfig = {};
  private overrides: PartialBalancerConfig;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly context: ProxyContext;
  private readonly agents = new EndpointAgents();
  private readonly pendingClients = new Set<Socket>();
  private readonly healthChecker: HealthChecker;
  private readonly loadReporter: LoadReporter;
  private readonly rebalancer: Rebalancer;
  private readonly webPage: WebPageOptions | undefined;
  private server: Server | undefined;
  private admin: Server | undefined;
  private configWatcher: ConfigFileWatcher | undefined;
  private discovery: { key: string; watch: KubernetesDiscovery } | undefined;
  private outlierTimer: NodeJS.Timeout | undefined;
  private draining = false;
  private acceptingUpgrades = true;
  private closed: Promise<void> | undefined;

  constructor(private readonly options: BalancerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.registry = options.registry ?? new Registry();
    this.overrides = options.config ?? {};
    this.current = validateConfig(mergeConfig(this.overrides));
    this.upstream = new Upstream({
      config: this.current,
      now: this.now,
      random: options.random,
      observer: this.upstreamObserver(),
    });
    this.metrics = new BalancerMetrics({
      registry: this.registry,
      maxEndpointLabels: this.current.maxEndpointLabels,
      upstream: this.upstream,
      isDraining: () => this.draining,
    });
    this.context = {
      upstream: this.upstream,
      metrics: this.metrics,
      retryBudget: new RetryBudget(this.current.retry),
      logger: this.logger,
      now: this.now,
      config: () => this.current,
      isDraining: () => !this.acceptingUpgrades,
      connections: new Set(),
      inProgress: { count: 0 },
    };
    this.healthChecker = this.createHealthChecker();
    this.loadReporter = new LoadReporter({
      endpoints: () => this.upstream.endpoints(),
      settings: () => this.current.loadReport,
      logger: this.logger,
      now: this.now,
    });
    this.rebalancer = new Rebalancer({
      availableEndpoints: () =>
        this.upstream
          .endpoints()
          .filter((endpoint) => endpoint.isAvailable(this.now(), this.upstream.loadMaxAgeMs())),
      settings: () => this.current.rebalance,
      loadMaxAgeMs: () => this.upstream.loadMaxAgeMs(),
      now: this.now,
      logger: this.logger,
      metrics: this.metrics,
      serverToken: options.serverToken,
    });
    this.webPage = options.webRoot
      ? {
          root: options.webRoot,
          token: options.webToken,
          upstream: this.upstream,
          logger: this.logger,
        }
      : undefined;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<AddressInfo> {
    if (this.options.configFile) await this.startConfigWatcher(this.options.configFile);
    else this.apply(this.current);

    this.server = this.createProxyServer();
    await listenOn(this.server, port, host);
    if (this.options.adminPort !== undefined) {
      this.admin = createAdminServer({
        registry: this.registry,
        upstream: this.upstream,
        isReady: () => this.server?.listening === true && !this.draining,
        logger: this.logger,
      });
      await listenOn(this.admin, this.options.adminPort, this.options.adminHost ?? host);
    }
    this.startLoops();
    const address = this.address()!;
    this.logger.info(
      { port: address.port, host: address.address, admin: this.adminAddress()?.port },
      'balancer listening',
    );
    return address;
  }

  address(): AddressInfo | null {
    return (this.server?.address() as AddressInfo | null | undefined) ?? null;
  }

  adminAddress(): AddressInfo | null {
    return (this.admin?.address() as AddressInfo | null | undefined) ?? null;
  }

  config(): BalancerConfig {
    return this.current;
  }

  configure(config: PartialBalancerConfig): void {
    this.overrides = config;
    this.apply(validateConfig(mergeConfig(this.fileLayer, this.overrides)));
  }

  async drain(): Promise<void> {
    if (this.draining) return this.closed ?? Promise.resolve();
    this.draining = true;
    const { delayMs, timeoutMs } = this.current.drain;
    this.logger.info(
      { delayMs, timeoutMs, connections: this.context.connections.size },
      'balancer draining',
    );
    await sleep(delayMs);

    this.acceptingUpgrades = false;
    this.server?.close();
    this.server?.closeIdleConnections();
    await this.waitForConnections(timeoutMs);
    if (this.context.connections.size > 0) {
      this.logger.info(
        { connections: this.context.connections.size },
        'closing remaining WebSockets with 1012',
      );
      for (const connection of this.context.connections)
        connection.close(closeCodes.serviceRestart, 'balancer draining');
      await this.waitForConnections(1000);
    }
    return this.close();
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.draining = true;
    this.acceptingUpgrades = false;
    this.stopLoops();
    this.configWatcher?.stop();
    this.discovery?.watch.stop();
    for (const connection of this.context.connections) connection.destroy();
    for (const socket of this.pendingClients) socket.destroy();
    this.agents.destroyAll();
    const servers = [this.server, this.admin].filter(
      (server): server is Server => server !== undefined,
    );
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    this.logger.info('balancer closed');
  }

  private createProxyServer(): Server {
    const server = createServer((req, res) => {
      if (this.webPage && handleWebPage(this.webPage, req, res)) return;
      void handleRequest(this.context, this.agents, req, res).catch((error: unknown) => {
        this.logger.error({ err: error, url: req.url }, 'forwarding request failed');
        res.destroy();
      });
    });
    server.on('upgrade', (req, socket: Socket, head: Buffer) => {
      this.pendingClients.add(socket);
      void handleUpgrade(this.context, req, socket, head)
        .catch((error: unknown) => {
          this.logger.error({ err: error, url: req.url }, 'forwarding upgrade failed');
          socket.destroy();
        })
        .finally(() => this.pendingClients.delete(socket));
    });
    server.on('clientError', (error, socket) => {
      this.logger.debug({ err: error }, 'malformed client request');
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      socket.destroy();
    });
    return server;
  }

  /** Applies a validated configuration: every component reads the new settings from now on. */
  private apply(config: BalancerConfig): void {
    this.current = config;
    this.upstream.configure(config);
    this.context.retryBudget.configure(config.retry);
    this.metrics.setMaxEndpointLabels(config.maxEndpointLabels);
    this.applyDiscovery(config);
  }

  private applyDiscovery(config: BalancerConfig): void {
    const key = config.kubernetes ? JSON.stringify(config.kubernetes) : '';
    if (this.discovery?.key === key) return;
    this.discovery?.watch.stop();
    this.discovery = undefined;
    if (!config.kubernetes) {
      this.upstream.setEndpoints(config.endpoints);
      return;
    }
    const watch = new KubernetesDiscovery({
      ...config.kubernetes,
      api: this.options.kubernetesApi ?? inClusterApi(),
      logger: this.logger,
      onUpdate: (endpoints) => {
        this.logger.info({ endpoints: endpoints.length }, 'EndpointSlices changed');
        this.upstream.setEndpoints(endpoints);
      },
    });
    this.discovery = { key, watch };
    watch.start();
  }

  private async startConfigWatcher(path: string): Promise<void> {
    this.configWatcher = new ConfigFileWatcher({
      path,
      logger: this.logger,
      onChange: (layer) => {
        const config = validateConfig(mergeConfig(layer, this.overrides));
        this.fileLayer = layer;
        this.apply(config);
        this.metrics.configReloads.inc({ result: 'applied' });
        this.logger.info({ file: path, algorithm: config.algorithm }, 'configuration applied');
      },
      onError: (error) => {
        this.metrics.configReloads.inc({ result: 'rejected' });
        this.logger.error(
          { err: error, file: path },
          'configuration file rejected, keeping the previous configuration',
        );
      },
    });
    await this.configWatcher.start();
  }

  private startLoops(): void {
    this.healthChecker.start();
    this.loadReporter.start();
    this.rebalancer.start();
    const sweep = (): void => {
      this.upstream.sweepOutliers();
      this.outlierTimer = setTimeout(sweep, this.current.outlierDetection.intervalMs);
      this.outlierTimer.unref();
    };
    sweep();
  }

  private stopLoops(): void {
    this.healthChecker.stop();
    this.loadReporter.stop();
    this.rebalancer.stop();
    clearTimeout(this.outlierTimer);
  }

  private async waitForConnections(timeoutMs: number): Promise<void> {
    const deadline = this.now() + timeoutMs;
    while (this.context.connections.size > 0 && this.now() < deadline) await sleep(50);
  }

  private createHealthChecker(): HealthChecker {
    return new HealthChecker({
      endpoints: () => this.upstream.endpoints(),
      settings: () => this.current.healthCheck,
      logger: this.logger,
      onProbe: (endpoint, passed) =>
        this.metrics.healthChecks.inc({
          endpoint: this.metrics.label(endpoint),
          result: passed ? 'pass' : 'fail',
        }),
      onChange: (endpoint, healthy) => {
        if (healthy) this.upstream.beginSlowStart(endpoint);
      },
    });
  }

  private upstreamObserver(): ConstructorParameters<typeof Upstream>[0]['observer'] {
    return {
      onEject: (endpoint, durationMs) => {
        this.metrics.ejections.inc({ endpoint: this.metrics.label(endpoint) });
        this.logger.warn(
          { endpoint: endpoint.id, durationMs, ejections: endpoint.outlier.ejectionCount },
          'endpoint ejected',
        );
      },
      onUneject: (endpoint) =>
        this.logger.info({ endpoint: endpoint.id }, 'endpoint returned from ejection'),
      onPanicChange: (panic, healthPercent) => {
        if (panic) this.metrics.panics.inc();
        const mode = this.current.panic.mode;
        if (panic)
          this.logger.warn({ healthPercent, mode }, 'too few healthy endpoints, pool in panic');
        else this.logger.info({ healthPercent }, 'pool left panic');
      },
      onRetire: (endpoint) => {
        this.metrics.forget(endpoint);
        this.agents.forget(endpoint);
      },
      onAdd: (endpoint) =>
        this.logger.info({ endpoint: endpoint.id, priority: endpoint.priority }, 'endpoint added'),
    };
  }
}

function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
