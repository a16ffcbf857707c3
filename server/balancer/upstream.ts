import type { BalancerConfig, EndpointSpec } from './balancer-config.js';
import { CircuitBreaker, type AdmissionKind, type BreakerRejection } from './circuit-breaker.js';
import { Endpoint, endpointId } from './endpoint.js';
import { LeastCostPicker, latencyAwareCost, leastConnectionsCost } from './least-cost-picker.js';
import { OutlierDetector } from './outlier-detector.js';
import type { Picker, Random } from './picker.js';
import { choosePriority, computePriorityLoad } from './priority-load.js';
import { RoundRobinPicker } from './round-robin-picker.js';
import { slowStartFactor } from './slow-start.js';

/** Reason no endpoint was picked; each becomes the reason of a 503 and a metric label. */
export type PickRejection = 'no_endpoint' | 'no_healthy_endpoint' | 'panic' | BreakerRejection;

/** An endpoint, or the reason none can take the work. */
export type PickResult = { endpoint: Endpoint } | { rejection: PickRejection };

/** Notifications the upstream sends to metrics and logs. */
export interface UpstreamObserver {
  onEject?(endpoint: Endpoint, durationMs: number): void;
  onUneject?(endpoint: Endpoint): void;
  onPanicChange?(panic: boolean, healthPercent: number): void;
  /** The endpoint left discovery and its last connection closed: forget its metric series. */
  onRetire?(endpoint: Endpoint): void;
  onAdd?(endpoint: Endpoint): void;
}

/** Collaborators and settings of an {@link Upstream}. */
export interface UpstreamOptions {
  config: BalancerConfig;
  /** Clock in ms; default Date.now. */
  now?: () => number;
  /** Uniform random numbers in [0, 1); default Math.random. */
  random?: Random;
  observer?: UpstreamObserver;
}

/**
 * The set of endpoints behind the balancer (Envoy's cluster): applies discovery updates, picks an
 * endpoint for each upgrade or request through priority levels, panic handling, circuit breakers
 * and the configured picker, and records outcomes for outlier detection.
 */
export class Upstream {
  private readonly members = new Map<string, Endpoint>();
  /** Removed endpoints that still carry connections, kept so their counts stay right. */
  private readonly leaving = new Map<string, Endpoint>();
  private readonly breakers = new WeakMap<Endpoint, CircuitBreaker>();
  private readonly now: () => number;
  private readonly random: Random;
  private readonly observer: UpstreamObserver;
  private readonly outliers: OutlierDetector;
  private config: BalancerConfig;
  private picker: Picker;
  private populated = false;
  private panic = false;

  constructor(options: UpstreamOptions) {
    this.config = options.config;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.observer = options.observer ?? {};
    this.outliers = new OutlierDetector(options.config.outlierDetection, this.now, {
      onEject: (endpoint, durationMs) => this.observer.onEject?.(endpoint, durationMs),
      onUneject: (endpoint) => {
        this.beginSlowStart(endpoint);
        this.observer.onUneject?.(endpoint);
      },
    });
    this.picker = this.createPicker();
  }

  /** Applies a reloaded configuration. Open connections and endpoint state stay. */
  configure(config: BalancerConfig): void {
    const pickerChanged =
      config.algorithm !== this.config.algorithm ||
      config.powerOfTwoChoices !== this.config.powerOfTwoChoices ||
      config.latency.defaultLatencyMs !== this.config.latency.defaultLatencyMs;
    this.config = config;
    this.outliers.configure(config.outlierDetection);
    for (const endpoint of this.allEndpoints())
      this.breakerOf(endpoint).configure(config.circuitBreaker);
    if (pickerChanged) this.picker = this.createPicker();
  }

  /**
   * Replaces the endpoint set with the one discovery reports. Kept endpoints keep their counts
   * and state. New ones ramp up through slow start unless they came with the first update.
   * Removed ones get no new work and are retired once their last connection closes.
   */
  setEndpoints(specs: readonly EndpointSpec[]): void {
    const wanted = new Map(specs.map((spec) => [endpointId(spec.host, spec.port), spec]));
    for (const [id, endpoint] of this.members) {
      if (wanted.has(id)) continue;
      endpoint.removed = true;
      this.members.delete(id);
      this.leaving.set(id, endpoint);
      this.retireIfIdle(endpoint);
    }
    for (const [id, spec] of wanted) {
      const endpoint = this.members.get(id) ?? this.revive(id) ?? this.add(spec);
      endpoint.weight = spec.weight ?? 1;
      endpoint.priority = spec.priority ?? 0;
      const ready = spec.ready ?? true;
      if (ready && !endpoint.ready) this.beginSlowStart(endpoint);
      endpoint.ready = ready;
    }
    this.populated = true;
  }

  /** Endpoints listed by discovery. */
  endpoints(): Endpoint[] {
    return [...this.members.values()];
  }

  /** Listed endpoints and removed ones that still carry connections. */
  allEndpoints(): Endpoint[] {
    return [...this.members.values(), ...this.leaving.values()];
  }

  /** Looks up a listed endpoint by `host:port`. */
  get(id: string): Endpoint | undefined {
    return this.members.get(id);
  }

  breakerOf(endpoint: Endpoint): CircuitBreaker {
    let breaker = this.breakers.get(endpoint);
    if (!breaker) {
      breaker = new CircuitBreaker(endpoint, this.now, this.config.circuitBreaker);
      this.breakers.set(endpoint, breaker);
    }
    return breaker;
  }

  /** True while the healthy share is below the panic threshold. */
  inPanic(): boolean {
    return this.panic;
  }

  /** Age after which an endpoint's load report no longer counts: three poll intervals. */
  loadMaxAgeMs(): number {
    return 3 * this.config.loadReport.intervalMs;
  }

