import { connect } from 'node:net';
import type { Container, Probe } from './types.js';

/**
 * Runs one attempt of a readiness probe against the pod's address; resolves to whether it
 * passed. httpGet passes on a status from 200 to 399 and tcpSocket on an accepted connection,
 * as with the kubelet. Exec and gRPC probes are not run and count as passing.
 */
export async function probeOnce(
  probe: Probe,
  container: Container,
  podIp: string,
): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet !== undefined) {
    const port = resolvePort(probe.httpGet.port, container);
    const scheme = (probe.httpGet.scheme ?? 'HTTP').toLowerCase();
    const url = `${scheme}://${podIp}:${port}${probe.httpGet.path ?? '/'}`;
    try {
      const response = await fetch(url, {
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
      await response.body?.cancel();
      return response.status >= 200 && response.status < 400;
    } catch {
      return false;
    }
  }
  if (probe.tcpSocket !== undefined) {
    return canConnect(podIp, resolvePort(probe.tcpSocket.port, container), timeoutMs);
  }
  return true;
}

/** Turns a named port into the container's port number; a number passes through. */
export function resolvePort(port: number | string, container: Container): number {
  if (typeof port === 'number') return port;
  const named = container.ports?.find((entry) => entry.name === port);
  return named?.containerPort ?? Number(port);
}

function canConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}
