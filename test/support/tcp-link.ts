import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP forwarder on a loopback port that represents the network path to `target`. Cutting it
 * destroys every forwarded connection on both sides, so each peer's socket ends without a
 * WebSocket close frame, as when a middlebox or node on the path fails and resets the connection.
 */
export interface TcpLink {
  port: number;
  /** Open forwarded connections. */
  readonly connections: number;
  /** Destroys every forwarded connection and returns how many it cut; later ones still pass. */
  cut(): number;
  close(): Promise<void>;
}

/** Starts a {@link TcpLink} to `target` on an ephemeral loopback port. */
export async function startTcpLink(target: { host: string; port: number }): Promise<TcpLink> {
  const pairs = new Set<[Socket, Socket]>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(target.port, target.host);
    const pair: [Socket, Socket] = [inbound, outbound];
    pairs.add(pair);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    const drop = (): void => {
      pairs.delete(pair);
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const cut = (): number => {
    const count = pairs.size;
    for (const [inbound, outbound] of [...pairs]) {
      inbound.destroy();
      outbound.destroy();
    }
    pairs.clear();
    return count;
  };

  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return pairs.size;
    },
    cut,
    async close() {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
