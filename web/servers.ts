import { byId, describeError, element } from './dom.js';

/** One endpoint as `/ui/api/endpoints` describes it (see server/balancer/admin-server.ts). */
interface EndpointState {
  id: string;
  ready: boolean;
  removed: boolean;
  healthy: boolean;
  ejected: boolean;
  breaker: 'closed' | 'open' | 'half-open';
  openConnections: number;
  load?: {
    connections: number;
    inflightIngests: number;
    eventLoopUtilization: number;
    draining: boolean;
    serverId?: string;
  };
}

const refreshIntervalMs = 2000;

/** Access token source and 401 callback of the servers table. */
export interface ServersAccess {
  token(): string | undefined;
  /** Called after each response: true for 401, false for any other status. */
  onUnauthorized(unauthorized: boolean): void;
}

/**
 * Fills the servers table from the balancer's endpoint list and refreshes it every two seconds.
 * The list is sent with the access token, which a balancer started with `--web-token` requires.
 * Returns a function that refreshes at once, for when the token changes.
 */
export function setUpServers(access: ServersAccess): () => void {
  const body = byId<HTMLTableElement>('servers').tBodies[0]!;
  const status = byId<HTMLParagraphElement>('servers-status');
  let timer: ReturnType<typeof setTimeout> | undefined;

  const load = async (): Promise<void> => {
    const token = access.token();
    const response = await fetch('api/endpoints', {
      cache: 'no-store',
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
    access.onUnauthorized(response.status === 401);
    if (response.status === 401) {
      body.replaceChildren();
      status.textContent =
        token === undefined
          ? 'The balancer lists its servers only to callers with the access token.'
          : 'The balancer rejected the access token, so the server list is hidden.';
      status.className = 'status bad';
      return;
    }
    if (!response.ok)
      throw new Error(`reading the server list failed with HTTP ${response.status}`);
    const { panic, endpoints } = (await response.json()) as {
      panic: boolean;
      endpoints: EndpointState[];
    };
    body.replaceChildren(...endpoints.map(row));
    status.textContent = panic
      ? 'Too few healthy servers: the balancer is in panic mode.'
      : `${endpoints.length} ${endpoints.length === 1 ? 'server' : 'servers'}, updated ${new Date().toLocaleTimeString()}.`;
    status.className = panic ? 'status bad' : 'status';
  };

  const refresh = (): void => {
    clearTimeout(timer);
    void load()
      .catch((error: unknown) => {
        status.textContent = `Could not load the server list: ${describeError(error)}`;
        status.className = 'status bad';
      })
      .finally(() => {
        clearTimeout(timer);
        timer = setTimeout(refresh, refreshIntervalMs);
      });
  };
  refresh();
  return refresh;
}

function row(endpoint: EndpointState): HTMLTableRowElement {
  const tr = element('tr', '', { 'data-endpoint': endpoint.id });
  const state = stateOf(endpoint);
  const load = endpoint.load;
  const cells = [
    element('th', load?.serverId ?? '–', { scope: 'row' }),
    element('td', endpoint.id),
    element('td', state, { class: state === 'available' ? 'good' : 'bad' }),
    element('td', endpoint.breaker, { class: endpoint.breaker === 'closed' ? '' : 'warn' }),
    element('td', String(endpoint.openConnections)),
    element('td', load ? String(load.connections) : '–'),
    element('td', load ? String(load.inflightIngests) : '–'),
    element('td', load ? `${Math.round(load.eventLoopUtilization * 100)} %` : '–'),
  ];
  tr.append(...cells);
  return tr;
}

/** Names the first reason the balancer would not send new connections to the endpoint. */
function stateOf(endpoint: EndpointState): string {
  if (endpoint.removed) return 'removed';
  if (!endpoint.ready) return 'not ready';
  if (endpoint.ejected) return 'ejected';
  if (!endpoint.healthy) return 'unhealthy';
  if (endpoint.load?.draining) return 'draining';
  return 'available';
}
