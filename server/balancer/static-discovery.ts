import { ValidationError } from '../core/errors.js';
import type { EndpointSpec } from './balancer-config.js';

/**
 * Parses endpoints given on the command line: `host:port`, optionally followed by `;weight=N`
 * and `;priority=N`; IPv6 hosts go in brackets (`[::1]:8080`). All bad items are reported together.
 */
export function parseEndpointList(items: readonly string[]): EndpointSpec[] {
  const problems: string[] = [];
  const specs: EndpointSpec[] = [];
  for (const item of items) {
    const spec = parseEndpoint(item, problems);
    if (spec) specs.push(spec);
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return specs;
}

function parseEndpoint(item: string, problems: string[]): EndpointSpec | undefined {
  const [address = '', ...params] = item.split(';');
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address.trim());
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) {
    problems.push(
      `endpoint must be host:port with a port from 1 to 65535, got ${JSON.stringify(item)}`,
    );
    return undefined;
  }
  const spec: EndpointSpec = { host: match[1] ?? match[2]!, port };
  for (const param of params) {
    const [name, raw = ''] = param.split('=').map((part) => part.trim());
    const value = Number(raw);
    if (name === 'weight' && Number.isFinite(value) && value > 0) spec.weight = value;
    else if (name === 'priority' && Number.isInteger(value) && value >= 0) spec.priority = value;
    else
      problems.push(
        `endpoint parameter must be weight=<number > 0> or priority=<integer >= 0>, got ${JSON.stringify(param)} in ${JSON.stringify(item)}`,
      );
  }
  return spec;
}
