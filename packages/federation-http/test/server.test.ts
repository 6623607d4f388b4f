/**
 * The federation server and the HTTP transport against each other over real HTTPS on 127.0.0.1
 * (certificates made in the test): every route, request authentication, hostile requests, TLS
 * verification.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { encodeBase64, signJson, signingKeyFromSeed, type SigningKey } from '@roomgraph/crypto';
import { type FederationHandler, type MissingEventsRequest, TransportError } from '@roomgraph/transport';
import { FederationServer, HttpKeySource, HttpTransport, signRequest } from '@roomgraph/federation-http';
import { freePort, rawRequest, testCerts, type TestCerts } from './helpers.js';

/** A handler that records what it is asked and answers from a small fixed set. */
class StubHandler implements FederationHandler {
  readonly received: Array<{ origin: string; pdus: readonly JsonObject[] }> = [];
  readonly asked: string[] = [];
  gate: Promise<void> | undefined;
  constructor(readonly name: string, readonly key: SigningKey) {}
  async onGetEvent(origin: string, eventId: string): Promise<JsonObject | undefined> {
    this.asked.push(`event ${origin} ${eventId}`);
    if (eventId === '$boom') throw new Error('handler bug');
    return eventId === '$known' ? { event_id: '$known', type: 'm.room.message' } : undefined;
  }
  async onGetMissingEvents(origin: string, roomId: string, r: MissingEventsRequest): Promise<readonly JsonObject[]> {
    this.asked.push(`missing ${origin} ${roomId} ${r.earliestEvents.join(',')} ${r.latestEvents.join(',')} ${r.limit} ${r.minDepth ?? ''}`);
    return [{ n: 1 }];
  }
  async onGetStateIds(_origin: string, roomId: string, eventId: string) {
    this.asked.push(`state_ids ${roomId} ${eventId}`);
    return { pduIds: ['$s'], authChainIds: ['$a'] };
  }
  async onGetState(_origin: string, roomId: string, eventId: string) {
    this.asked.push(`state ${roomId} ${eventId}`);
    return { pdus: [{ s: 1 }], authChain: [{ a: 1 }] };
  }
  async onBackfill(_origin: string, roomId: string, from: readonly string[], limit: number): Promise<readonly JsonObject[]> {
    this.asked.push(`backfill ${roomId} ${from.join(',')} ${limit}`);
    return [{ b: 1 }];
  }
  async onGetServerKeys(): Promise<JsonObject> {
    return signJson({ server_name: this.name, valid_until_ts: Date.now() + 3600_000, verify_keys: { [this.key.keyId]: { key: encodeBase64(this.key.publicKey) } }, old_verify_keys: {} }, this.name, this.key);
  }
  async onMakeJoin(origin: string, roomId: string, userId: string, versions: readonly string[]) {
    this.asked.push(`make_join ${origin} ${roomId} ${userId} ${versions.join(',')}`);
    if (roomId === '!forbidden:x') throw new TransportError('TRANSPORT_REJECTED', this.name, 'no', 'M_FORBIDDEN');
    return { roomVersion: '10', event: { type: 'm.room.member', room_id: roomId, sender: userId, state_key: userId, content: { membership: 'join' } } };
  }
  async onSendJoin(_origin: string, roomId: string, eventId: string, event: JsonObject) {
    this.asked.push(`send_join ${roomId} ${eventId} ${String(event['type'])}`);
    return { state: [{ st: 1 }], authChain: [{ ac: 1 }] };
  }
  async onReceivePdus(origin: string, pdus: readonly JsonObject[]) {
    await this.gate;
    this.received.push({ origin, pdus });
    const out: Record<string, { error?: string }> = {};
    for (const p of pdus) out[String(p['event_id'])] = p['bad'] === true ? { error: 'rejected' } : {};
    return out;
  }
}

interface Node { name: string; port: number; key: SigningKey; handler: StubHandler; server: FederationServer; transport: HttpTransport; keys: HttpKeySource; edus: JsonObject[] }

let certs: TestCerts;
const nodes: Node[] = [];

async function node(seed: number, limits?: ConstructorParameters<typeof FederationServer>[0]['limits']): Promise<Node> {
  const port = await freePort();
  const name = `127.0.0.1:${port}`;
  const key = signingKeyFromSeed(new Uint8Array(32).fill(seed), `k${seed}`);
  const handler = new StubHandler(name, key);
  const transport = new HttpTransport({ serverName: name, signingKey: key, tls: { ca: certs.caCert }, retry: { attempts: 1 } });
  const keys = new HttpKeySource({ fetcher: transport });
  const edus: JsonObject[] = [];
  const server = new FederationServer({
    serverName: name, handler, keys, tls: { cert: certs.cert, key: certs.key }, onEdus: (_o, e) => { edus.push(...e); },
    limits: { maxBodyBytes: 64 * 1024, maxConcurrentPerOrigin: 2, ...limits },
  });
  await server.listen(port);
  const n = { name, port, key, handler, server, transport, keys, edus };
  nodes.push(n);
  return n;
}

