import type { Socket } from 'node:net';
import { buildCloseFrame, buildMaskedCloseFrame, closeCodes } from './close-frame.js';
import { FrameBoundaryTracker } from './frame-boundary.js';

/** Way a relayed WebSocket ended, for logs and metrics. */
export type RelayEnd =
  /** The endpoint closed after its own close frame, or the client closed first. */
  | 'closed'
  /** The endpoint vanished between frames; the balancer sent the client a 1012 close frame. */
  | 'endpoint_lost'
  /** The endpoint vanished inside a frame, so the client socket was destroyed (the client sees 1006). */
  | 'endpoint_lost_mid_frame'
  /** The balancer closed the connection while draining or shutting down. */
  | 'shutdown';

/** A relayed WebSocket connection, so the balancer can close it while draining. */
export interface RelayedConnection {
  /** Sends the client a close frame with the code at the next frame boundary, then ends both legs. */
  close(code: number, reason: string): void;
  /** Destroys both legs at once. */
  destroy(): void;
}

/** TCP keepalive probe delay on both legs, so a peer that vanished without FIN is noticed. */
const keepAliveDelayMs = 30_000;

/**
 * Relays bytes both ways between a client and an endpoint after the WebSocket handshake. Frames
 * pass through unparsed; only the endpoint-to-client direction is followed for frame boundaries.
 * When the endpoint goes away without a close frame, the client receives a 1012 close frame
 * written by the balancer, so it reconnects at once instead of waiting for a timeout. An error on
 * either leg ends both, and `onEnd` runs exactly once, after both sockets are closed.
 */
export function relayWebSocket(
  client: Socket,
  endpoint: Socket,
  onEnd: (how: RelayEnd) => void,
  endpointHead: Buffer = Buffer.alloc(0),
): RelayedConnection {
  const tracker = new FrameBoundaryTracker();
  const clientTracker = new FrameBoundaryTracker();
  let end: RelayEnd | undefined;
  let pendingClose: Buffer | undefined;
  let closed = 0;

  for (const socket of [client, endpoint]) {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, keepAliveDelayMs);
    socket.setTimeout(0);
  }
  // Bytes the endpoint sent right behind its 101 head belong to the stream and are tracked too.
  if (endpointHead.length > 0) {
    tracker.push(endpointHead);
    client.write(endpointHead);
  }

  const finish = (how: RelayEnd): void => {
    end ??= how;
  };
  const onSocketClosed = (): void => {
    if (++closed === 2) onEnd(end ?? 'closed');
  };

  endpoint.on('data', (chunk: Buffer) => {
    tracker.push(chunk);
    if (client.writableEnded) return;
    if (!client.write(chunk)) endpoint.pause();
    if (pendingClose && tracker.atBoundary()) writeCloseAndEnd();
  });
  client.on('drain', () => endpoint.resume());
  client.on('data', (chunk: Buffer) => {
    clientTracker.push(chunk);
    if (!endpoint.write(chunk)) client.pause();
  });
  endpoint.on('drain', () => client.resume());

  // Closing on the balancer's own account: the client gets the pending close frame, and the
  // endpoint a 1001 close frame when no client frame is half-forwarded, else a plain FIN.
  const writeCloseAndEnd = (): void => {
    const frame = pendingClose!;
    pendingClose = undefined;
    client.end(frame);
    if (clientTracker.atBoundary() && !clientTracker.sawCloseFrame) {
      endpoint.end(buildMaskedCloseFrame(closeCodes.goingAway, 'balancer closing'));
    } else {
      endpoint.end();
    }
  };

  const onEndpointGone = (): void => {
    if (client.destroyed || client.writableEnded) return;
    if (tracker.sawCloseFrame) {
      finish('closed');
      client.end();
    } else if (tracker.atBoundary()) {
      finish('endpoint_lost');
      client.end(buildCloseFrame(closeCodes.serviceRestart, 'endpoint went away'));
    } else {
      finish('endpoint_lost_mid_frame');
      client.destroy();
    }
  };
  endpoint.on('end', onEndpointGone);
  endpoint.on('error', onEndpointGone);
  endpoint.on('close', () => {
    onEndpointGone();
    onSocketClosed();
  });

  const onClientGone = (): void => {
    finish('closed');
    if (!endpoint.destroyed) endpoint.destroy();
  };
  client.on('end', () => {
    finish('closed');
    endpoint.end();
  });
  client.on('error', onClientGone);
  client.on('close', () => {
    onClientGone();
    onSocketClosed();
  });

  return {
    close(code, reason) {
      if (end !== undefined || client.writableEnded) return;
      finish('shutdown');
      pendingClose = buildCloseFrame(code, reason);
      if (tracker.atBoundary()) writeCloseAndEnd();
    },
    destroy() {
      finish('shutdown');
      client.destroy();
      endpoint.destroy();
    },
  };
}
