import type { BalancerConfig } from './balancer-config.js';
import type { Endpoint } from './endpoint.js';

/** Breaker states, with the gauge value metrics report for each. */
export const breakerStateValue = { closed: 0, 'half-open': 1, open: 2 } as const;
export type BreakerState = keyof typeof breakerStateValue;

/** Why the breaker turned a new upgrade or request away. */
export type BreakerRejection =
  'circuit_open' | 'max_connections' | 'max_pending_upgrades' | 'max_requests';

/** The kind of work asking for admission. */
export type AdmissionKind = 'upgrade' | 'request';

/**
 * Circuit breaker of one endpoint. Closed, it admits work up to the caps on open WebSockets,
 * pending upgrades and HTTP requests. After `consecutiveFailures` failures in a row it opens and
 * admits nothing for `openMs`; then, half-open, it admits `halfOpenMaxUpgrades` trials at once,
 * and the first trial's outcome closes or reopens it. Active health probes go around the breaker,
 * so a full endpoint still answers them.
 */
export class CircuitBreaker {
  private stateValue: BreakerState = 'closed';
  private failures = 0;
  private openedAtMs = 0;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly now: () => number,
    private settings: BalancerConfig['circuitBreaker'],
  ) {}

  /** Applies reloaded settings; the current state and counts stay. */
  configure(settings: BalancerConfig['circuitBreaker']): void {
    this.settings = settings;
  }

  /** Current state; an open breaker whose time has passed reads as half-open. */
  get state(): BreakerState {
    if (this.stateValue === 'open' && this.now() - this.openedAtMs >= this.settings.openMs) {
      this.stateValue = 'half-open';
    }
    return this.stateValue;
  }

  /** Returns why new work of this kind is rejected now, or undefined when it is admitted. */
  rejection(kind: AdmissionKind): BreakerRejection | undefined {
    const state = this.state;
    const ep = this.endpoint;
    if (state === 'open') return 'circuit_open';
    if (
      state === 'half-open' &&
      ep.pendingUpgrades + ep.activeRequests >= this.settings.halfOpenMaxUpgrades
    ) {
      return 'circuit_open';
    }
    if (kind === 'request') {
      return ep.activeRequests >= this.settings.maxRequests ? 'max_requests' : undefined;
    }
    if (ep.openConnections + ep.pendingUpgrades >= this.settings.maxConnections)
      return 'max_connections';
    if (ep.pendingUpgrades >= this.settings.maxPendingUpgrades) return 'max_pending_upgrades';
    return undefined;
  }

  /** Records a completed upgrade or a response to a request; closes a half-open breaker. */
  recordSuccess(): void {
    this.failures = 0;
    if (this.state === 'half-open') this.stateValue = 'closed';
  }

  /** Records a failure; opens the breaker at the threshold or when a half-open trial fails. */
  recordFailure(): void {
    this.failures++;
    const threshold = this.settings.consecutiveFailures;
    const state = this.state;
    if (
      state === 'half-open' ||
      (state === 'closed' && threshold > 0 && this.failures >= threshold)
    ) {
      this.stateValue = 'open';
      this.openedAtMs = this.now();
    }
  }
}
