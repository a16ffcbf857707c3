import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLoadReport } from './load-reporter.js';

test('load report accepts the stats contract', () => {
  const body = JSON.stringify({
    connections: 12,
    inflightIngests: 1,
    eventLoopUtilization: 0.42,
    draining: false,
    extra: 'ignored',
  });
  assert.deepEqual(parseLoadReport(body, 5), {
    connections: 12,
    inflightIngests: 1,
    eventLoopUtilization: 0.42,
    workerUtilization: 0,
    draining: false,
    receivedAtMs: 5,
  });
});

test('load report reads the worker utilization when the server sends it', () => {
  const body = JSON.stringify({
    connections: 0,
    inflightIngests: 2,
    eventLoopUtilization: 0.05,
    workerUtilization: 0.97,
    draining: false,
  });
  assert.equal(parseLoadReport(body, 0)?.workerUtilization, 0.97);
});

test('load report keeps the server id', () => {
  const body = JSON.stringify({
    connections: 0,
    inflightIngests: 0,
    eventLoopUtilization: 0,
    draining: false,
    serverId: 'stream-0',
  });
  assert.equal(parseLoadReport(body, 0)?.serverId, 'stream-0');
});

test('load report rejects malformed bodies', () => {
  const bodies = [
    'not json',
    'null',
    '{"connections":1,"inflightIngests":0,"eventLoopUtilization":0.1}',
    '{"connections":"1","inflightIngests":0,"eventLoopUtilization":0.1,"draining":false}',
    '{"connections":-1,"inflightIngests":0,"eventLoopUtilization":0.1,"draining":false}',
    '{"connections":1,"inflightIngests":0,"eventLoopUtilization":0.1,"workerUtilization":"high","draining":false}',
  ];
  for (const body of bodies) assert.equal(parseLoadReport(body, 0), undefined, body);
});
