import type { BalancerConfig } from './balancer-config.js';

/**
 * Bounds retries in progress to a share of the work in progress, as Envoy's retry budget does, so
 * a failing pool cannot multiply its own load. `minRetryConcurrency` retries are always allowed.
 */
export class RetryBudget {
  private retries = 0;

  constructor(private settings: BalancerConfig['retry']) {}

  /** Applies reloaded settings. */
  configure(settings: BalancerConfig['retry']): void {
    this.settings = settings;
  }

  /** Takes one retry slot when the budget allows it, given the upgrades and requests in progress. */
  tryAcquire(inProgress: number): boolean {
    const allowed = Math.max(
      this.settings.minRetryConcurrency,
      Math.floor((inProgress * this.settings.budgetPercent) / 100),
    );
    if (this.retries >= allowed) return false;
    this.retries++;
    return true;
  }

  /** Returns a slot taken by {@link tryAcquire}. */
  release(): void {
    this.retries = Math.max(0, this.retries - 1);
  }
}
