import {
  PatchStrategy,
  type KubernetesObject,
  type KubernetesObjectApi,
} from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../children/names.js';
import type { KubeObject } from '../children/index.js';
import type { KubeResource } from '../kube/resources.js';

/** How an apply changed an object. */
export type Change = 'created' | 'updated' | 'unchanged';

/**
 * Applies one object with server-side apply under the operator's field manager, forcing
 * ownership of conflicting fields so that a manual edit of a managed field is reverted.
 * client-node sends the body as JSON, which the apply-patch+yaml content type accepts.
 */
export async function applyObject(
  objects: KubernetesObjectApi,
  object: KubeObject,
): Promise<KubeResource> {
  return (await objects.patch(
    object as KubernetesObject,
    undefined,
    undefined,
    FIELD_MANAGER,
    true,
    PatchStrategy.ServerSideApply,
  )) as KubeResource;
}

/**
 * Classifies an apply from resource versions: the object did not exist before, or the API
 * server stored a new version, or the apply was a no-op (same version as last seen).
 */
export function classifyChange(
  before: string | undefined,
  lastApplied: string | undefined,
  after: string | undefined,
): Change {
  if (before === undefined && lastApplied === undefined) return 'created';
  if (after === before || after === lastApplied) return 'unchanged';
  return 'updated';
}
