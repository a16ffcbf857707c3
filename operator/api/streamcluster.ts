import { auth } from './auth.js';
import { balancer } from './balancer.js';
import { log } from './log.js';
import { embedding, generator } from './models.js';
import { object, string, type Static } from './schema.js';
import { servers } from './servers.js';
import { status, type condition } from './status.js';

/** API group of the StreamCluster resource. */
export const GROUP = 'streamcluster.io';
/** Served and stored version. */
export const VERSION = 'v1alpha1';
export const KIND = 'StreamCluster';
export const PLURAL = 'streamclusters';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Desired state of a StreamCluster: the single source of the CRD schema and the TS types. */
export const spec = object(
  {
    image: string({
      description: 'Image with the `streamcluster` entry point, run by servers and balancer.',
      minLength: 1,
      maxLength: 1024,
    }),
    servers: servers.defaultEmpty(),
    embedding: embedding.defaultEmpty(),
    generator: generator.defaultEmpty(),
    balancer: balancer.defaultEmpty(),
    log: log.defaultEmpty(),
    auth: auth.optional(),
  },
  { description: 'Desired state of the cluster.' },
);

export type StreamClusterSpec = Static<typeof spec>;
export type StreamClusterStatus = Static<typeof status>;
export type Condition = Static<typeof condition>;
export type ConditionType = Condition['type'];

/** A StreamCluster as read from the API server, with defaults applied. */
export interface StreamCluster {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation?: number;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    deletionTimestamp?: string;
  };
  spec: StreamClusterSpec;
  status?: StreamClusterStatus;
}

export { spec as streamClusterSpec, status as streamClusterStatus };
