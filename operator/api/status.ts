import { array, boolean, enumOf, integer, object, string } from './schema.js';

/** Condition types the operator sets on a StreamCluster. */
export const conditionTypes = ['Ready', 'Progressing', 'Degraded'] as const;

/** One status condition, in the shape of metav1.Condition. */
export const condition = object({
  type: enumOf(conditionTypes, { description: 'Ready, Progressing or Degraded.' }),
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

/** Observed state of a StreamCluster, written by the operator only. */
export const status = object(
  {
    observedGeneration: integer({ description: 'Spec generation last acted on.' }).optional(),
    conditions: array(condition, {
      description: 'Ready, Progressing and Degraded.',
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
      description: 'Open WebSocket connections over all ready servers.',
    }).optional(),
    documents: integer({
      description: 'Documents in the index, as reported by the servers.',
    }).optional(),
    chunks: integer({ description: 'Chunks in the index, as reported by the servers.' }).optional(),
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
