import { object, string } from './schema.js';

/** Access control of the servers' WebSocket upgrade and admin requests. */
export const auth = object(
  {
    tokenSecretRef: object(
      {
        name: string({
          description: 'Name of the Secret, in the StreamCluster namespace.',
          minLength: 1,
          maxLength: 253,
        }),
        key: string({
          description: 'Key within the Secret whose value is the token.',
          minLength: 1,
          maxLength: 253,
        }).default('token'),
      },
      {
        description:
          'Secret key holding the bearer token. Servers require it on the WebSocket upgrade and ' +
          'on POST /drain, POST and DELETE /draining. The balancer sends it with its shed ' +
          'requests, and the operator reads it to drain servers before a scale-in. The value ' +
          'must be an RFC 7230 token, which a WebSocket subprotocol can carry: letters, digits ' +
          'and most punctuation, but no /, = or whitespace, so no trailing newline either.',
      },
    ).optional(),
  },
  { description: 'Authentication of clients and admin requests; none when unset.' },
);