  /** Effective weight: configured weight, slow start ramp and, for latency-aware, reported load. */
  weightOf(endpoint: Endpoint): number {
    const nowMs = this.now();
    let weight = endpoint.weight * slowStartFactor(endpoint, nowMs, this.config.slowStart);
    if (this.config.algorithm === 'latency-aware') {
      const load = endpoint.freshLoad(nowMs, this.loadMaxAgeMs());
      if (load) {
        const busy = Math.max(load.eventLoopUtilization, load.workerUtilization);
        weight *= Math.max(0.05, 1 - busy);
      }
    }
    return weight;
  }

  /** Picks an endpoint for new work, skipping those in `exclude` (already tried). */
  pick(kind: AdmissionKind, exclude: ReadonlySet<Endpoint> = new Set()): PickResult {
    const members = this.endpoints();
    if (members.length === 0) return { rejection: 'no_endpoint' };
    const nowMs = this.now();
    const maxAgeMs = this.loadMaxAgeMs();
    const isAvailable = (endpoint: Endpoint): boolean => endpoint.isAvailable(nowMs, maxAgeMs);
    const load = computePriorityLoad(
      members,
      isAvailable,
      this.config.overprovisioningFactor,
      this.config.panic.thresholdPercent,
    );
    this.updatePanic(load.panic, load.healthPercent);

    let pool: Endpoint[];
    if (load.panic) {
      if (this.config.panic.mode === 'fail') return { rejection: 'panic' };
      pool = members.filter(
        (endpoint) => endpoint.ready && !endpoint.reportsDraining(nowMs, maxAgeMs),
      );
    } else {
      const priority = choosePriority(load, this.random() * 100);
      pool = members.filter(isAvailable);
      // The chosen level goes first. Other levels are used only when its endpoints are all
      // excluded or full, so retries do not fail while capacity exists elsewhere.
      pool.sort(
        (a, b) =>
          Number(b.priority === priority) - Number(a.priority === priority) ||
          a.priority - b.priority,
      );
    }
    return this.pickFrom(pool, kind, exclude, !load.panic);
  }

  /**
   * Picks among the endpoints of the first pool entry's priority that the breakers admit, moving
   * to the next priority only when none is admitted. In panic the whole pool is one set.
   */
  private pickFrom(
    pool: Endpoint[],
    kind: AdmissionKind,
    exclude: ReadonlySet<Endpoint>,
    byPriority: boolean,
  ): PickResult {
    let rejection: PickRejection = 'no_healthy_endpoint';
    const admitted: Endpoint[] = [];
    for (const endpoint of pool) {
      if (exclude.has(endpoint)) continue;
      if (byPriority && admitted.length > 0 && endpoint.priority !== admitted[0]!.priority) break;
      const refused = this.breakerOf(endpoint).rejection(kind);
      if (refused) rejection = refused;
      else admitted.push(endpoint);
    }
    if (admitted.length === 0) return { rejection };
    return { endpoint: this.picker.pick(admitted, (endpoint) => this.weightOf(endpoint)) };
  }

  /** Records a 101 response to an upgrade, or a response to a plain request. */
  recordSuccess(endpoint: Endpoint, latencyMs?: number): void {
    if (latencyMs !== undefined) endpoint.recordLatency(latencyMs, this.config.latency.ewmaAlpha);
    this.breakerOf(endpoint).recordSuccess();
    this.outliers.recordSuccess(endpoint);
  }

  /** Records a connect failure, timeout or 5xx response to an upgrade. */
  recordFailure(endpoint: Endpoint): void {
    this.breakerOf(endpoint).recordFailure();
    if (!endpoint.removed) this.outliers.recordFailure(endpoint, this.endpoints());
  }

  /** Ends ejections that are due; the balancer calls it every `outlierDetection.intervalMs`. */
  sweepOutliers(): void {
    this.outliers.sweep(this.endpoints());
  }

  /** Restarts the slow start ramp, after an endpoint became ready or healthy, or returned from ejection. */
  beginSlowStart(endpoint: Endpoint): void {
    if (this.config.slowStart.windowMs > 0) endpoint.slowStartFromMs = this.now();
  }

  /** Drops a removed endpoint once it carries no work; call after each count decrement. */
  retireIfIdle(endpoint: Endpoint): void {
    if (!endpoint.removed || endpoint.activeLoad() > 0) return;
    if (this.leaving.get(endpoint.id) !== endpoint) return;
    this.leaving.delete(endpoint.id);
    this.observer.onRetire?.(endpoint);
  }

  private add(spec: EndpointSpec): Endpoint {
    const endpoint = new Endpoint(spec);
    this.members.set(endpoint.id, endpoint);
    if (this.populated) this.beginSlowStart(endpoint);
    this.observer.onAdd?.(endpoint);
    return endpoint;
  }

  private revive(id: string): Endpoint | undefined {
    const endpoint = this.leaving.get(id);
    if (!endpoint) return undefined;
    this.leaving.delete(id);
    endpoint.removed = false;
    this.members.set(id, endpoint);
    return endpoint;
  }

  private updatePanic(panic: boolean, healthPercent: number): void {
    if (panic === this.panic) return;
    this.panic = panic;
    this.observer.onPanicChange?.(panic, healthPercent);
  }

  private createPicker(): Picker {
    const { algorithm, powerOfTwoChoices, latency } = this.config;
    if (algorithm === 'round-robin') return new RoundRobinPicker();
    const cost =
      algorithm === 'latency-aware'
        ? latencyAwareCost(latency.defaultLatencyMs)
        : leastConnectionsCost;
    return new LeastCostPicker(cost, powerOfTwoChoices, this.random);
  }
}