let a: Node;
let b: Node;

beforeAll(async () => {
  certs = await testCerts();
  a = await node(1);
  b = await node(2);
});

afterAll(async () => {
  for (const n of nodes) { await n.transport.close(); await n.server.close(); }
});

/** Signs a raw request as `origin` with `key` (for hostile variants). */
function auth(origin: string, key: SigningKey, method: string, uri: string, destination: string, content?: JsonObject): string {
  return signRequest({ method, uri, origin, destination, ...(content !== undefined ? { content } : {}) }, key);
}

describe('routes through HttpTransport → FederationServer → FederationHandler', () => {
  it('version and keys need no authentication', async () => {
    expect(await b.transport.version(a.name)).toEqual({ name: 'roomgraph', version: '0.1.0' });
    const keys = await b.transport.getServerKeys(a.name);
    expect(keys['server_name']).toBe(a.name);
    const old = await rawRequest(a.port, 'GET', `/_matrix/key/v2/server/${encodeURIComponent(a.key.keyId)}`);
    expect(old.status).toBe(200);
    expect(old.json?.['server_name']).toBe(a.name);
  });

  it('event, missing events, state, state_ids, backfill, make_join, send_join, send', async () => {
    expect(await b.transport.getEvent(a.name, '$known')).toEqual({ event_id: '$known', type: 'm.room.message' });
    expect(await b.transport.getEvent(a.name, '$unknown/+x')).toBeUndefined();
    expect(await b.transport.getMissingEvents(a.name, '!r:x', { earliestEvents: ['$e'], latestEvents: ['$l'], limit: 7, minDepth: 3 })).toEqual([{ n: 1 }]);
    expect(await b.transport.getStateIds(a.name, '!r:x', '$e/1')).toEqual({ pduIds: ['$s'], authChainIds: ['$a'] });
    expect(await b.transport.getState(a.name, '!r:x', '$e')).toEqual({ pdus: [{ s: 1 }], authChain: [{ a: 1 }] });
    expect(await b.transport.backfill(a.name, '!r:x', ['$1', '$2'], 5)).toEqual([{ b: 1 }]);
    const made = await b.transport.makeJoin(a.name, '!r:x', '@u:y', ['9', '10']);
    expect(made.roomVersion).toBe('10');
    expect(await b.transport.sendJoin(a.name, '!r:x', '$j', { type: 'm.room.member' })).toEqual({ state: [{ st: 1 }], authChain: [{ ac: 1 }] });
    const res = await b.transport.sendPdus(a.name, [{ event_id: '$p1' }, { event_id: '$p2', bad: true }]);
    expect(res).toEqual({ $p1: {}, $p2: { error: 'rejected' } });
    expect(a.handler.asked).toEqual(expect.arrayContaining([
      `event ${b.name} $known`, `event ${b.name} $unknown/+x`, `missing ${b.name} !r:x $e $l 7 3`, 'state_ids !r:x $e/1', 'state !r:x $e',
      'backfill !r:x $1,$2 5', `make_join ${b.name} !r:x @u:y 9,10`, 'send_join !r:x $j m.room.member',
    ]));
    expect(a.handler.received.at(-1)?.origin).toBe(b.name);
  });

  it('a handler refusal is the Matrix error with its status; unsupported endpoints are M_UNRECOGNIZED', async () => {
    const e = await b.transport.makeJoin(a.name, '!forbidden:x', '@u:y', ['10']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TransportError);
    expect((e as TransportError).code).toBe('TRANSPORT_REJECTED');
    expect((e as TransportError).errcode).toBe('M_FORBIDDEN');
    const leave = await b.transport.makeLeave(a.name, '!r:x', '@u:y').catch((x: unknown) => x);
    expect((leave as TransportError).errcode).toBe('M_UNRECOGNIZED');
    const r = await rawRequest(a.port, 'GET', '/_matrix/federation/v1/nonsense');
    expect([r.status, r.json?.['errcode']]).toEqual([404, 'M_UNRECOGNIZED']);
    const m = await rawRequest(a.port, 'POST', '/_matrix/federation/v1/version');
    expect([m.status, m.json?.['errcode']]).toEqual([405, 'M_UNRECOGNIZED']);
  });

  it('a handler that throws answers 500 M_UNKNOWN and the server keeps serving', async () => {
    const uri = '/_matrix/federation/v1/event/%24boom';
    const r = await rawRequest(a.port, 'GET', uri, { authorization: auth(b.name, b.key, 'GET', uri, a.name) });
    expect([r.status, r.json?.['errcode']]).toEqual([500, 'M_UNKNOWN']);
    expect(await b.transport.getEvent(a.name, '$known')).toBeDefined();
  });

  it('EDUs go to the hook and never fail the transaction', async () => {
    const uri = '/_matrix/federation/v1/send/edu1';
    const body = { origin: b.name, origin_server_ts: 1, pdus: [], edus: [{ edu_type: 'm.typing', content: { room_id: '!r:x', user_id: '@u:y', typing: true } }] };
    const r = await rawRequest(a.port, 'PUT', uri, { authorization: auth(b.name, b.key, 'PUT', uri, a.name, body), 'content-type': 'application/json' }, JSON.stringify(body));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ pdus: {} });
    expect(a.edus.at(-1)?.['edu_type']).toBe('m.typing');
  });
});

