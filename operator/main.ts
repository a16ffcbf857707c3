import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { formatHelp, parseArgs, resolveConfig, type ConfigOf } from '../server/core/config.js';
import { createLogger, type Logger } from '../server/core/logger.js';
import { Controller } from './controller/controller.js';
import { LeaderElector } from './controller/leader.js';
import { OperatorMetrics } from './controller/metrics.js';
import { httpServerRequests } from './controller/server-requests.js';
import { httpStatsFetcher, type StatsFetcher, type StatsTarget } from './controller/stats.js';
import { createKubeClients, loadKubeConfig, type KubeClients } from './kube/client.js';
import { operatorSettings } from './settings.js';

/** Resolved settings of the operator. */
export type OperatorConfig = ConfigOf<typeof operatorSettings>;

/** Collaborators of {@link startOperator}, injectable for tests. */
export interface OperatorDependencies {
  logger?: Logger;
  clients?: KubeClients;
  metrics?: OperatorMetrics;
  fetchStats?: StatsFetcher;
  /**
   * Maps a server pod's address to one this process can reach, for every request to a server
   * (`/stats`, `/drain`, `/draining`); default the pod IP and port. `fetchStats` overrides it for
   * `/stats`. Tests outside the cluster network point it at forwarders or local servers.
   */
  serverAddress?: (target: StatsTarget) => Promise<StatsTarget>;
  /** This replica's identity for the Lease; default host name plus a random suffix. */
  identity?: string;
  /** Called when leadership is lost; default: nothing beyond stopping the controller. */
  onLostLeadership?: () => void;
  /** Tuning passed to the controller, such as shorter resync delays in tests. */
  controller?: {
    progressMs?: number;
    watchTimeoutSeconds?: number;
    silenceTimeoutMs?: number;
    drainStepMs?: number;
  };
}

/** A running operator. */
export interface OperatorHandle {
  /** Port of the metrics and health endpoint. */
  metricsPort: number;
  metrics: OperatorMetrics;
  /** The controller, once this replica leads. */
  readonly controller: Controller | undefined;
  /** Stops reconciling, releases the Lease and closes the metrics endpoint. */
  stop(): Promise<void>;
}

/**
 * Starts the operator: the metrics endpoint at once, the controller when this replica leads
 * (at once when leader election is off).
 */
export async function startOperator(
  config: OperatorConfig,
  dependencies: OperatorDependencies = {},
): Promise<OperatorHandle> {
  const logger = dependencies.logger ?? createLogger({ name: 'operator' });
  const clients =
    dependencies.clients ?? createKubeClients(loadKubeConfig(config.kubeconfig || undefined));
  const metrics = dependencies.metrics ?? new OperatorMetrics();
  const identity = dependencies.identity ?? `${hostname()}-${randomBytes(4).toString('hex')}`;
  let controller: Controller | undefined;

  const resolve = dependencies.serverAddress ?? (async (target: StatsTarget) => target);
  const readStats = httpStatsFetcher();
  const fetchStats =
    dependencies.fetchStats ?? (async (target) => readStats(await resolve(target)));

  const startController = () => {
    controller = new Controller({
      clients,
      logger,
      metrics,
      fetchStats,
      serverRequests: httpServerRequests({ resolve }),
      namespace: config.namespace,
      workers: config.workers,
      instance: identity,
      resyncMs: config.resyncSeconds * 1000,
      autoscaleIntervalMs: config.autoscaleIntervalSeconds * 1000,
      ...dependencies.controller,
    });
    controller.start().catch((error: unknown) => {
      logger.error({ err: error }, 'controller failed to start');
      dependencies.onLostLeadership?.();
    });
  };
  const server = await serveMetrics(config, metrics, () => controller !== undefined);

  const abort = new AbortController();
  let election: Promise<void> = Promise.resolve();
  if (config.leaderElect) {
    const elector = new LeaderElector({
      coordination: clients.coordination,
      namespace: config.leaseNamespace,
      name: config.leaseName,
      identity,
      leaseDurationSeconds: config.leaseDurationSeconds,
      logger,
      metrics,
    });
    election = elector.run(abort.signal, startController, () => {
      logger.error({ identity }, 'leadership lost; stopping');
      void controller?.stop();
      controller = undefined;
      dependencies.onLostLeadership?.();
    });
  } else {
    startController();
  }
  logger.info({ identity, leaderElect: config.leaderElect }, 'operator started');

  return {
    metricsPort: (server.address() as AddressInfo).port,
    metrics,
    get controller() {
      return controller;
    },
    async stop() {
      await controller?.stop();
      abort.abort();
      await election;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      logger.info('operator stopped');
    },
  };
}

function serveMetrics(
  config: OperatorConfig,
  metrics: OperatorMetrics,
  isLeading: () => boolean,
): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (body) => {
          response.writeHead(200, { 'content-type': metrics.registry.contentType });
          response.end(body);
        },
        (error: unknown) => {
          response.writeHead(500).end(String(error));
        },
      );
      return;
    }
    if (path === '/healthz' || path === '/readyz') {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(path === '/readyz' && !isLeading() ? 'ok (standby)\n' : 'ok\n');
      return;
    }
    response.writeHead(404).end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.metricsPort, config.metricsHost, () => resolve(server));
  });
}

/**
 * Entry point of `streamcluster operator`: parses flags, starts the operator and runs until
 * SIGTERM or SIGINT. Rejects when leadership is lost, so the process exits and restarts.
 */
export async function runOperator(argv: string[]): Promise<void> {
  const { flags } = parseArgs(argv, operatorSettings, ['help']);
  if (flags.has('help')) {
    process.stdout.write(
      `Usage: streamcluster operator [flags]\n\n${formatHelp(operatorSettings)}\n`,
    );
    return;
  }
  const config = resolveConfig(operatorSettings, flags);
  await new Promise<void>((resolve, reject) => {
    let handle: OperatorHandle | undefined;
    const stop = () => void handle?.stop().then(resolve, reject);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    startOperator(config, {
      onLostLeadership: () => reject(new Error('leadership lost; restart to rejoin the election')),
    }).then((started) => {
      handle = started;
    }, reject);
  });
}
