import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import type { CheckUrlResult } from '../../protocol';
import type { Clock } from '../shared/clock';

/** Resolves a host name to every address it has (A and AAAA), like `dns.lookup(host, { all: true })`. */
export type HostResolver = (host: string) => Promise<string[]>;

/** The system resolver: `getaddrinfo`, so /etc/hosts counts, exactly as an HTTP client would see it. */
export const systemResolver: HostResolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Ranges no server-side fetch may reach, with the words the refusal uses. */
const BLOCKED_RANGES: [string, string][] = [
  ['0.0.0.0/8', 'unspecified ("this network")'],
  ['10.0.0.0/8', 'private (10/8)'],
  ['100.64.0.0/10', 'carrier-grade NAT (100.64/10)'],
  ['100.100.100.200/32', 'cloud metadata (Alibaba)'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.169.254/32', 'cloud metadata (169.254.169.254)'],
  ['169.254.0.0/16', 'link-local (169.254/16)'],
  ['172.16.0.0/12', 'private (172.16/12)'],
  ['192.0.0.0/24', 'IETF protocol assignments (192.0.0/24, includes Oracle metadata 192.0.0.192)'],
  ['192.0.2.0/24', 'documentation (TEST-NET-1)'],
  ['192.88.99.0/24', '6to4 relay anycast'],
  ['192.168.0.0/16', 'private (192.168/16)'],
  ['198.18.0.0/15', 'benchmarking (198.18/15)'],
  ['198.51.100.0/24', 'documentation (TEST-NET-2)'],
  ['203.0.113.0/24', 'documentation (TEST-NET-3)'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved (240/4)'],
  ['::/128', 'unspecified (::)'],
  ['::1/128', 'loopback (::1)'],
  ['100::/64', 'discard-only (100::/64)'],
  ['2001::/32', 'Teredo tunnel'],
  ['2001:db8::/32', 'documentation (2001:db8::/32)'],
  ['fc00::/7', 'unique-local (fc00::/7)'],
  ['fe80::/10', 'link-local (fe80::/10)'],
  ['fec0::/10', 'site-local (fec0::/10, deprecated)'],
  ['ff00::/8', 'multicast (ff00::/8)'],
];

/** Names that reach cloud metadata services or the local machine whatever DNS says. */
const BLOCKED_NAMES = new Set([
  'localhost',
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.internal',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.packet.net',
  'metadata.platformequinix.com',
]);
const BLOCKED_SUFFIXES = ['.localhost', '.internal', '.local', '.home.arpa'];

/** Longest prefix first, so the most specific reason (metadata before CGNAT or link-local) wins. */
const CIDRS: { range: Cidr; reason: string }[] = BLOCKED_RANGES.map(([cidr, reason]) => ({ range: ipaddr.parseCIDR(cidr), reason })).sort(
  (a, b) => b.range[1] - a.range[1],
);

/** The IPv4 address an IPv6 address carries, for the notations that route to it. */
function embeddedIPv4(addr: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const parts = addr.parts;
  const tail = () => ipaddr.IPv4.parse(`${parts[6]! >> 8}.${parts[6]! & 0xff}.${parts[7]! >> 8}.${parts[7]! & 0xff}`);
  if (addr.isIPv4MappedAddress()) return addr.toIPv4Address();
  // IPv4-compatible (::a.b.c.d, deprecated but still routed by some stacks); :: and ::1 are handled as IPv6.
  if (parts.slice(0, 6).every((p) => p === 0) && (parts[6] !== 0 || parts[7]! > 1)) return tail();
  // IPv4-translated (SIIT, ::ffff:0:a.b.c.d).
  if (parts.slice(0, 4).every((p) => p === 0) && parts[4] === 0xffff && parts[5] === 0) return tail();
  // NAT64 well-known prefix 64:ff9b::/96 and the local-use 64:ff9b:1::/48.
  if (addr.match(ipaddr.parseCIDR('64:ff9b::/96')) || addr.match(ipaddr.parseCIDR('64:ff9b:1::/48'))) return tail();
  // 6to4: 2002:AABB:CCDD::/48 tunnels to AA.BB.CC.DD.
  if (parts[0] === 0x2002) return ipaddr.IPv4.parse(`${parts[1]! >> 8}.${parts[1]! & 0xff}.${parts[2]! >> 8}.${parts[2]! & 0xff}`);
  return undefined;
}

/** Why an address is refused, or undefined when it is a public unicast address. */
export function blockedAddressReason(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return `"${address}" is not an IP address`;
  const addr = ipaddr.parse(address);
  for (const { range, reason } of CIDRS) {
    if (range[0].kind() === addr.kind() && addr.match(range)) return reason;
  }
  if (addr.kind() === 'ipv6') {
    const v4 = embeddedIPv4(addr as ipaddr.IPv6);
    if (v4) {
      const inner = blockedAddressReason(v4.toString());
      if (inner) return `${inner}, embedded in IPv6 ${address}`;
    }
  }
  return undefined;
}

/** Why a host name is refused before any lookup, or undefined. */
export function blockedNameReason(host: string): string | undefined {
  const name = host.toLowerCase().replace(/\.+$/, '');
  if (name === '') return 'empty host';
  if (BLOCKED_NAMES.has(name)) return `"${name}" names the local machine or a cloud metadata service`;
  const suffix = BLOCKED_SUFFIXES.find((s) => name.endsWith(s));
  if (suffix) return `"${name}" is under "${suffix.slice(1)}", which only resolves inside private networks`;
  // A name without a dot resolves through search domains: an intranet host.
  if (!name.includes('.')) return `"${name}" is a single-label name (resolves through local search domains)`;
  return undefined;
}

export interface UrlGuardOptions {
  resolver?: HostResolver;
  clock: Clock;
  /** Longest wait for name resolution, ms (default 2000). */
  resolveTimeoutMs?: number;
}

/**
 * The SSRF check: WHATWG URL parsing (so decimal, octal, hex and shortened IPv4 become one
 * dotted form), http/https only, then every address the host resolves to must be public. It only
 * resolves names, it never connects. A fetch that follows must pin the checked addresses, or DNS
 * rebinding can swap them between check and use.
 */
export class UrlGuard {
  private readonly resolver: HostResolver;
  private readonly timeoutMs: number;

  constructor(private readonly options: UrlGuardOptions) {
    this.resolver = options.resolver ?? systemResolver;
    this.timeoutMs = options.resolveTimeoutMs ?? 2000;
  }

  async check(raw: string): Promise<CheckUrlResult> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return { allowed: false, reason: 'not a valid absolute URL', addresses: [] };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return { allowed: false, reason: `scheme "${url.protocol.slice(0, -1)}" is not allowed (only http and https)`, addresses: [] };
    }
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (ipaddr.isValid(host)) {
      const reason = blockedAddressReason(host);
      return reason ? { allowed: false, reason: `${host} is ${reason}`, host, addresses: [host] } : { allowed: true, host, addresses: [host] };
    }
    const nameReason = blockedNameReason(host);
    if (nameReason) return { allowed: false, reason: nameReason, host, addresses: [] };

    let addresses: string[];
    try {
      addresses = await this.resolve(host.replace(/\.+$/, ''));
    } catch (e) {
      return { allowed: false, reason: `could not resolve "${host}": ${(e as Error).message}`, host, addresses: [] };
    }
    if (addresses.length === 0) return { allowed: false, reason: `"${host}" resolved to no address`, host, addresses };
    for (const address of addresses) {
      const reason = blockedAddressReason(address);
      if (reason) return { allowed: false, reason: `"${host}" resolves to ${address}, which is ${reason}`, host, addresses };
    }
    return { allowed: true, host, addresses };
  }

  private resolve(host: string): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const timer = this.options.clock.setTimer(this.timeoutMs, () => reject(new Error(`no answer within ${this.timeoutMs} ms`)));
      this.resolver(host).then(
        (a) => {
          timer.cancel();
          resolve(a);
        },
        (e: unknown) => {
          timer.cancel();
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }
}
