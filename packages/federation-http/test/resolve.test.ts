/** Server-Server API › Resolving server names, with an injected well-known fetcher, DNS and clock. */
import { describe, expect, it } from 'vitest';
import {
  ServerResolver, cacheControlMaxAge, parseServerName, parseWellKnown, FederationHttpError, type SrvRecord, type WellKnownResponse,
} from '@roomgraph/federation-http';

function resolver(wellKnown: Record<string, WellKnownResponse | Error>, srv: Record<string, SrvRecord[]> = {}) {
  let clock = 1_000_000;
  const fetched: string[] = [];
  const looked: string[] = [];
  const r = new ServerResolver({
    fetchWellKnown: async (h) => { fetched.push(h); const w = wellKnown[h]; if (w === undefined) return { status: 404 }; if (w instanceof Error) throw w; return w; },
    dns: { resolveSrv: async (n) => { looked.push(n); return srv[n] ?? []; } },
    now: () => clock,
    random: () => 0.99,
  });
  return { r, fetched, looked, advance: (ms: number) => { clock += ms; } };
}

const ok = (server: string, cacheControl?: string): WellKnownResponse => ({ status: 200, body: JSON.stringify({ 'm.server': server }), ...(cacheControl !== undefined ? { cacheControl } : {}) });

describe('server names', () => {
  it('parses hostnames, IPv4 and IPv6 literals with and without ports', () => {
    expect(parseServerName('example.org')).toEqual({ hostname: 'example.org', ipLiteral: false });
    expect(parseServerName('example.org:8449')).toEqual({ hostname: 'example.org', port: 8449, ipLiteral: false });
    expect(parseServerName('1.2.3.4:99')).toEqual({ hostname: '1.2.3.4', port: 99, ipLiteral: true });
    expect(parseServerName('[::1]:8448')).toEqual({ hostname: '::1', port: 8448, ipLiteral: true });
    for (const bad of ['', 'a b', 'x:0', 'x:65536', '[zz]:1', 'x:']) expect(() => parseServerName(bad)).toThrow(FederationHttpError);
  });
});

describe('resolution steps', () => {
  it('1: an IP literal is used as is (port or 8448), Host = the server name, no SNI', async () => {
    const { r, fetched } = resolver({});
    expect(await r.resolve('127.0.0.1:1234')).toEqual({ serverName: '127.0.0.1:1234', address: '127.0.0.1', port: 1234, hostHeader: '127.0.0.1:1234' });
    expect(await r.resolve('[::1]')).toEqual({ serverName: '[::1]', address: '::1', port: 8448, hostHeader: '[::1]' });
    expect(fetched).toEqual([]);
  });

  it('2: an explicit port skips well-known and SRV; certificate for the hostname', async () => {
    const { r, fetched, looked } = resolver({ 'h.example': ok('elsewhere.example') });
    expect(await r.resolve('h.example:9000')).toEqual({ serverName: 'h.example:9000', address: 'h.example', port: 9000, hostHeader: 'h.example:9000', tlsServerName: 'h.example' });
    expect([fetched, looked]).toEqual([[], []]);
  });

  it('3.1 / 3.2: well-known delegation to an IP literal or a host with a port', async () => {
    const { r } = resolver({ 'a.example': ok('10.0.0.1'), 'b.example': ok('deleg.example:443') });
    expect(await r.resolve('a.example')).toEqual({ serverName: 'a.example', address: '10.0.0.1', port: 8448, hostHeader: '10.0.0.1' });
    expect(await r.resolve('b.example')).toEqual({ serverName: 'b.example', address: 'deleg.example', port: 443, hostHeader: 'deleg.example:443', tlsServerName: 'deleg.example' });
  });

  it('3.3 / 3.4 / 3.5: a delegated host without a port: _matrix-fed SRV, then _matrix SRV, then 8448', async () => {
    const srv = {
      '_matrix-fed._tcp.d1.example': [{ name: 't1.example', port: 1111, priority: 10, weight: 0 }],
      '_matrix._tcp.d2.example': [{ name: 't2.example', port: 2222, priority: 10, weight: 0 }],
    };
    const { r, looked } = resolver({ 'a.example': ok('d1.example'), 'b.example': ok('d2.example'), 'c.example': ok('d3.example') }, srv);
    expect(await r.resolve('a.example')).toEqual({ serverName: 'a.example', address: 't1.example', port: 1111, hostHeader: 'd1.example', tlsServerName: 'd1.example' });
    expect(await r.resolve('b.example')).toEqual({ serverName: 'b.example', address: 't2.example', port: 2222, hostHeader: 'd2.example', tlsServerName: 'd2.example' });
    expect(await r.resolve('c.example')).toEqual({ serverName: 'c.example', address: 'd3.example', port: 8448, hostHeader: 'd3.example', tlsServerName: 'd3.example' });
    expect(looked).toEqual(['_matrix-fed._tcp.d1.example', '_matrix-fed._tcp.d2.example', '_matrix._tcp.d2.example', '_matrix-fed._tcp.d3.example', '_matrix._tcp.d3.example']);
  });

  it('4 / 5 / 6: without a valid well-known: SRV on the hostname (Host and certificate stay the hostname), then 8448', async () => {
    const srv = { '_matrix-fed._tcp.x.example': [{ name: 'tx.example', port: 3333, priority: 1, weight: 1 }], '_matrix._tcp.y.example': [{ name: 'ty.example', port: 4444, priority: 1, weight: 1 }] };
    const { r } = resolver({ 'x.example': { status: 500 }, 'y.example': { status: 200, body: '{"m.server": 5}' }, 'z.example': new Error('connection refused') }, srv);
    expect(await r.resolve('x.example')).toEqual({ serverName: 'x.example', address: 'tx.example', port: 3333, hostHeader: 'x.example', tlsServerName: 'x.example' });
    expect(await r.resolve('y.example')).toEqual({ serverName: 'y.example', address: 'ty.example', port: 4444, hostHeader: 'y.example', tlsServerName: 'y.example' });
    expect(await r.resolve('z.example')).toEqual({ serverName: 'z.example', address: 'z.example', port: 8448, hostHeader: 'z.example', tlsServerName: 'z.example' });
  });

  it('SRV: the lowest priority wins, weighted among equals', async () => {
    const srv = { '_matrix-fed._tcp.w.example': [
      { name: 'low.example', port: 1, priority: 20, weight: 100 },
      { name: 'p10a.example', port: 2, priority: 10, weight: 1 },
      { name: 'p10b.example', port: 3, priority: 10, weight: 9 },
    ] };
    const { r } = resolver({}, srv);
    expect((await r.resolve('w.example')).address).toBe('p10b.example');
  });
});

