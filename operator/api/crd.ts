import type { JsonSchema } from './schema.js';
import { GROUP, KIND, PLURAL, VERSION, streamClusterSpec } from './streamcluster.js';
import { status } from './status.js';

/** Printer columns, so `kubectl get stc` shows health at a glance. */
const printerColumns = [
  {
    name: 'Ready',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  },
  {
    name: 'Replicas',
    type: 'integer',
    jsonPath: '.status.readyReplicas',
    description: 'Ready servers.',
  },
  { name: 'Desired', type: 'integer', jsonPath: '.spec.servers.replicas', priority: 1 },
  { name: 'Connections', type: 'integer', jsonPath: '.status.connections' },
  { name: 'Documents', type: 'integer', jsonPath: '.status.documents', priority: 1 },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

/** Longest StreamCluster name: NAME-server-headless must stay a 63-character DNS label. */
export const MAX_NAME_LENGTH = 40;

/** The root schema: metadata is left to the API server, as structural schemas require. */
function rootSchema(): JsonSchema {
  return {
    type: 'object',
    description: 'A fleet of stream servers behind a balancer, sharing a replicated document log.',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec: streamClusterSpec.schema,
      status: status.schema,
    },
    required: ['spec'],
    'x-kubernetes-validations': [
      {
        // Children such as the Service NAME-server-headless need DNS labels (RFC 1035) of at
        // most 63 characters, and the StatefulSet's revision label adds NAME-server-HASH.
        rule: `self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$') && size(self.metadata.name) <= ${MAX_NAME_LENGTH}`,
        message:
          `metadata.name must be at most ${MAX_NAME_LENGTH} lowercase letters, digits and '-', ` +
          'starting with a letter and ending with a letter or digit, because the operator names ' +
          "Services after it (NAME-server-headless); choose a name such as 'docs-prod'",
      },
    ],
  };
}

/** Builds the StreamCluster CustomResourceDefinition as a plain object. */
export function buildCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: KIND.toLowerCase(),
        shortNames: ['stc'],
        categories: ['all', 'streamcluster'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: rootSchema() },
          subresources: {
            status: {},
            scale: {
              specReplicasPath: '.spec.servers.replicas',
              statusReplicasPath: '.status.replicas',
              labelSelectorPath: '.status.selector',
            },
          },
          additionalPrinterColumns: printerColumns,
        },
      ],
    },
  };
}
