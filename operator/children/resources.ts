import { k8s } from 'cdk8s-plus-27';
import type { Static } from '../api/schema.js';
import type { resources } from '../api/common.js';

function quantities(values: Record<string, string> | undefined) {
  if (!values) return undefined;
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => [name, k8s.Quantity.fromString(String(value))]),
  );
}

/** Converts spec resources into container resource requirements. */
export function toResources(
  spec: Static<typeof resources> | undefined,
): k8s.ResourceRequirements | undefined {
  if (!spec) return undefined;
  return { requests: quantities(spec.requests), limits: quantities(spec.limits) };
}
