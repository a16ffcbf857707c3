import { setUpAccessForm } from './access-form.js';
import { AccessToken } from './access-token.js';
import { setUpAnswers } from './answers.js';
import { Connection } from './connection.js';
import { byId } from './dom.js';
import { setUpServers } from './servers.js';
import { setUpUploads } from './uploads.js';

/**
 * The balancer's web page: upload documents and watch them being indexed, ask questions and read
 * streamed answers with their sources, and watch the stream servers. It talks to the cluster with
 * the same client library as the CLI, over a WebSocket to the balancer that served the page.
 */

// Read first, so the token leaves the address bar before anything else runs.
const accessToken = new AccessToken();

const stateLabel = byId<HTMLSpanElement>('connection-state');
const serverLabel = byId<HTMLSpanElement>('connection-server');
const access = setUpAccessForm((token) => {
  accessToken.set(token);
  connection.replace(token);
  refreshServers();
});
if (accessToken.fragmentProblem !== undefined) access.show('input', accessToken.fragmentProblem);

const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
const connection = new Connection(`${scheme}://${location.host}/`, accessToken.value, {
  onState: (state, serverId) => {
    stateLabel.textContent = state;
    stateLabel.dataset.state = state;
    serverLabel.textContent = serverId ? `(server ${serverId})` : '';
  },
  onOpen: () => access.clear('connection'),
  onFailing: () =>
    access.show(
      'connection',
      accessToken.value === undefined
        ? "The page cannot connect to the cluster. Its servers may require an access token: enter it here, or add #token=<token> to the page's address."
        : 'The page cannot connect to the cluster. Its servers may have rejected the access token: enter the current one here.',
    ),
});

// Questions wait for the last indexed document, so an answer never misses what was just uploaded.
let lastSeq: number | undefined;
setUpUploads(
  () => connection.client,
  (seq) => (lastSeq = Math.max(lastSeq ?? 0, seq)),
);
setUpAnswers(
  () => connection.client,
  () => lastSeq,
);
const refreshServers = setUpServers({
  token: () => accessToken.value,
  onUnauthorized: (unauthorized) => {
    if (!unauthorized) return access.clear('endpoints');
    access.show(
      'endpoints',
      accessToken.value === undefined
        ? 'The balancer lists its servers only to callers with the access token.'
        : 'The balancer rejected the access token for its server list.',
    );
  },
});
