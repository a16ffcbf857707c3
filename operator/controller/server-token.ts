import type { CoreV1Api } from '@kubernetes/client-node';
import { bearerTokenProblem } from '../../client/token.js';
import type { StreamCluster } from '../api/streamcluster.js';
import { apiMessageOf, httpStatusOf } from '../kube/client.js';

/**
 * The bearer token the operator sends with its admin requests to a StreamCluster's servers,
 * read from `spec.auth.tokenSecretRef` once per reconcile. `none` means the spec sets no token,
 * so requests go without one. `unavailable` means the servers need a token the operator could
 * not read, so it must not start requests that would be rejected, such as a scale-in's drain.
 */
export type ServerToken =
  | { state: 'none' }
  | { state: 'found'; token: string }
  | { state: 'unavailable'; reason: string; message: string };

/** Reads the token of `spec.auth.tokenSecretRef` through the API, without caching. */
export async function readServerToken(core: CoreV1Api, stc: StreamCluster): Promise<ServerToken> {
  const ref = stc.spec.auth?.tokenSecretRef;
  if (!ref) return { state: 'none' };
  const where = `Secret ${stc.metadata.namespace}/${ref.name}`;

  let data: Record<string, string> | undefined;
  try {
    const secret = await core.readNamespacedSecret({
      name: ref.name,
      namespace: stc.metadata.namespace,
    });
    data = secret.data;
  } catch (error) {
    if (httpStatusOf(error) === 404) {
      return unavailable(
        'AuthSecretNotFound',
        `${where} of spec.auth.tokenSecretRef is not found.`,
      );
    }
    return unavailable('AuthSecretUnreadable', `Reading ${where} failed: ${apiMessageOf(error)}.`);
  }

  const encoded = data?.[ref.key];
  if (encoded === undefined) {
    return unavailable('AuthSecretKeyMissing', `${where} has no key ${ref.key}.`);
  }
  const token = Buffer.from(encoded, 'base64').toString('utf8');
  const problem = token === '' ? 'must not be empty' : bearerTokenProblem(token);
  if (problem) {
    // The value is left out because it is a secret, but the rule it breaks is named.
    return unavailable('AuthTokenInvalid', `The token in key ${ref.key} of ${where} ${problem}.`);
  }
  return { state: 'found', token };
}

function unavailable(reason: string, problem: string): ServerToken {
  const message =
    `${problem} The servers require this token on their admin requests, so the operator ` +
    'does not drain or remove servers until it can read it.';
  return { state: 'unavailable', reason, message };
}

/** Returns the token to send, or undefined when the servers need none. */
export function tokenOf(serverToken: ServerToken): string | undefined {
  return serverToken.state === 'found' ? serverToken.token : undefined;
}