describe('well-known caching', () => {
  it('24 h by default; Cache-Control max-age respected, capped at 48 h', async () => {
    const { r, fetched, advance } = resolver({ 'a.example': ok('d.example:1'), 'b.example': ok('d.example:2', 'public, max-age=600'), 'c.example': ok('d.example:3', 'max-age=999999999') });
    for (const h of ['a.example', 'b.example', 'c.example']) await r.resolve(h);
    advance(601_000);
    for (const h of ['a.example', 'b.example', 'c.example']) await r.resolve(h);
    expect(fetched).toEqual(['a.example', 'b.example', 'c.example', 'b.example']);
    advance(24 * 3600_000);
    for (const h of ['a.example', 'b.example', 'c.example']) await r.resolve(h);
    expect(fetched.slice(4).sort()).toEqual(['a.example', 'b.example']);
    advance(24 * 3600_000);
    await r.resolve('c.example');
    expect(fetched.at(-1)).toBe('c.example');
  });

  it('errors are cached, with back-off for repeated failures, up to an hour', async () => {
    const { r, fetched, advance } = resolver({ 'e.example': { status: 404 } });
    await r.resolve('e.example');
    advance(30_000); await r.resolve('e.example');
    expect(fetched).toHaveLength(1);
    advance(31_000); await r.resolve('e.example');
    expect(fetched).toHaveLength(2);
    advance(61_000); await r.resolve('e.example');
    expect(fetched).toHaveLength(2); // second failure: 2 minutes
    advance(60_000); await r.resolve('e.example');
    expect(fetched).toHaveLength(3);
  });

  it('cache-control and body parsing', () => {
    expect(cacheControlMaxAge('max-age=60')).toBe(60_000);
    expect(cacheControlMaxAge('no-store')).toBe(0);
    expect(cacheControlMaxAge('private')).toBeUndefined();
    expect(parseWellKnown('{"m.server":"a.example:443"}')).toBe('a.example:443');
    for (const bad of ['', 'nope', '[]', '{"m.server":""}', '{"m.server":"bad name"}', '{}']) expect(parseWellKnown(bad)).toBeUndefined();
  });
});
