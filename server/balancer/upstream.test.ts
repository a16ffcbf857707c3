import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mergeConfig, type EndpointSpec, type PartialBalancerConfig } from './balancer-config.js';
import type { Endpoint } from './endpoint.js';
import { Upstream, type PickRejection } from './upstream.js';

/** One step of a scenario, applied in order to the upstream. */
type Step =
  /** Opens `count` long-lived sessions: each pick keeps a connection open. `failing` endpoints fail. */
  | { open: number; failing?: string[] }
  /** Makes `count` short picks (nothing held), recording each outcome. */
  | { pick: number; failing?: string[] }
  /** Replaces the endpoint set, as a discovery update does. */
  | { endpoints: EndpointSpec[] }
  | { advanceMs: number }
  | { unhealthy: string[] }
  | { healthy: string[] }
  /** Closes `count` sessions held on an endpoint. */
  | { close: string; count: number }
  | { latencyMs: Record<string, number> }
  | { eventLoopUtilization: Record<string, number> }
  | { workerUtilization: Record<string, number> };

interface Scenario {
  name: string;
  config?: PartialBalancerConfig;
  endpoints: EndpointSpec[];
  steps: Step[];
  /** Exact endpoint names picked, in order, over all pick and open steps. */
  sequence?: string[];
  /** Open connections per endpoint at the end. */
  connections?: Record<string, number>;
  /** Picks per endpoint over all steps, each within `tolerance` of the expected count. */
  picks?: Record<string, number>;
  tolerance?: number;
  /** Rejections by reason over all steps. */
  rejections?: Partial<Record<PickRejection, number>>;
  /** Endpoints ejected, in order of ejection, with each ejection's duration. */
  ejections?: [string, number][];
  panic?: boolean;
}

const ep = (name: string, extra: Partial<EndpointSpec> = {}): EndpointSpec => ({
  host: name,
  port: 80,
  ...extra,
});

