import { readFileSync } from 'node:fs';
import {
  formatHelp,
  integer,
  list,
  oneOf,
  parseArgs,
  resolveConfig,
  text,
  type ConfigOf,
  type Setting,
} from '../core/config.js';
import { ValidationError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import { bearerToken } from '../core/token.js';
import { createBalancer, type Balancer } from './balancer.js';
import type { Algorithm, PartialBalancerConfig } from './balancer-config.js';
import { parseEndpointList } from './static-discovery.js';

/** Command-line settings of `streamcluster balancer`; everything else comes from `--config`. */
export const balancerSettings = {
  port: {
    flag: 'port',
    env: 'STREAMCLUSTER_BALANCER_PORT',
    help: 'TCP port the balancer accepts HTTP and WebSocket clients on',
    default: 8080,
    parse: integer(0, 65535),
  } satisfies Setting<number>,
  host: {
    flag: 'host',
    env: 'STREAMCLUSTER_BALANCER_HOST',
    help: 'Address the proxy and admin listeners bind',
    default: '0.0.0.0',
    parse: text,
  } satisfies Setting<string>,
  adminPort: {
    flag: 'admin-port',
    env: 'STREAMCLUSTER_BALANCER_ADMIN_PORT',
    help: 'TCP port of /healthz, /readyz, /metrics and /endpoints',
    default: 9901,
    parse: integer(0, 65535),
  } satisfies Setting<number>,
  configFile: {
    flag: 'config',
    env: 'STREAMCLUSTER_BALANCER_CONFIG',
    help: 'JSON or YAML settings file, reloaded when it changes (see docs/balancer.md)',
    default: '',
    parse: text,
  } satisfies Setting<string>,
  endpoints: {
    flag: 'endpoints',
    env: 'STREAMCLUSTER_BALANCER_ENDPOINTS',
    help: 'Static endpoints, comma-separated host:port[;weight=N][;priority=N]; overrides the file',
    default: [] as string[],
    parse: list,
  } satisfies Setting<string[]>,
  algorithm: {
    flag: 'algorithm',
    env: 'STREAMCLUSTER_BALANCER_ALGORITHM',
    help: 'round-robin, least-connections or latency-aware; overrides the file [default: least-connections]',
    default: '' as Algorithm | '',
    parse: oneOf<Algorithm>('round-robin', 'least-connections', 'latency-aware'),
  } satisfies Setting<Algorithm | ''>,
  kubernetesService: {
    flag: 'kubernetes-service',
    env: 'STREAMCLUSTER_BALANCER_KUBERNETES_SERVICE',
    help: 'Service whose EndpointSlices are watched for endpoints; overrides the file',
    default: '',
    parse: text,
  } satisfies Setting<string>,
  kubernetesNamespace: {
    flag: 'kubernetes-namespace',
    env: 'POD_NAMESPACE',
    help: "Namespace of that Service [default: the pod's own namespace]",
    default: '',
    parse: text,
  } satisfies Setting<string>,
  webRoot: {
    flag: 'web-root',
    env: 'STREAMCLUSTER_BALANCER_WEB_ROOT',
    help: 'Folder of the built web page (npm run build:web writes dist/web), served at /ui/; no page when unset',
    default: '',
    parse: text,
  } satisfies Setting<string>,
  webToken: {
    flag: 'web-token',
    env: 'STREAMCLUSTER_BALANCER_WEB_TOKEN',
    help: "Bearer token that /ui/api/endpoints requires; set it to the stream servers' --auth-token [default: the list is open]",
    default: '',
    parse: bearerToken,
    secret: true,
  } satisfies Setting<string>,
  serverToken: {
    flag: 'server-token',
    env: 'STREAMCLUSTER_BALANCER_SERVER_TOKEN',
    help: "Bearer token sent with rebalance shed requests; set it to the stream servers' --auth-token [default: none]",
    default: '',
    parse: bearerToken,
    secret: true,
  } satisfies Setting<string>,
  kubernetesPortName: {
    flag: 'kubernetes-port-name',
    env: 'STREAMCLUSTER_BALANCER_KUBERNETES_PORT_NAME',
    help: "EndpointSlice port name to use [default: each slice's first TCP port]",
    default: '',
    parse: text,
  } satisfies Setting<string>,
};

/** Resolved command-line settings. */
export type BalancerCliConfig = ConfigOf<typeof balancerSettings>;

/** Turns the command-line settings into the configuration layer that overrides the file. */
export function cliOverrides(
  cli: BalancerCliConfig,
  readNamespace = podNamespace,
): PartialBalancerConfig {
  const overrides: PartialBalancerConfig = {};
  if (cli.endpoints.length > 0) overrides.endpoints = parseEndpointList(cli.endpoints);
  if (cli.algorithm !== '') overrides.algorithm = cli.algorithm;
  if (cli.kubernetesService !== '') {
    overrides.kubernetes = {
      service: cli.kubernetesService,
      namespace: cli.kubernetesNamespace || readNamespace(),
      ...(cli.kubernetesPortName ? { portName: cli.kubernetesPortName } : {}),
    };
  }
  return overrides;
}

function podNamespace(): string {
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim();
  } catch {
    return 'default';
  }
}

