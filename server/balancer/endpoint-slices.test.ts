import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endpointsFromSlices, type EndpointSlice } from './endpoint-slices.js';

const slice = (
  name: string,
  endpoints: EndpointSlice['endpoints'],
  ports: EndpointSlice['ports'],
): EndpointSlice => ({
  metadata: { name },
  addressType: 'IPv4',
  endpoints,
  ports,
});

test('slices map to endpoints by condition and zone', () => {
  const slices = [
    slice(
      'stream-abc',
      [
        { addresses: ['10.0.0.1'], conditions: { ready: true }, zone: 'z1' },
        { addresses: ['10.0.0.2'], conditions: {}, zone: 'z2' },
        {
          addresses: ['10.0.0.3'],
          conditions: { ready: false, serving: true, terminating: true },
          zone: 'z1',
        },
        { addresses: ['10.0.0.4'], conditions: { ready: false } },
        { addresses: [] },
      ],
      [
        { name: 'admin', port: 9000, protocol: 'TCP' },
        { name: 'ws', port: 8080, protocol: 'TCP' },
      ],
    ),
  ];
  assert.deepEqual(endpointsFromSlices(slices, { portName: 'ws', zone: 'z1' }), [
    { host: '10.0.0.1', port: 8080, priority: 0, ready: true },
    { host: '10.0.0.2', port: 8080, priority: 1, ready: true },
    { host: '10.0.0.3', port: 8080, priority: 0, ready: false },
    { host: '10.0.0.4', port: 8080, priority: 0, ready: false },
  ]);
});

test('slices without the port are skipped, duplicates merged', () => {
  const slices = [
    slice('one', [{ addresses: ['10.0.0.1'], conditions: { ready: false } }], [{ port: 8080 }]),
    slice('two', [{ addresses: ['10.0.0.1'], conditions: { ready: true } }], [{ port: 8080 }]),
    slice('udp', [{ addresses: ['10.0.0.9'] }], [{ port: 53, protocol: 'UDP' }]),
    slice('empty', null, null),
  ];
  assert.deepEqual(endpointsFromSlices(slices), [
    { host: '10.0.0.1', port: 8080, priority: 0, ready: true },
  ]);
});

test('overrides set weight and priority by target Pod', () => {
  const pod = (ip: string, name: string, zone = 'z1') => ({
    addresses: [ip],
    conditions: { ready: true },
    zone,
    targetRef: { kind: 'Pod', name, namespace: 'demo' },
  });
  const slices = [
    slice(
      'demo-server-abc',
      [
        pod('10.0.0.1', 'demo-server-0'),
        pod('10.0.0.2', 'demo-server-1', 'z2'),
        pod('10.0.0.3', 'demo-server-2', 'z2'),
        { addresses: ['10.0.0.4'], targetRef: { kind: 'Node', name: 'demo-server-0' } },
      ],
      [{ name: 'http', port: 8080 }],
    ),
  ];
  const endpointOverrides = [
    { pod: 'demo-server-0', weight: 3 },
    { pod: 'demo-server-1', priority: 0 },
    { pod: 'demo-server-9', weight: 5, priority: 2 },
  ];
  assert.deepEqual(endpointsFromSlices(slices, { zone: 'z1', endpointOverrides }), [
    { host: '10.0.0.1', port: 8080, priority: 0, ready: true, weight: 3 },
    { host: '10.0.0.2', port: 8080, priority: 0, ready: true },
    { host: '10.0.0.3', port: 8080, priority: 1, ready: true },
    { host: '10.0.0.4', port: 8080, priority: 0, ready: true },
  ]);
});
