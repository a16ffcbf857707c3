import type { EndpointOverride, EndpointSpec } from './balancer-config.js';

/** The fields of a discovery.k8s.io/v1 EndpointSlice that discovery reads. */
export interface EndpointSlice {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints?: SliceEndpoint[] | null;
  ports?: { name?: string; port?: number; protocol?: string }[] | null;
}

/** One endpoint of an EndpointSlice. */
export interface SliceEndpoint {
  addresses: string[];
  conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
  zone?: string;
  /** The object behind the address, which is the Pod for a Service's pods. */
  targetRef?: { kind?: string; name?: string; namespace?: string };
}

/** Choices for mapping slices to endpoints. */
export interface SliceMapping {
  /** Port name to use; default: the first TCP port of each slice. */
  portName?: string;
  /** Zone of the balancer; endpoints elsewhere get priority 1. */
  zone?: string;
  /** Weights and priorities by Pod name. An override's priority replaces the zone's. */
  endpointOverrides?: readonly EndpointOverride[];
}

/**
 * Maps the EndpointSlices of a Service to endpoints. Each endpoint uses its first address, as the
 * API asks consumers to. An absent `ready` condition counts as ready (API semantics); endpoints
 * that are not ready or are terminating stay listed with `ready: false`, so their open
 * connections keep being counted while they get no new ones. An address in several slices (during
 * slice rebalancing) appears once, ready if any slice says so. An endpoint whose `targetRef` is
 * a Pod named in `endpointOverrides` takes that override's weight and priority.
 */
export function endpointsFromSlices(
  slices: readonly EndpointSlice[],
  mapping: SliceMapping = {},
): EndpointSpec[] {
  const byId = new Map<string, EndpointSpec>();
  const overrides = new Map(mapping.endpointOverrides?.map((override) => [override.pod, override]));
  for (const slice of slices) {
    const port = slicePort(slice, mapping.portName);
    if (port === undefined) continue;
    for (const endpoint of slice.endpoints ?? []) {
      const host = endpoint.addresses[0];
      if (!host) continue;
      const ready =
        endpoint.conditions?.ready !== false && endpoint.conditions?.terminating !== true;
      const override = podOverride(endpoint, overrides);
      const zonePriority = mapping.zone && endpoint.zone && endpoint.zone !== mapping.zone ? 1 : 0;
      const priority = override?.priority ?? zonePriority;
      const id = `${host}:${port}`;
      const known = byId.get(id);
      const spec: EndpointSpec = { host, port, priority, ready: ready || (known?.ready ?? false) };
      if (override?.weight !== undefined) spec.weight = override.weight;
      byId.set(id, spec);
    }
  }
  return [...byId.values()].sort((a, b) =>
    a.host < b.host ? -1 : a.host > b.host ? 1 : a.port - b.port,
  );
}

function podOverride(
  endpoint: SliceEndpoint,
  overrides: ReadonlyMap<string, EndpointOverride>,
): EndpointOverride | undefined {
  const target = endpoint.targetRef;
  if (target?.name === undefined || (target.kind ?? 'Pod') !== 'Pod') return undefined;
  return overrides.get(target.name);
}

function slicePort(slice: EndpointSlice, portName: string | undefined): number | undefined {
  const ports = (slice.ports ?? []).filter(
    (port) => (port.protocol ?? 'TCP') === 'TCP' && port.port,
  );
  const chosen =
    portName === undefined ? ports[0] : ports.find((port) => (port.name ?? '') === portName);
  return chosen?.port;
}
