import { object, quantity, record, string } from './schema.js';

/** CPU and memory requests and limits of a container, as in a Pod spec. */
export const resources = object(
  {
    requests: record(quantity(), { maxProperties: 8 }).optional(),
    limits: record(quantity(), { maxProperties: 8 }).optional(),
  },
  { description: 'Compute resources of each container, as in a Pod spec.' },
);

/** A key of a Secret in the StreamCluster's namespace. */
export const secretKeyRef = object(
  {
    name: string({ description: 'Name of the Secret.', minLength: 1, maxLength: 253 }),
    key: string({ description: 'Key within the Secret.', minLength: 1, maxLength: 253 }).default(
      'apiKey',
    ),
  },
  { description: 'A key of a Secret in the same namespace.' },
);
