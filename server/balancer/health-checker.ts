import type { Logger } from '../core/logger.js';
import type { BalancerConfig } from './balancer-config.js';
import type { Endpoint } from './endpoint.js';
import { every, probe } from './http-probe.js';

/** Collaborators of a {@link HealthChecker}. */
export interface HealthCheckerOptions {
  /** Endpoints to probe, read at every round so discovery changes apply. */
  endpoints: () => Endpoint[];
  settings: () => BalancerConfig['healthCheck'];
  logger: Logger;
  onProbe?(endpoint: Endpoint, passed: boolean): void;
  /** Called when an endpoint turns healthy or unhealthy. */
  onChange?(endpoint: Endpoint, healthy: boolean): void;
}

/**
 * Active health checks: every `intervalMs`, GET the health path of each endpoint; a 2xx response
 * within the timeout passes. `unhealthyThreshold` failures in a row mark an endpoint unhealthy,
 * `healthyThreshold` passes in a row mark it healthy again. Endpoints start healthy, so a new
 * endpoint takes traffic before its first probe, as in Envoy without `ignore_new_hosts_until_first_hc`.
 */
export class HealthChecker {
  private loop: { stop(): void } | undefined;

  constructor(private readonly options: HealthCheckerOptions) {}

  start(): void {
    this.loop ??= every(
      () => this.options.settings().intervalMs,
      () => this.checkAll(),
      (error) => this.options.logger.error({ err: error }, 'health check round failed'),
    );
  }

  stop(): void {
    this.loop?.stop();
    this.loop = undefined;
  }

  /** Probes every endpoint once, in parallel. */
  async checkAll(): Promise<void> {
    const settings = this.options.settings();
    if (!settings.enabled) return;
    await Promise.all(this.options.endpoints().map((endpoint) => this.check(endpoint, settings)));
  }

  private async check(endpoint: Endpoint, settings: BalancerConfig['healthCheck']): Promise<void> {
    const result = await probe(endpoint, settings.path, settings.timeoutMs);
    const passed = 'status' in result && result.status >= 200 && result.status < 300;
    const health = endpoint.health;
    health.probes++;
    this.options.onProbe?.(endpoint, passed);
    if (passed) {
      health.consecutivePasses++;
      health.consecutiveFailures = 0;
    } else {
      health.consecutiveFailures++;
      health.consecutivePasses = 0;
    }

    if (!health.healthy && passed && health.consecutivePasses >= settings.healthyThreshold) {
      health.healthy = true;
      this.options.logger.info(
        { endpoint: endpoint.id },
        'endpoint passed health checks, now healthy',
      );
      this.options.onChange?.(endpoint, true);
    } else if (
      health.healthy &&
      !passed &&
      health.consecutiveFailures >= settings.unhealthyThreshold
    ) {
      health.healthy = false;
      const cause = 'error' in result ? result.error.message : `status ${result.status}`;
      this.options.logger.warn(
        { endpoint: endpoint.id, cause },
        'endpoint failed health checks, now unhealthy',
      );
      this.options.onChange?.(endpoint, false);
    }
  }
}