describe('hostile requests', () => {
  const uri = '/_matrix/federation/v1/send/h1';
  const body = (): JsonObject => ({ origin: b.name, origin_server_ts: 1, pdus: [{ event_id: '$hostile' }] });
  const stored = (): boolean => a.handler.received.some((r) => r.pdus.some((p) => p['event_id'] === '$hostile'));
  const put = (headers: Record<string, string>, text: string | Buffer) => rawRequest(a.port, 'PUT', uri, { 'content-type': 'application/json', ...headers }, text);

  it('missing, malformed, wrongly signed, mis-addressed or spoofed authentication: 401 M_UNAUTHORIZED, nothing received', async () => {
    const text = JSON.stringify(body());
    const mallory = signingKeyFromSeed(new Uint8Array(32).fill(9), 'k2');
    const cases: Array<[string, Record<string, string>]> = [
      ['missing', {}],
      ['not X-Matrix', { authorization: 'Bearer abc' }],
      ['no sig', { authorization: `X-Matrix origin="${b.name}",key="${b.key.keyId}"` }],
      ['bad signature', { authorization: auth(b.name, mallory, 'PUT', uri, a.name, body()) }],
      ['signature over another body', { authorization: auth(b.name, b.key, 'PUT', uri, a.name, { ...body(), pdus: [] }) }],
      ['signature over another uri', { authorization: auth(b.name, b.key, 'PUT', '/_matrix/federation/v1/send/other', a.name, body()) }],
      ['wrong destination', { authorization: auth(b.name, b.key, 'PUT', uri, '127.0.0.1:1', body()) }],
      ['origin claims b, signed by a', { authorization: auth(b.name, a.key, 'PUT', uri, a.name, body()).replace(`origin="${b.name}"`, `origin="${b.name}"`).replace(a.key.keyId, b.key.keyId) }],
      ['unknown key', { authorization: auth(b.name, signingKeyFromSeed(new Uint8Array(32).fill(3), 'nokey'), 'PUT', uri, a.name, body()) }],
      ['unreachable origin', { authorization: auth('127.0.0.1:1', b.key, 'PUT', uri, a.name, body()) }],
    ];
    for (const [why, headers] of cases) {
      const r = await put(headers, text);
      expect([why, r.status, r.json?.['errcode']]).toEqual([why, 401, 'M_UNAUTHORIZED']);
    }
    expect(stored()).toBe(false);
  });

  it('the origin of the transaction body must be the authenticated origin: 403', async () => {
    const spoof = { ...body(), origin: a.name };
    const r = await put({ authorization: auth(b.name, b.key, 'PUT', uri, a.name, spoof) }, JSON.stringify(spoof));
    expect([r.status, r.json?.['errcode']]).toEqual([403, 'M_FORBIDDEN']);
    expect(stored()).toBe(false);
  });

  it('garbage JSON: 400 M_NOT_JSON; JSON that is not an object: M_BAD_JSON; too many PDUs: M_BAD_JSON', async () => {
    // The signature covers parsed JSON, so garbage cannot be signed: it fails as JSON before auth is checked.
    const g = await put({ authorization: auth(b.name, b.key, 'PUT', uri, a.name, {}) }, '{"pdus": [');
    expect([g.status, g.json?.['errcode']]).toEqual([400, 'M_NOT_JSON']);
    const dup = await put({ authorization: auth(b.name, b.key, 'PUT', uri, a.name, {}) }, '{"a":1,"a":2}');
    expect([dup.status, dup.json?.['errcode']]).toEqual([400, 'M_NOT_JSON']);
    const arr = [1, 2] as unknown as JsonObject;
    const r = await put({ authorization: auth(b.name, b.key, 'PUT', uri, a.name, arr) }, '[1,2]');
    expect([r.status, r.json?.['errcode']]).toEqual([400, 'M_BAD_JSON']);
    const many = { ...body(), pdus: Array.from({ length: 51 }, (_, i) => ({ event_id: `$m${i}` })) };
    const m = await put({ authorization: auth(b.name, b.key, 'PUT', uri, a.name, many) }, JSON.stringify(many));
    expect([m.status, m.json?.['errcode']]).toEqual([400, 'M_BAD_JSON']);
    expect(stored()).toBe(false);
  });

  it('an oversize body: 413 M_TOO_LARGE (declared or streamed)', async () => {
    const big = { ...body(), pdus: [{ event_id: '$hostile', pad: 'x'.repeat(70 * 1024) }] };
    const r = await put({ authorization: auth(b.name, b.key, 'PUT', uri, a.name, big) }, JSON.stringify(big));
    expect([r.status, r.json?.['errcode']]).toEqual([413, 'M_TOO_LARGE']);
    expect(stored()).toBe(false);
  });

  it('a replayed transaction is answered from its first result and processed once', async () => {
    const t = '/_matrix/federation/v1/send/replay1';
    const first = { origin: b.name, origin_server_ts: 1, pdus: [{ event_id: '$r1' }] };
    const h = { authorization: auth(b.name, b.key, 'PUT', t, a.name, first), 'content-type': 'application/json' };
    const r1 = await rawRequest(a.port, 'PUT', t, h, JSON.stringify(first));
    const r2 = await rawRequest(a.port, 'PUT', t, h, JSON.stringify(first));
    expect(r1.json).toEqual({ pdus: { $r1: {} } });
    expect(r2.json).toEqual(r1.json);
    expect(a.handler.received.filter((x) => x.pdus.some((p) => p['event_id'] === '$r1'))).toHaveLength(1);
  });

  it('too many requests in progress from one origin: 429 M_LIMIT_EXCEEDED', async () => {
    let open!: () => void;
    a.handler.gate = new Promise((r) => { open = r; });
    const send = (id: string) => b.transport.sendTransaction(a.name, id, { pdus: [{ event_id: `$c${id}` }] });
    const p1 = send('c1');
    const p2 = send('c2');
    // Wait until both are inside the handler's gate: the third is refused.
    for (;;) {
      const e = await send('c3').then(() => undefined, (x: unknown) => x as TransportError);
      if (e?.errcode === 'M_LIMIT_EXCEEDED') break;
      if (e === undefined) throw new Error('the third request was not limited');
    }
    open();
    a.handler.gate = undefined;
    await Promise.all([p1, p2]);
  });
});

