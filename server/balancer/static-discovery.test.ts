import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValidationError } from '../core/errors.js';
import { parseEndpointList } from './static-discovery.js';

test('endpoint list with weights, priorities, IPv6', () => {
  assert.deepEqual(
    parseEndpointList(['10.0.0.1:8080', 'b.local:81;weight=3;priority=1', '[::1]:9000']),
    [
      { host: '10.0.0.1', port: 8080 },
      { host: 'b.local', port: 81, weight: 3, priority: 1 },
      { host: '::1', port: 9000 },
    ],
  );
});

test('endpoint list reports every bad item', () => {
  assert.throws(
    () => parseEndpointList(['nohost', 'a:0', 'a:1;weight=-1', 'a:2;colour=red']),
    (error: unknown) => error instanceof ValidationError && error.problems.length === 4,
  );
});
