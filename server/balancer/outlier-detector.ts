import type { BalancerConfig } from './balancer-config.js';
import type { Endpoint } from './endpoint.js';

/** Notified when an endpoint is ejected or returns. */
export interface OutlierEvents {
  onEject(endpoint: Endpoint, durationMs: number): void;
  onUneject(endpoint: Endpoint): void;
}

/**
 * Passive outlier detection: counts consecutive connect failures and 5xx responses to upgrades per
 * endpoint and ejects an endpoint at the threshold. The n-th ejection in a row lasts n times the
 * base time, up to the maximum; the repeat count decays by one for each base time the endpoint
 * then stays in rotation. Ejections never exceed `maxEjectionPercent` of the endpoints, rounded
 * down: with 3 endpoints and 50%, at most one is ejected, and a failing endpoint over the cap
 * stays in rotation (its circuit breaker still protects it).
 */
export class OutlierDetector {
  constructor(
    private settings: BalancerConfig['outlierDetection'],
    private readonly now: () => number,
    private readonly events: OutlierEvents,
  ) {}

  /** Applies reloaded settings; current ejections keep their end time. */
  configure(settings: BalancerConfig['outlierDetection']): void {
    this.settings = settings;
  }

  /** Records a successful upgrade: the failure streak ends. */
  recordSuccess(endpoint: Endpoint): void {
    endpoint.outlier.consecutiveFailures = 0;
  }

  /** Records a failure and ejects the endpoint when the streak reaches the threshold. */
  recordFailure(endpoint: Endpoint, members: readonly Endpoint[]): void {
    const outlier = endpoint.outlier;
    outlier.consecutiveFailures++;
    const threshold = this.settings.consecutiveFailures;
    if (threshold === 0 || outlier.consecutiveFailures < threshold || endpoint.isEjected()) return;
    if (!this.mayEject(members)) return;

    outlier.ejectionCount++;
    outlier.consecutiveFailures = 0;
    const durationMs = Math.min(
      this.settings.baseEjectionTimeMs * outlier.ejectionCount,
      Math.max(this.settings.maxEjectionTimeMs, this.settings.baseEjectionTimeMs),
    );
    outlier.ejectedUntilMs = this.now() + durationMs;
    this.events.onEject(endpoint, durationMs);
  }

  /** Ends ejections whose time passed and decays repeat counts; runs every `intervalMs`. */
  sweep(members: readonly Endpoint[]): void {
    const nowMs = this.now();
    for (const endpoint of members) {
      const outlier = endpoint.outlier;
      if (outlier.ejectedUntilMs !== 0 && nowMs >= outlier.ejectedUntilMs) {
        outlier.ejectedUntilMs = 0;
        outlier.lastChangeMs = nowMs;
        this.events.onUneject(endpoint);
      } else if (
        outlier.ejectedUntilMs === 0 &&
        outlier.ejectionCount > 0 &&
        nowMs - outlier.lastChangeMs >= this.settings.baseEjectionTimeMs
      ) {
        outlier.ejectionCount--;
        outlier.lastChangeMs = nowMs;
      }
    }
  }

  private mayEject(members: readonly Endpoint[]): boolean {
    const ejected = members.filter((endpoint) => endpoint.isEjected()).length;
    const allowed = Math.floor((members.length * this.settings.maxEjectionPercent) / 100);
    return ejected + 1 <= allowed;
  }
}