describe('TLS verification', () => {
  it('is on by default: a certificate signed by an unknown CA is refused', async () => {
    const t = new HttpTransport({ serverName: 'x.test', signingKey: b.key, retry: { attempts: 1 } });
    const e = await t.version(a.name).catch((x: unknown) => x);
    expect((e as TransportError).code).toBe('TRANSPORT_UNREACHABLE');
    await t.close();
  });

  it('a CA file can be trusted; skipping verification applies only to the named hosts', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const f = join(mkdtempSync(join(tmpdir(), 'rg-ca-')), 'ca.pem');
    writeFileSync(f, certs.caCert);
    const withCa = new HttpTransport({ serverName: 'x.test', signingKey: b.key, tls: { caFile: f }, retry: { attempts: 1 } });
    expect((await withCa.version(a.name)).name).toBe('roomgraph');
    await withCa.close();
    const skipA = new HttpTransport({ serverName: 'x.test', signingKey: b.key, tls: { insecureSkipVerify: [a.name] }, retry: { attempts: 1 } });
    expect((await skipA.version(a.name)).name).toBe('roomgraph');
    const other = await skipA.version(b.name).catch((x: unknown) => x);
    expect((other as TransportError).code).toBe('TRANSPORT_UNREACHABLE');
    await skipA.close();
  });

  it('a server presenting an untrusted certificate is refused even by name', async () => {
    const port = await freePort();
    const name = `127.0.0.1:${port}`;
    const key = signingKeyFromSeed(new Uint8Array(32).fill(7), 'k7');
    const s = new FederationServer({ serverName: name, handler: new StubHandler(name, key), keys: a.keys, tls: { cert: certs.untrustedCert, key: certs.untrustedKey } });
    await s.listen(port);
    try {
      const e = await a.transport.version(name).catch((x: unknown) => x);
      expect((e as TransportError).code).toBe('TRANSPORT_UNREACHABLE');
    } finally { await s.close(); }
  });
});
