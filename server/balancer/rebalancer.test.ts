import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultBalancerConfig } from './balancer-config.js';
import { Endpoint } from './endpoint.js';
import { planRebalance } from './rebalancer.js';

const settings = {
  ...defaultBalancerConfig.rebalance,
  enabled: true,
  thresholdPercent: 25,
  minConnections: 20,
  maxConnectionsPerRound: 50,
};

test('rebalance plans by connection spread', () => {
  const [a, b, c] = ['a', 'b', 'c'].map((host) => new Endpoint({ host, port: 80 }));
  const cases: [string, number[], { host: string; connections: number } | undefined][] = [
    ['scale-out from two to three', [100, 100, 0], { host: 'a', connections: 34 }],
    ['even within threshold', [100, 90, 80], undefined],
    ['busiest below the minimum', [10, 0, 0], undefined],
    ['large excess capped per round', [400, 0, 0], { host: 'a', connections: 50 }],
    ['busiest in the middle', [10, 60, 20], { host: 'b', connections: 30 }],
  ];
  for (const [name, counts, expected] of cases) {
    const plan = planRebalance(
      [a!, b!, c!].map((endpoint, i) => ({ endpoint, connections: counts[i]! })),
      settings,
    );
    assert.deepEqual(
      plan && { host: plan.endpoint.host, connections: plan.connections },
      expected,
      name,
    );
  }
});
