import { array, boolean, enumOf, integer, number, object, type Static } from './schema.js';

const policy = object({
  type: enumOf(['Pods', 'Percent'] as const, {
    description: 'Pods: change by a count of servers; Percent: by a share of the current count.',
  }),
  value: integer({ description: 'Servers or percent allowed per period.', minimum: 1 }),
  periodSeconds: integer({
    description: 'Window over which the change is allowed, in seconds.',
    minimum: 1,
    maximum: 1800,
  }),
});

function rules(description: string, windowSeconds: number, policies: Static<typeof policy>[]) {
  return object(
    {
      stabilizationWindowSeconds: integer({
        description:
          'Past recommendations over this many seconds are considered, and the most ' +
          'conservative one is taken.',
        minimum: 0,
        maximum: 3600,
      }).default(windowSeconds),
      selectPolicy: enumOf(['Max', 'Min', 'Disabled'] as const, {
        description: 'Which policy wins when several apply; Disabled turns this direction off.',
      }).default('Max'),
      policies: array(policy, { maxItems: 10, 'x-kubernetes-list-type': 'atomic' }).default(
        policies,
      ),
    },
    { description },
  );
}

/** Scale-up and scale-down rate rules, with the HorizontalPodAutoscaler's defaults. */
export const behavior = object(
  {
    scaleUp: rules('How fast servers are added.', 0, [
      { type: 'Percent', value: 100, periodSeconds: 15 },
      { type: 'Pods', value: 4, periodSeconds: 15 },
    ]).defaultEmpty(),
    scaleDown: rules('How fast servers are removed.', 300, [
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ]).defaultEmpty(),
  },
  { description: 'Stabilization windows and rate policies per direction.' },
);

/** Autoscaling of the stream servers on open connections and load. */
export const autoscaling = object(
  {
    enabled: boolean({
      description: 'Let the operator set servers.replicas from the metrics below.',
    }).default(false),
    minReplicas: integer({ description: 'Lowest server count.', minimum: 1 }).default(1),
    maxReplicas: integer({ description: 'Highest server count.', minimum: 1 }).default(10),
    targetConnectionsPerServer: integer({
      description: 'Open WebSocket connections per server to aim for.',
      minimum: 1,
    }).default(300),
    targetEventLoopUtilization: number({
      description:
        'Utilization per server to aim for. Each server reports the utilization of its event ' +
        'loop and of its embedding or parsing workers, and the busier of the two counts.',
      minimum: 0.05,
      maximum: 1,
    }).default(0.7),
    tolerance: number({
      description: 'Relative deviation from a target that causes no change, from 0 to 1.',
      minimum: 0,
      maximum: 1,
    }).default(0.1),
    fallback: object(
      {
        failureThreshold: integer({
          description: 'Consecutive failed metric reads before the fallback count applies.',
          minimum: 1,
        }).default(3),
        replicas: integer({
          description: 'Server count while metrics are missing; unchanged when unset.',
          minimum: 1,
        }).optional(),
      },
      { description: 'What happens when server metrics cannot be read.' },
    ).defaultEmpty(),
    behavior: behavior.defaultEmpty(),
  },
  {
    description: 'Autoscaling bounds and targets. Missing or stale metrics never remove servers.',
  },
).validate(
  {
    rule: 'self.minReplicas <= self.maxReplicas',
    message: 'minReplicas must be at most maxReplicas',
    fieldPath: '.minReplicas',
  },
  {
    rule:
      '!has(self.fallback.replicas) || ' +
      '(self.fallback.replicas >= self.minReplicas && self.fallback.replicas <= self.maxReplicas)',
    message: 'fallback.replicas must be within minReplicas and maxReplicas',
    fieldPath: '.fallback.replicas',
  },
);

/** How servers leave on scale-in, whether the autoscaler or a person lowered the count. */
export const scaleIn = object(
  {
    drainTimeoutSeconds: integer({
      description:
        'Longest time the operator moves connections off the servers it removes; after it, the ' +
        'servers are removed with their remaining connections. 0 removes them at once.',
      minimum: 0,
      maximum: 3600,
    }).default(60),
    drainSpreadSeconds: integer({
      description:
        'Time over which a removed server closes its connections, in batches, so that clients ' +
        'reconnect to the other servers gradually. Also spreads the connections moved onto new ' +
        'servers after a scale-out.',
      minimum: 0,
      maximum: 600,
    }).default(10),
  },
  {
    description:
      'Graceful scale-in: servers above the new count stop taking connections and hand their ' +
      'open ones to the other servers before they are removed.',
  },
);
