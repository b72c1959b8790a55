import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { blockedAddressReason, UrlGuard, type HostResolver } from '../../../../daemon/services/governance/ssrf';

/** A fake DNS: names map to addresses; anything else fails like NXDOMAIN. Nothing leaves the process. */
function fakeDns(table: Record<string, string[]>): HostResolver & { asked: string[] } {
  const asked: string[] = [];
  const resolver = async (host: string) => {
    asked.push(host);
    const a = table[host];
    if (!a) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
    return a;
  };
  return Object.assign(resolver, { asked });
}

const guard = (table: Record<string, string[]> = {}) => {
  const dns = fakeDns(table);
  return { dns, g: new UrlGuard({ clock: new ManualClock(), resolver: dns }) };
};

describe('governance/checkUrl: loopback in every notation', () => {
  it.each([
    ['http://127.0.0.1/', '127.0.0.1'],
    ['http://[::1]/', '::1'],
    ['http://2130706433/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://0x7f000001/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://[::ffff:7f00:1]/', '::ffff:7f00:1'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1'],
    ['http://[0:0:0:0:0:ffff:127.0.0.1]:8080/x', '::ffff:7f00:1'],
    ['http://[::127.0.0.1]/', '::7f00:1'],
    ['http://[64:ff9b::7f00:1]/', '64:ff9b::7f00:1'],
    ['http://[::ffff:0:7f00:1]/', '::ffff:0:7f00:1'],
    ['http://[2002:7f00:1::]/', '2002:7f00:1::'],
    ['https://0.0.0.0/', '0.0.0.0'],
    ['http://[::]/', '::'],
  ])('refuses %s without resolving', async (url, host) => {
    const { g, dns } = guard();
    const r = await g.check(url);
    expect(r.allowed).toBe(false);
    expect(r.host).toBe(host);
    expect(r.addresses).toEqual([host]);
    expect(r.reason).toBeTruthy();
    expect(dns.asked).toEqual([]);
  });

  it('names the embedded IPv4 range for mapped and NAT64 addresses', async () => {
    const { g } = guard();
    expect((await g.check('http://[::ffff:7f00:1]/')).reason).toMatch(/loopback, embedded in IPv6/);
    expect((await g.check('http://[64:ff9b::a9fe:a9fe]/')).reason).toMatch(/metadata/);
    expect((await g.check('http://[::ffff:10.0.0.1]/')).reason).toMatch(/private \(10\/8\)/);
  });
});

describe('governance/checkUrl: internal ranges', () => {
  it.each([
    ['http://10.1.2.3/', /private \(10\/8\)/],
    ['http://172.16.0.1/', /private \(172\.16\/12\)/],
    ['http://172.31.255.255/', /private/],
    ['http://192.168.1.1/', /private \(192\.168\/16\)/],
    ['http://169.254.169.254/latest/meta-data/', /cloud metadata/],
    ['http://169.254.1.1/', /link-local/],
    ['http://100.64.0.1/', /carrier-grade NAT/],
    ['http://100.100.100.200/', /metadata \(Alibaba\)/],
    ['http://224.0.0.1/', /multicast/],
    ['http://255.255.255.255/', /broadcast/],
    ['http://[fe80::1]/', /link-local \(fe80/],
    ['http://[fd00:ec2::254]/', /unique-local/],
    ['http://[fc00::1]/', /unique-local/],
    ['http://[ff02::1]/', /multicast/],
  ])('refuses %s', async (url, reason) => {
    const r = await guard().g.check(url);
    expect(r.allowed).toBe(false);
    expect(r.reason).toMatch(reason);
  });

  it('keeps the edges of the private ranges straight', () => {
    expect(blockedAddressReason('172.15.255.255')).toBeUndefined();
    expect(blockedAddressReason('172.32.0.0')).toBeUndefined();
    expect(blockedAddressReason('100.63.255.255')).toBeUndefined();
    expect(blockedAddressReason('100.128.0.0')).toBeUndefined();
    expect(blockedAddressReason('11.0.0.1')).toBeUndefined();
    expect(blockedAddressReason('2606:4700::1111')).toBeUndefined();
    expect(blockedAddressReason('::ffff:8.8.8.8')).toBeUndefined();
  });

  it('allows public addresses, reporting them', async () => {
    const r = await guard().g.check('https://8.8.8.8/dns-query');
    expect(r).toEqual({ allowed: true, host: '8.8.8.8', addresses: ['8.8.8.8'] });
    expect((await guard().g.check('http://[2606:4700:4700::1111]/')).allowed).toBe(true);
  });
});

describe('governance/checkUrl: names', () => {
  it('refuses a name that resolves to loopback, listing every address', async () => {
    const { g, dns } = guard({ 'rebind.example.com': ['93.184.215.14', '127.0.0.1'] });
    const r = await g.check('http://rebind.example.com/');
    expect(r.allowed).toBe(false);
    expect(r.addresses).toEqual(['93.184.215.14', '127.0.0.1']);
    expect(r.reason).toMatch(/resolves to 127\.0\.0\.1, which is loopback/);
    expect(dns.asked).toEqual(['rebind.example.com']);
  });

  it('refuses a name with an IPv6 loopback or mapped answer', async () => {
    const { g } = guard({ 'a.example.org': ['::1'], 'b.example.org': ['::ffff:192.168.0.5'] });
    expect((await g.check('http://a.example.org/')).allowed).toBe(false);
    expect((await g.check('http://b.example.org/')).reason).toMatch(/private \(192\.168\/16\), embedded/);
  });

  it('allows a name whose addresses are all public, resolved without the trailing dot', async () => {
    const { g, dns } = guard({ 'api.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'] });
    const r = await g.check('https://api.example.com./v1');
    expect(r.allowed).toBe(true);
    expect(r.addresses).toHaveLength(2);
    expect(dns.asked).toEqual(['api.example.com']);
  });

  it.each(['http://localhost/', 'http://localhost./', 'http://LOCALHOST:8080/', 'http://foo.localhost/', 'http://metadata.google.internal/computeMetadata/v1/', 'http://metadata/', 'http://intranet/', 'http://printer.local/'])(
    'refuses %s by name, before any lookup',
    async (url) => {
      const { g, dns } = guard({});
      const r = await g.check(url);
      expect(r.allowed).toBe(false);
      expect(r.reason).toBeTruthy();
      expect(dns.asked).toEqual([]);
    },
  );

  it('refuses a name that does not resolve', async () => {
    const r = await guard({}).g.check('http://nope.example.net/');
    expect(r).toMatchObject({ allowed: false, addresses: [] });
    expect(r.reason).toMatch(/could not resolve "nope\.example\.net": getaddrinfo ENOTFOUND/);
  });

  it('gives up on a resolver that does not answer within the timeout', async () => {
    const clock = new ManualClock();
    const g = new UrlGuard({ clock, resolver: () => new Promise<string[]>(() => undefined), resolveTimeoutMs: 500 });
    const pending = g.check('http://slow.example.com/');
    clock.advance(500);
    const r = await pending;
    expect(r.allowed).toBe(false);
    expect(r.reason).toMatch(/no answer within 500 ms/);
  });
});

describe('governance/checkUrl: scheme and syntax', () => {
  it.each(['file:///etc/passwd', 'gopher://example.com/', 'ftp://example.com/', 'javascript:alert(1)', 'data:text/plain,hi'])(
    'refuses scheme of %s',
    async (url) => {
      const r = await guard().g.check(url);
      expect(r.allowed).toBe(false);
      expect(r.reason).toMatch(/only http and https/);
    },
  );

  it('refuses what is not an absolute URL', async () => {
    for (const url of ['not a url', '/relative/path', 'http://[::1/']) {
      expect(await guard().g.check(url)).toEqual({ allowed: false, reason: 'not a valid absolute URL', addresses: [] });
    }
  });
});
