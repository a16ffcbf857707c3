import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IpPool } from './ip-pool.js';

describe('IpPool', () => {
  it('skips the network and reserved addresses', () => {
    const pool = new IpPool('10.244.0.0/16', ['10.244.0.1']);
    assert.equal(pool.allocate(), '10.244.0.2');
    assert.equal(pool.allocate(), '10.244.0.3');
  });

  it('hands out fresh addresses before reusing released ones', () => {
    const pool = new IpPool('10.0.0.0/29');
    const first = pool.allocate();
    pool.release(first);
    assert.notEqual(pool.allocate(), first);
  });

  it('throws when exhausted', () => {
    const pool = new IpPool('10.0.0.0/30');
    pool.allocate();
    pool.allocate();
    assert.throws(() => pool.allocate(), { code: 'POD_CIDR_EXHAUSTED' });
  });

  it('rejects an invalid CIDR', () => {
    assert.throws(() => new IpPool('10.0.0.0'), { code: 'INVALID_CIDR' });
  });
});
