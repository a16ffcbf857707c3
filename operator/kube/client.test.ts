import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ValidationError } from '../../server/core/errors.js';
import { loadKubeConfig } from './client.js';

describe('loadKubeConfig', () => {
  it('names the ways to configure it when no kubeconfig exists', () => {
    assert.throws(
      () => loadKubeConfig(undefined, { HOME: '/nonexistent-home' }),
      (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.match(error.problems[0]!, /^no kubeconfig found: set --kubeconfig or KUBECONFIG/);
        return true;
      },
    );
  });
});
