// TCP forwarding across the boundary of a network namespace, through a Unix socket that both
// sides see because they share the filesystem. One half runs inside the namespace and listens
// on the socket; the other runs on the host and listens on a loopback port.
//
//   node --import tsx forward.ts unix-to-tcp SOCKET HOST PORT   (inside the namespace)
//   node --import tsx forward.ts tcp-to-unix SOCKET PORT_FILE   (on the host)
import { writeFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

/** A running forwarder; `port` is set for a TCP listener. */
export interface Forwarder {
  port: number | undefined;
  close(): Promise<void>;
}

/** Listens on socketPath and connects each client to host:port. */
export function forwardUnixToTcp(
  socketPath: string,
  host: string,
  port: number,
): Promise<Forwarder> {
  rmSync(socketPath, { force: true });
  const server = createServer((client) => pipe(client, connect({ host, port })));
  return listen(server, socketPath);
}

/** Listens on a free loopback port and connects each client to socketPath. */
export function forwardTcpToUnix(socketPath: string): Promise<Forwarder> {
  const server = createServer((client) => pipe(client, connect(socketPath)));
  return listen(server, { host: '127.0.0.1', port: 0 });
}

function pipe(client: Socket, upstream: Socket): void {
  client.pipe(upstream).pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
}

function listen(
  server: Server,
  address: string | { host: string; port: number },
): Promise<Forwarder> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address, () => {
      const bound = server.address();
      resolve({
        port: typeof bound === 'object' && bound !== null ? bound.port : undefined,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

async function main(argv: string[]): Promise<void> {
  const [mode, socketPath, ...rest] = argv;
  if (mode === 'unix-to-tcp' && socketPath !== undefined && rest.length === 2) {
    await forwardUnixToTcp(socketPath, rest[0]!, Number(rest[1]));
    return;
  }
  if (mode === 'tcp-to-unix' && socketPath !== undefined && rest.length === 1) {
    const forwarder = await forwardTcpToUnix(socketPath);
    writeFileSync(rest[0]!, String(forwarder.port));
    return;
  }
  console.error('usage: forward.ts unix-to-tcp SOCKET HOST PORT | tcp-to-unix SOCKET PORT_FILE');
  process.exit(2);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
