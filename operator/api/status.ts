import { array, boolean, enumOf, integer, number, object, string } from './schema.js';

/** Condition types the operator sets on a StreamCluster. */
export const conditionTypes = ['Ready', 'Progressing', 'Degraded', 'ScalingLimited'] as const;

/** One status condition, in the shape of metav1.Condition. */
export const condition = object({
  type: enumOf(conditionTypes, {
    description: 'Ready, Progressing, Degraded, or ScalingLimited while autoscaling is enabled.',
  }),
  status: enumOf(['True', 'False', 'Unknown'] as const),
  reason: string({ description: 'CamelCase reason code.', pattern: '^[A-Z][A-Za-z0-9]*$' }),
  message: string({ description: 'What the condition means now, as a sentence.' }),
  observedGeneration: integer({
    description: 'Spec generation this condition describes.',
  }).optional(),
  lastTransitionTime: string({ description: 'When status last changed.', format: 'date-time' }),
});

const componentHealth = (description: string) =>
  object(
    {
      replicas: integer({ description: 'Pods wanted.' }),
      readyReplicas: integer({ description: 'Pods ready.' }),
      healthy: boolean({ description: 'Whether enough pods are ready to serve.' }),
      message: string({ description: 'Why the component is unhealthy.' }).optional(),
    },
    { description },
  );

/** What the autoscaler saw and did; present while autoscaling is enabled. */
const autoscalingStatus = object(
  {
    desiredReplicas: integer({ description: 'Server count of the latest decision.' }),
    currentMetrics: object(
      {
        connections: integer({ description: 'Open connections over all reporting servers.' }),
        eventLoopUtilization: number({
          description:
            'Average utilization per server, 0 to 1, rounded to 0.01: for each server, the ' +
            'busier of its event loop and its embedding or parsing workers. The figure is ' +
            'rewritten only when it moves by 0.1 or more, so an idle cluster makes no writes.',
        }),
        sampledServers: integer({ description: 'Servers with fresh metrics.' }),
        missingServers: integer({
          description: 'Servers of the current count without fresh metrics.',
        }),
        drainingServers: integer({ description: 'Reporting servers that are draining.' }),
      },
      { description: 'Metrics of the latest decision.' },
    ),
    failedReadings: integer({
      description: 'Readings in a row in which no server returned fresh metrics.',
    }),
    lastScaleTime: string({
      description: 'When the autoscaler last changed the count.',
      format: 'date-time',
    }).optional(),
    lastScaleReason: string({
      description: 'Why, as in "scaled from 3 to 5: connections 1800 ...".',
    }).optional(),
  },
  { description: 'Autoscaler state, while spec.servers.autoscaling.enabled is true.' },
);

/** Observed state of a StreamCluster, written by the operator only. */
export const status = object(
  {
    observedGeneration: integer({ description: 'Spec generation last acted on.' }).optional(),
    conditions: array(condition, {
      description: 'Ready, Progressing and Degraded; ScalingLimited while autoscaling is enabled.',
      maxItems: 8,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    }).optional(),
    replicas: integer({ description: 'Stream server pods that exist.' }).optional(),
    readyReplicas: integer({ description: 'Stream server pods that are ready.' }).optional(),
    updatedReplicas: integer({
      description: 'Stream server pods running the current spec.',
    }).optional(),
    selector: string({
      description: 'Label selector of the server pods, for the scale subresource.',
    }).optional(),
    connections: integer({
      description: 'Open WebSocket connections over all servers that report them.',
    }).optional(),
    documents: integer({
      description: 'Documents in the index, as reported by the servers.',
    }).optional(),
    chunks: integer({ description: 'Chunks in the index, as reported by the servers.' }).optional(),
    autoscaling: autoscalingStatus.optional(),
    balancer: componentHealth('Balancer pods.').optional(),
    log: object(
      {
        mode: enumOf(['managed', 'external'] as const),
        replicas: integer({ description: 'Managed NATS pods wanted.' }).optional(),
        readyReplicas: integer({ description: 'Managed NATS pods ready.' }).optional(),
        healthy: boolean({
          description: 'Whether the log can take writes; an external log counts as healthy.',
        }),
        message: string({ description: 'Why the log is unhealthy.' }).optional(),
      },
      { description: 'The replicated document log.' },
    ).optional(),
  },
  { description: 'Observed state, written by the operator.' },
);
