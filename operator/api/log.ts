import { resources } from './common.js';
import { enumOf, integer, object, quantityString, string } from './schema.js';

/** A NATS JetStream cluster run by the operator. */
export const managedLog = object(
  {
    replicas: integer({
      description: 'NATS servers; odd so that JetStream keeps a quorum.',
      minimum: 1,
      maximum: 7,
    }).default(1),
    image: string({ description: 'NATS server image.', minLength: 1 }).default('nats:2.10-alpine'),
    storageSize: quantityString({ description: 'JetStream volume size per NATS server.' }).default(
      '1Gi',
    ),
    storageClassName: string({
      description: 'StorageClass of the JetStream volumes; the cluster default when unset.',
    }).optional(),
    resources: resources.optional(),
  },
  { description: 'Settings of the managed NATS JetStream cluster.' },
).validate({
  rule: 'self.replicas % 2 == 1',
  message: 'log.managed.replicas must be odd so that JetStream keeps a quorum',
  fieldPath: '.replicas',
});

/** The replicated document log. */
export const log = object(
  {
    mode: enumOf(['managed', 'external'] as const, {
      description: 'managed: the operator runs NATS JetStream. external: use externalUrl.',
    }).default('managed'),
    managed: managedLog.defaultEmpty(),
    externalUrl: string({
      description: 'URL of an existing NATS JetStream cluster, such as nats://nats.infra:4222.',
      pattern: '^(nats|tls)://.+',
      maxLength: 2048,
    }).optional(),
    stream: string({
      description: 'JetStream stream name; the StreamCluster name when unset.',
      pattern: '^[A-Za-z0-9_-]+$',
      maxLength: 64,
    }).optional(),
  },
  { description: 'The replicated document log every server reads and writes.' },
).validate(
  {
    rule: "self.mode != 'external' || has(self.externalUrl)",
    message: 'log.externalUrl is required when log.mode is external',
    fieldPath: '.externalUrl',
    reason: 'FieldValueRequired',
  },
  {
    rule: "self.mode != 'managed' || !has(self.externalUrl)",
    message: 'log.externalUrl must be unset when log.mode is managed',
    fieldPath: '.externalUrl',
    reason: 'FieldValueForbidden',
  },
);
