import { StreamClusterClient, type ClientState } from '../client/index.js';

/**
 * Time without an open connection after which the page reports that connecting keeps failing.
 * With the client's default backoff (250 ms doubling, full jitter) that is several attempts.
 */
const failingAfterMs = 4000;

/** Callbacks through which the page shows the connection state. */
export interface ConnectionListener {
  /** Called with every state of the current client and the id of the server it is open to. */
  onState(state: ClientState, serverId: string | undefined): void;
  /** Called when the client has not connected for a while or gave up. */
  onFailing(): void;
  /** Called when the client opens a connection. */
  onOpen(): void;
}

/**
 * The page's client. Browsers hide the status of a rejected upgrade, so a 401 from a server that
 * requires a token looks like any other failed connect: the page can only notice that connecting
 * keeps failing. A new token needs a new client, because a client sends the token it was made with.
 */
export class Connection {
  private current: StreamClusterClient;
  private failingTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly url: string,
    token: string | undefined,
    private readonly listener: ConnectionListener,
  ) {
    this.current = this.create(token);
    this.connect();
  }

  get client(): StreamClusterClient {
    return this.current;
  }

  /** Closes the client and connects a new one with `token`. Operations queued on the old one fail. */
  replace(token: string): void {
    const previous = this.current;
    clearTimeout(this.failingTimer);
    this.failingTimer = undefined;
    this.current = this.create(token);
    previous.close();
    this.connect();
  }

  private create(token: string | undefined): StreamClusterClient {
    const client = new StreamClusterClient({ urls: this.url, token });
    client.addEventListener('state', (event) => {
      // Ignores a replaced client, which reports `closed` as it shuts down.
      if (client !== this.current) return;
      this.onState((event as CustomEvent<ClientState>).detail);
    });
    return client;
  }

  private connect(): void {
    void this.current.connect().catch(() => {
      // The state is `closed` now and onFailing has run. The forms report their own errors.
    });
  }

  private onState(state: ClientState): void {
    this.listener.onState(state, state === 'open' ? this.current.connectedServerId : undefined);
    if (state === 'open') {
      clearTimeout(this.failingTimer);
      this.failingTimer = undefined;
      this.listener.onOpen();
    } else if (state === 'closed') {
      clearTimeout(this.failingTimer);
      this.failingTimer = undefined;
      this.listener.onFailing();
    } else if (state !== 'idle' && this.failingTimer === undefined) {
      this.failingTimer = setTimeout(() => this.listener.onFailing(), failingAfterMs);
    }
  }
}
