import { StreamClusterError } from '../../../server/core/errors.js';

/** Hands out IPv4 addresses of one CIDR, never the network, gateway or broadcast address. */
export class IpPool {
  private readonly first: number;
  private readonly last: number;
  private readonly used = new Set<number>();
  private next: number;

  /** CIDR such as 10.244.0.0/16; reserved addresses (such as the gateway) are never handed out. */
  constructor(cidr: string, reserved: string[] = []) {
    const [address, bits] = cidr.split('/');
    const prefix = Number(bits);
    if (address === undefined || !Number.isInteger(prefix) || prefix < 8 || prefix > 30) {
      throw new StreamClusterError(
        'INVALID_CIDR',
        `cidr must be an IPv4 CIDR with a /8 to /30 prefix, got ${cidr}`,
      );
    }
    const size = 2 ** (32 - prefix);
    this.first = parseIpv4(address) - (parseIpv4(address) % size) + 1;
    this.last = this.first + size - 3;
    this.next = this.first;
    for (const ip of reserved) this.used.add(parseIpv4(ip));
  }

  /** Marks an address as taken, such as one an earlier run of the agent handed out. */
  reserve(ip: string): void {
    this.used.add(parseIpv4(ip));
  }

  /** Returns a free address, preferring ones never handed out so a stale peer cannot reach a new pod. */
  allocate(): string {
    const count = this.last - this.first + 1;
    for (let step = 0; step < count; step++) {
      const candidate = this.first + ((this.next - this.first + step) % count);
      if (this.used.has(candidate)) continue;
      this.used.add(candidate);
      this.next = candidate + 1 > this.last ? this.first : candidate + 1;
      return formatIpv4(candidate);
    }
    throw new StreamClusterError(
      'POD_CIDR_EXHAUSTED',
      'every pod address is in use; delete pods or widen the pod CIDR',
    );
  }

  /** Returns an address to the pool. */
  release(ip: string): void {
    this.used.delete(parseIpv4(ip));
  }
}

function parseIpv4(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (
    parts.length !== 4 ||
    parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)
  ) {
    throw new StreamClusterError('INVALID_IP', `address must be dotted IPv4, got ${ip}`);
  }
  return parts.reduce((value, part) => value * 256 + part, 0);
}

function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}
