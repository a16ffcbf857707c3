import type { WebSocket } from 'ws';

import { CloseCode } from './protocol.js';

/** Options for {@link SendQueue}. */
export interface SendQueueOptions {
  /** Socket buffer size above which sending pauses until it drains. Default 1 MiB. */
  highWaterMarkBytes?: number;
  /** Queued plus buffered bytes above which the client is closed as too slow. Default 16 MiB. */
  hardLimitBytes?: number;
}

interface Pending {
  frame: string;
  /** Progress frames with the same key replace each other while unsent. */
  coalesceKey?: string;
}

/**
 * The one outgoing path of a connection. A slow reader pauses the queue at the high-water mark
 * instead of growing the socket's buffer; progress updates waiting in the queue are coalesced;
 * past the hard limit the client is closed with 4008 rather than buffered without bound.
 */
export class SendQueue {
  private readonly pending: Pending[] = [];
  private queuedBytes = 0;
  private pumping = false;
  private closed = false;
  private readonly highWaterMarkBytes: number;
  private readonly hardLimitBytes: number;

  constructor(
    private readonly ws: WebSocket,
    options: SendQueueOptions = {},
    private readonly onSlowConsumer: () => void = () => {},
  ) {
    this.highWaterMarkBytes = options.highWaterMarkBytes ?? 1 << 20;
    this.hardLimitBytes = options.hardLimitBytes ?? 16 << 20;
  }

  /** Queues a JSON frame. Returns false when the connection is closed or was closed for it. */
  push(frame: string, coalesceKey?: string): boolean {
    if (this.closed) return false;
    if (coalesceKey !== undefined) {
      const index = this.pending.findIndex((item) => item.coalesceKey === coalesceKey);
      if (index !== -1) {
        this.queuedBytes += frame.length - this.pending[index]!.frame.length;
        this.pending[index] = { frame, coalesceKey };
        return true;
      }
    }
    this.pending.push({ frame, coalesceKey });
    this.queuedBytes += frame.length;
    if (this.queuedBytes + this.ws.bufferedAmount > this.hardLimitBytes) {
      this.closed = true;
      this.pending.length = 0;
      this.onSlowConsumer();
      this.ws.close(CloseCode.slowConsumer, 'send buffer limit exceeded; read faster');
      // A reader that stopped reading never completes the closing handshake; one that is only
      // slow still gets the close frame, which waits behind the bytes already buffered.
      setTimeout(() => this.ws.terminate(), 10_000).unref();
      return false;
    }
    void this.pump();
    return true;
  }

  /** Bytes waiting in the queue plus those in the socket's buffer. */
  get backlogBytes(): number {
    return this.queuedBytes + this.ws.bufferedAmount;
  }

  close(): void {
    this.closed = true;
    this.pending.length = 0;
    this.queuedBytes = 0;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.pending.length > 0 && !this.closed) {
        if (this.ws.bufferedAmount >= this.highWaterMarkBytes) {
          await this.drained();
          continue;
        }
        const item = this.pending.shift()!;
        this.queuedBytes -= item.frame.length;
        this.ws.send(item.frame);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Resolves when the underlying TCP socket drains or closes. */
  private drained(): Promise<void> {
    // `ws` keeps the net.Socket private; its 'drain' event is the only signal of buffer space.
    const socket = (this.ws as unknown as { _socket?: NodeJS.EventEmitter })._socket;
    if (!socket) return new Promise((resolve) => setTimeout(resolve, 10));
    return new Promise((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }
}