/**
 * Entry point of `streamcluster balancer`: parses flags (then environment, then defaults), starts
 * the balancer and its admin listener, drains on SIGTERM and stops at once on a second signal.
 * Resolves with the running balancer; `--help` prints the flags and resolves with undefined.
 */
export async function runBalancer(
  argv: string[],
  options: { logger?: Logger; env?: NodeJS.ProcessEnv; handleSignals?: boolean } = {},
): Promise<Balancer | undefined> {
  const parsed = parseArgs(argv, balancerSettings, ['help']);
  if (parsed.flags.has('help')) {
    process.stdout.write(
      `usage: streamcluster balancer [flags]\n\nflags:\n${formatHelp(balancerSettings)}\n`,
    );
    return undefined;
  }
  const cli = resolveConfig(balancerSettings, parsed.flags, options.env ?? process.env);
  checkSettings(cli);
  const logger = options.logger ?? createLogger({ name: 'balancer' });
  const balancer = createBalancer({
    config: cliOverrides(cli),
    configFile: cli.configFile || undefined,
    adminPort: cli.adminPort,
    webRoot: cli.webRoot || undefined,
    webToken: cli.webToken || undefined,
    serverToken: cli.serverToken || undefined,
    logger,
  });
  await balancer.listen(cli.port, cli.host);
  if (cli.webRoot) {
    logger.info(
      { webRoot: cli.webRoot, endpointListRequiresToken: cli.webToken !== '' },
      'serving the web page at /ui/',
    );
  }
  const config = balancer.config();
  if (!config.kubernetes && config.endpoints.length === 0) {
    logger.warn(
      { file: cli.configFile },
      'the configuration file lists no endpoints and no kubernetes service, so every upgrade gets 503 no_endpoint until the file changes',
    );
  }
  if (options.handleSignals ?? true) handleSignals(balancer, logger);
  return balancer;
}

/**
 * Rejects settings that cannot work together and lists every problem. A balancer with no source
 * of endpoints would reject every client with 503. Endpoints may come from a configuration file,
 * so that case is checked after loading. A web token without a web page would protect nothing.
 */
function checkSettings(cli: BalancerCliConfig): void {
  const problems: string[] = [];
  if (cli.endpoints.length === 0 && cli.kubernetesService === '' && cli.configFile === '') {
    problems.push(
      'no endpoints to balance: set --endpoints (STREAMCLUSTER_BALANCER_ENDPOINTS) to host:port,..., --kubernetes-service (STREAMCLUSTER_BALANCER_KUBERNETES_SERVICE), or --config with an endpoints list',
    );
  }
  if (cli.webToken !== '' && cli.webRoot === '') {
    problems.push(
      '--web-token (STREAMCLUSTER_BALANCER_WEB_TOKEN) protects the web page, which is served only with --web-root (STREAMCLUSTER_BALANCER_WEB_ROOT); set both or neither',
    );
  }
  if (problems.length > 0) throw new ValidationError(problems);
}

function handleSignals(balancer: Balancer, logger: Logger): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn({ signal }, 'second signal, closing at once');
      void balancer.close().then(() => process.exit(1));
      return;
    }
    signalled = true;
    const stop = signal === 'SIGTERM' ? balancer.drain() : balancer.close();
    void stop.then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
