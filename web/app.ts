import { StreamClusterClient, type ClientState } from '../client/index.js';
import { setUpAnswers } from './answers.js';
import { byId } from './dom.js';
import { setUpServers } from './servers.js';
import { setUpUploads } from './uploads.js';

/**
 * The balancer's web page: upload documents and watch them being indexed, ask questions and read
 * streamed answers with their sources, and watch the stream servers. It talks to the cluster with
 * the same client library as the CLI, over a WebSocket to the balancer that served the page.
 */
const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
const client = new StreamClusterClient({ urls: `${scheme}://${location.host}/` });

const stateLabel = byId<HTMLSpanElement>('connection-state');
const serverLabel = byId<HTMLSpanElement>('connection-server');
client.addEventListener('state', (event) => {
  const state = (event as CustomEvent<ClientState>).detail;
  stateLabel.textContent = state;
  stateLabel.dataset.state = state;
  serverLabel.textContent =
    state === 'open' && client.connectedServerId ? `(server ${client.connectedServerId})` : '';
});

// Questions wait for the last indexed document, so an answer never misses what was just uploaded.
let lastSeq: number | undefined;
setUpUploads(client, (seq) => (lastSeq = Math.max(lastSeq ?? 0, seq)));
setUpAnswers(client, () => lastSeq);
setUpServers();
void client.connect().catch(() => {
  // The state label already reads `closed`; the forms report errors of their own operations.
});