/** Deterministic uniform random numbers (mulberry32), so ratio scenarios are repeatable. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const noBreakerTrips: PartialBalancerConfig['circuitBreaker'] = { consecutiveFailures: 0 };

const scenarios: Scenario[] = [
  {
    name: 'smooth round-robin spreads the heaviest endpoint',
    config: { algorithm: 'round-robin' },
    endpoints: [ep('a', { weight: 5 }), ep('b'), ep('c')],
    steps: [{ pick: 7 }],
    sequence: ['a', 'a', 'b', 'a', 'c', 'a', 'a'],
  },
  {
    name: 'round-robin with equal weights rotates',
    config: { algorithm: 'round-robin' },
    endpoints: [ep('a'), ep('b'), ep('c')],
    steps: [{ pick: 6 }],
    sequence: ['a', 'b', 'c', 'a', 'b', 'c'],
  },
  {
    name: 'round-robin weights 3:1 give a 3:1 ratio',
    config: { algorithm: 'round-robin' },
    endpoints: [ep('a', { weight: 3 }), ep('b')],
    steps: [{ pick: 400 }],
    picks: { a: 300, b: 100 },
    tolerance: 0,
  },
  {
    name: 'least connections fills a new endpoint first',
    config: { algorithm: 'least-connections' },
    endpoints: [ep('a'), ep('b')],
    steps: [
      { open: 100 },
      { endpoints: [ep('a'), ep('b'), ep('c')] },
      { endpoints: [ep('a'), ep('b'), ep('c')] },
      { open: 30 },
    ],
    connections: { a: 50, b: 50, c: 30 },
  },
  {
    name: 'least connections honours weights',
    config: { algorithm: 'least-connections' },
    endpoints: [ep('a', { weight: 2 }), ep('b')],
    steps: [{ open: 60 }],
    connections: { a: 40, b: 20 },
  },
  {
    name: 'least connections refills after closes',
    config: { algorithm: 'least-connections' },
    endpoints: [ep('a'), ep('b')],
    steps: [{ open: 20 }, { close: 'a', count: 10 }, { open: 10 }],
    connections: { a: 10, b: 10 },
    picks: { a: 20, b: 10 },
    tolerance: 0,
  },
  {
    name: 'power of two choices stays balanced',
    config: { algorithm: 'least-connections', powerOfTwoChoices: true },
    endpoints: [ep('a'), ep('b'), ep('c'), ep('d')],
    steps: [{ open: 1000 }],
    picks: { a: 250, b: 250, c: 250, d: 250 },
    tolerance: 3,
  },
  {
    name: 'latency aware prefers the faster endpoint',
    config: { algorithm: 'latency-aware' },
    endpoints: [ep('a'), ep('b')],
    steps: [{ latencyMs: { a: 4, b: 1 } }, { open: 50 }],
    connections: { a: 10, b: 40 },
  },
  {
    name: 'latency aware lowers a busy event loop',
    config: { algorithm: 'latency-aware' },
    endpoints: [ep('a'), ep('b')],
    steps: [{ eventLoopUtilization: { a: 0.75, b: 0 } }, { open: 50 }],
    connections: { a: 10, b: 40 },
  },
  {
    name: 'latency aware lowers busy embedding workers',
    config: { algorithm: 'latency-aware' },
    endpoints: [ep('a'), ep('b')],
    steps: [{ workerUtilization: { a: 0.75, b: 0 } }, { open: 50 }],
    connections: { a: 10, b: 40 },
  },
  {
    name: 'two failing of three eject at most one at 50%',
    config: {
      algorithm: 'round-robin',
      outlierDetection: {
        consecutiveFailures: 5,
        maxEjectionPercent: 50,
        baseEjectionTimeMs: 30_000,
      },
      circuitBreaker: noBreakerTrips,
    },
    endpoints: [ep('a'), ep('b'), ep('c')],
    steps: [{ pick: 300, failing: ['b', 'c'] }],
    ejections: [['b', 30_000]],
  },
  {
    name: 'max ejection percent 0 ejects nothing',
    config: { outlierDetection: { maxEjectionPercent: 0 }, circuitBreaker: noBreakerTrips },
    endpoints: [ep('a'), ep('b')],
    steps: [{ pick: 100, failing: ['b'] }],
    ejections: [],
  },
  {
    name: 'ejection time grows with each repeat',
    config: {
      algorithm: 'round-robin',
      outlierDetection: {
        consecutiveFailures: 3,
        baseEjectionTimeMs: 10_000,
        maxEjectionTimeMs: 25_000,
      },
      circuitBreaker: noBreakerTrips,
    },
    endpoints: [ep('a'), ep('b')],
    steps: [
      { pick: 6, failing: ['b'] },
      { advanceMs: 10_000 },
      { pick: 6, failing: ['b'] },
      { advanceMs: 20_000 },
      { pick: 6, failing: ['b'] },
    ],
    ejections: [
      ['b', 10_000],
      ['b', 20_000],
      ['b', 25_000],
    ],
  },
  {
    name: 'ejected endpoint gets no traffic until it returns',
    config: {
      algorithm: 'round-robin',
      outlierDetection: { consecutiveFailures: 2, baseEjectionTimeMs: 10_000 },
      circuitBreaker: noBreakerTrips,
    },
    endpoints: [ep('a'), ep('b')],
    steps: [{ pick: 4, failing: ['b'] }, { pick: 4 }, { advanceMs: 10_000 }, { pick: 4 }],
    sequence: ['a', 'b', 'a', 'b', 'a', 'a', 'a', 'a', 'a', 'b', 'a', 'b'],
    ejections: [['b', 10_000]],
  },
  {
    name: 'unhealthy primary spills by overprovisioned capacity',
    config: { algorithm: 'round-robin', overprovisioningFactor: 1.4 },
    endpoints: [ep('a'), ep('b'), ep('c', { priority: 1 })],
    steps: [{ unhealthy: ['a'] }, { pick: 2000 }],
    picks: { a: 0, b: 1400, c: 600 },
    tolerance: 60,
  },
  {
    name: 'healthy primary keeps all traffic',
    config: { algorithm: 'round-robin' },
    endpoints: [ep('a'), ep('b'), ep('c', { priority: 1 })],
    steps: [{ pick: 100 }],
    picks: { a: 50, b: 50, c: 0 },
    tolerance: 0,
  },
  {
    name: 'panic spreads across unhealthy endpoints',
    config: { algorithm: 'round-robin', panic: { thresholdPercent: 50, mode: 'spread' } },
    endpoints: [ep('a'), ep('b'), ep('c')],
    steps: [{ unhealthy: ['b', 'c'] }, { pick: 6 }],
    sequence: ['a', 'b', 'c', 'a', 'b', 'c'],
    panic: true,
  },
  {
    name: 'panic fails fast when configured',
    config: { panic: { thresholdPercent: 50, mode: 'fail' } },
    endpoints: [ep('a'), ep('b'), ep('c')],
    steps: [{ unhealthy: ['b', 'c'] }, { pick: 4 }],
    rejections: { panic: 4 },
    panic: true,
  },
  {
    name: 'above panic threshold only healthy get traffic',
    config: { algorithm: 'round-robin', panic: { thresholdPercent: 50, mode: 'fail' } },
    endpoints: [ep('a'), ep('b'), ep('c')],
    steps: [{ unhealthy: ['c'] }, { pick: 4 }, { healthy: ['c'] }, { pick: 3 }],
    sequence: ['a', 'b', 'a', 'b', 'a', 'b', 'c'],
    panic: false,
  },
  {
    name: 'slow start ramps a new endpoint',
    config: { algorithm: 'round-robin', slowStart: { windowMs: 10_000, minWeightPercent: 10 } },
    endpoints: [ep('a'), ep('b')],
    steps: [
      { endpoints: [ep('a'), ep('b'), ep('c')] },
      { pick: 210 },
      { advanceMs: 5000 },
      { pick: 250 },
      { advanceMs: 5000 },
      { pick: 300 },
    ],
    // 210 picks at weights 1:1:0.1, 250 at 1:1:0.5, 300 at 1:1:1.
    picks: { a: 100 + 100 + 100, b: 100 + 100 + 100, c: 10 + 50 + 100 },
    tolerance: 1,
  },
  {
    name: 'slow start ramps an endpoint turning ready',
    config: { algorithm: 'round-robin', slowStart: { windowMs: 10_000, minWeightPercent: 10 } },
    endpoints: [ep('a'), ep('b', { ready: false })],
    steps: [{ pick: 10 }, { endpoints: [ep('a'), ep('b')] }, { pick: 110 }],
    picks: { a: 110, b: 10 },
    tolerance: 1,
  },
  {
    name: 'connection cap rejects the 101st',
    config: { circuitBreaker: { maxConnections: 100 } },
    endpoints: [ep('a')],
    steps: [{ open: 101 }],
    connections: { a: 100 },
    rejections: { max_connections: 1 },
  },
  {
    name: 'full endpoint overflows to the next',
    config: { circuitBreaker: { maxConnections: 10 } },
    endpoints: [ep('a'), ep('b', { priority: 1 })],
    steps: [{ open: 15 }],
    connections: { a: 10, b: 5 },
  },
  {
    name: 'breaker opens then half-opens',
    config: {
      circuitBreaker: { consecutiveFailures: 3, openMs: 5000 },
      outlierDetection: { consecutiveFailures: 0 },
    },
    endpoints: [ep('a')],
    steps: [{ pick: 5, failing: ['a'] }, { advanceMs: 5000 }, { pick: 2 }],
    sequence: ['a', 'a', 'a', 'a', 'a'],
    rejections: { circuit_open: 2 },
  },
  {
    name: 'not ready and removed endpoints get nothing new',
    config: { algorithm: 'least-connections' },
    endpoints: [ep('a'), ep('b'), ep('c')],
    steps: [{ open: 6 }, { endpoints: [ep('a'), ep('b', { ready: false })] }, { open: 4 }],
    connections: { a: 6, b: 2, c: 2 },
  },
  {
    name: 'no endpoints rejects',
    endpoints: [],
    steps: [{ pick: 2 }],
    rejections: { no_endpoint: 2 },
  },
];

/** Runs one scenario against a real Upstream with a fake clock and seeded randomness. */
function run(scenario: Scenario) {
  let nowMs = 1_000_000;
  const ejections: [string, number][] = [];
  const upstream = new Upstream({
    config: mergeConfig(scenario.config),
    now: () => nowMs,
    random: seededRandom(42),
    observer: { onEject: (endpoint, durationMs) => ejections.push([endpoint.host, durationMs]) },
  });
  upstream.setEndpoints(scenario.endpoints);
  const sequence: string[] = [];
  const picks: Record<string, number> = {};
  const rejections: Record<string, number> = {};
  const find = (name: string): Endpoint =>
    upstream.allEndpoints().find((endpoint) => endpoint.host === name)!;

  const pickOnce = (hold: boolean, failing: string[] = []): void => {
    const picked = upstream.pick('upgrade');
    if ('rejection' in picked) {
      rejections[picked.rejection] = (rejections[picked.rejection] ?? 0) + 1;
      return;
    }
    const name = picked.endpoint.host;
    sequence.push(name);
    picks[name] = (picks[name] ?? 0) + 1;
    if (failing.includes(name)) return upstream.recordFailure(picked.endpoint);
    upstream.recordSuccess(picked.endpoint);
    if (hold) picked.endpoint.openConnections++;
  };

  for (const step of scenario.steps) {
    if ('open' in step) for (let i = 0; i < step.open; i++) pickOnce(true, step.failing);
    else if ('pick' in step) for (let i = 0; i < step.pick; i++) pickOnce(false, step.failing);
    else if ('endpoints' in step) upstream.setEndpoints(step.endpoints);
    else if ('advanceMs' in step) {
      nowMs += step.advanceMs;
      upstream.sweepOutliers();
    } else if ('unhealthy' in step)
      for (const name of step.unhealthy) find(name).health.healthy = false;
    else if ('healthy' in step) for (const name of step.healthy) find(name).health.healthy = true;
    else if ('close' in step) find(step.close).openConnections -= step.count;
    else if ('latencyMs' in step) {
      for (const [name, ms] of Object.entries(step.latencyMs)) find(name).recordLatency(ms, 1);
    } else {
      const workers = 'workerUtilization' in step;
      const shares = workers ? step.workerUtilization : step.eventLoopUtilization;
      for (const [name, share] of Object.entries(shares)) {
        find(name).load = {
          connections: 0,
          inflightIngests: 0,
          eventLoopUtilization: workers ? 0 : share,
          workerUtilization: workers ? share : 0,
          draining: false,
          receivedAtMs: nowMs,
        };
      }
    }
  }
  const connections = Object.fromEntries(
    upstream.allEndpoints().map((endpoint) => [endpoint.host, endpoint.openConnections]),
  );
  return { sequence, picks, rejections, ejections, connections, panic: upstream.inPanic() };
}

describe('upstream pick scenarios', () => {
  for (const scenario of scenarios) {
    test(scenario.name, () => {
      const outcome = run(scenario);
      if (scenario.sequence) assert.deepEqual(outcome.sequence, scenario.sequence, 'pick sequence');
      if (scenario.connections)
        assert.deepEqual(outcome.connections, scenario.connections, 'open connections');
      for (const [name, expected] of Object.entries(scenario.picks ?? {})) {
        const actual = outcome.picks[name] ?? 0;
        const tolerance = scenario.tolerance ?? 0;
        assert.ok(
          Math.abs(actual - expected) <= tolerance,
          `${name} picked ${actual} times, expected ${expected} ± ${tolerance}`,
        );
      }
      assert.deepEqual(outcome.rejections, scenario.rejections ?? {}, 'rejections');
      if (scenario.ejections) assert.deepEqual(outcome.ejections, scenario.ejections, 'ejections');
      if (scenario.panic !== undefined) assert.equal(outcome.panic, scenario.panic, 'panic');
    });
  }
});
