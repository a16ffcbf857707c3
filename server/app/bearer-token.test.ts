import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { StreamClusterClient } from '../../client/client.js';
import { serverConfig } from './main.js';
import { bearerToken, tokensEqual } from '../core/token.js';

describe('bearer tokens', () => {
  test('accepts subprotocol characters and no token', () => {
    assert.equal(bearerToken("Ab3_-.~!#$%&'*+^`|"), "Ab3_-.~!#$%&'*+^`|");
    assert.equal(bearerToken(''), '');
  });

  test('rejects characters a subprotocol cannot carry', () => {
    for (const token of ['abc/def', 'padded==', 'two words', 'bearer,x', 'é']) {
      assert.throws(() => bearerToken(token), /must contain only letters, digits/, token);
    }
  });

  test('compares tokens by value', () => {
    assert.equal(tokensEqual('s3cret', 's3cret'), true);
    assert.equal(tokensEqual('s3cret', 's3cre'), false);
    assert.equal(tokensEqual('', 's3cret'), false);
  });

  test('server flag rejects an unusable token without echoing it', () => {
    assert.throws(
      () => serverConfig(['--auth-token', 'c2VjcmV0/dG9rZW4='], {}),
      (error: Error) => {
        assert.match(error.message, /--auth-token .*must contain only letters, digits/);
        assert.doesNotMatch(error.message, /c2VjcmV0/);
        return true;
      },
    );
  });

  test('client rejects an unusable token at construction', () => {
    assert.throws(
      () => new StreamClusterClient({ urls: 'ws://127.0.0.1:1', token: 'a/b=' }),
      /^RangeError: token must contain only letters, digits/,
    );
  });
});
