/**
 * `roomgraph serve`: two and three processes federating over HTTPS on 127.0.0.1 (certificates
 * made in the test): create, join, messages both ways, a state conflict during a partition
 * resolved the same on every node after restarts, crash safety, the control-command contract, and
 * hostile requests against a real engine answered with the right errcode and nothing stored.
 * The processes run the built CLI (`dist/`), as `npm test` builds before testing.
 */
import { readFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { signingKeyFromSeed } from '@roomgraph/crypto';
import { RoomEngine } from '@roomgraph/engine';
import { buildEvent } from '@roomgraph/events';
import { FederationServer, HttpKeySource, HttpTransport, signRequest } from '@roomgraph/federation-http';
import { createMemoryStore } from '@roomgraph/store-memory';
import { TransportError } from '@roomgraph/transport';
import { type CertFiles, type NodeHome, ServeProcess, freePort, makeCerts, newHome } from './serveHarness.js';

type Json = Record<string, unknown>;

let certs: CertFiles;
const running = new Set<ServeProcess>();

async function start(home: NodeHome): Promise<ServeProcess> {
  const p = await ServeProcess.start(home, certs);
  running.add(p);
  void p.exited.then(() => running.delete(p));
  return p;
}

beforeAll(async () => { certs = await makeCerts(); });
afterAll(async () => { for (const p of running) await p.signal('SIGKILL'); });

const msg = (room: string, sender: string, body: string): Json => ({ op: 'send', room_id: room, sender, type: 'm.room.message', content: { msgtype: 'm.text', body } });
const bodies = (r: Json): string[] => (r['events'] as Json[]).filter((e) => e['type'] === 'm.room.message').map((e) => String((e['content'] as Json)['body']));

async function waitAll(nodes: readonly ServeProcess[], room: string, eventId: unknown): Promise<void> {
  for (const n of nodes) {
    const r = await n.ok({ op: 'wait', room_id: room, event_id: eventId, timeout_ms: 30_000 });
    // On failure, show what every running node logged.
    if (r['found'] !== true) for (const p of running) process.stderr.write(`--- ${p.home.name}\n${p.stderr.join('\n')}\n`);
    expect(r, `${n.home.name} has ${String(eventId)}`).toEqual({ found: true });
  }
}

describe('roomgraph serve: two nodes', () => {
  it('create, join over HTTPS, messages both ways, the same state; clean stop on EOF and on SIGTERM; the signing key is reused', async () => {
    const [ha, hb] = [await newHome(), await newHome()];
    const a = await start(ha);
    const b = await start(hb);
    const alice = `@alice:${ha.name}`;
    const bob = `@bob:${hb.name}`;
    const { room_id: room } = await a.ok({ op: 'create_room', creator: alice, room_version: '10', preset: 'public_chat' });
    const join = await b.ok({ op: 'join', room_id: room, via: ha.name, user_id: bob });
    await waitAll([a], String(room), join['event_id']);
    const m1 = await a.ok(msg(String(room), alice, 'hello from a'));
    const m2 = await b.ok(msg(String(room), bob, 'hello from b'));
    await waitAll([a, b], String(room), m1['event_id']);
    await waitAll([a, b], String(room), m2['event_id']);
    for (const n of [a, b]) expect(bodies(await n.ok({ op: 'messages', room_id: room, limit: 10 })).sort()).toEqual(['hello from a', 'hello from b']);
    // A merge event, then both agree on state and extremities.
    const merge = await a.ok(msg(String(room), alice, 'merge'));
    await waitAll([b], String(room), merge['event_id']);
    const sa = await a.ok({ op: 'state', room_id: room });
    const sb = await b.ok({ op: 'state', room_id: room });
    expect(sb).toEqual(sa);
    expect(Object.keys((sa['state'] as Json)['m.room.member'] as Json).sort()).toEqual([alice, bob].sort());
    expect(sa['forward_extremities']).toEqual([merge['event_id']]);

    // Clean stops, then a restart on the same store and key file.
    const key = readFileSync(joinPath(ha.dir, 'signing.key'), 'utf8');
    expect(await a.stop()).toBe(0);
    expect(await b.signal('SIGTERM')).toBe(0);
    const a2 = await start(ha);
    expect(readFileSync(joinPath(ha.dir, 'signing.key'), 'utf8')).toBe(key);
    expect(a2.stderr.some((l) => l.includes('loaded signing key'))).toBe(true);
    expect(await a2.ok({ op: 'state', room_id: room })).toEqual(sa);
    expect(await a2.stop()).toBe(0);
  });

  it('one result line per command, in order; errors as {"error":{"code","message"}}; logs only on stderr', async () => {
    const h = await newHome();
    const a = await start(h);
    expect(await a.raw('not json')).toMatch(/^\{"error":\{"code":"NOT_JSON","message":/);
    expect(JSON.parse(await a.raw(''))).toMatchObject({ error: { code: 'EMPTY_LINE' } });
    expect(await a.cmd({ op: 'fly' })).toMatchObject({ error: { code: 'BAD_COMMAND' } });
    expect(await a.cmd({ op: 'send', room_id: '!nope:x', sender: `@a:${h.name}`, type: 'm.room.message', content: {} })).toMatchObject({ error: { code: 'ENGINE_UNKNOWN_ROOM' } });
    expect(await a.cmd({ op: 'create_room', creator: '@a:elsewhere.example' })).toMatchObject({ error: { code: 'ENGINE_INVALID_ARGUMENT' } });
    const { room_id: room } = await a.ok({ op: 'create_room', creator: `@a:${h.name}`, room_version: '11' });
    expect(await a.cmd({ op: 'wait', room_id: room, event_id: '$never', timeout_ms: 50 })).toEqual({ found: false });
    expect(await a.cmd({ op: 'join', room_id: '!x:127.0.0.1:1', via: '127.0.0.1:1', user_id: `@a:${h.name}` })).toMatchObject({ error: { code: 'ENGINE_JOIN_REFUSED' } });
    expect(await a.stop()).toBe(0);
  });

  it('a SIGKILL loses nothing a result line acknowledged: the event is stored and still delivered after the restart', async () => {
    const [ha, hb] = [await newHome(), await newHome()];
    let a = await start(ha);
    const b = await start(hb);
    const { room_id: room } = await a.ok({ op: 'create_room', creator: `@alice:${ha.name}`, room_version: '10', preset: 'public_chat' });
    const join = await b.ok({ op: 'join', room_id: room, via: ha.name, user_id: `@bob:${hb.name}` });
    await waitAll([a], String(room), join['event_id']);
    expect(await b.stop()).toBe(0); // b is down: a's event waits in a's queue
    const sent = await a.ok(msg(String(room), `@alice:${ha.name}`, 'survives'));
    await a.signal('SIGKILL');
    a = await start(ha);
    expect(bodies(await a.ok({ op: 'messages', room_id: room, limit: 5 }))).toContain('survives');
    const b2 = await start(hb);
    // The restarted queue delivers it (b's first request to a also wakes a's queue).
    await waitAll([b2], String(room), sent['event_id']);
    expect(await a.stop()).toBe(0);
    expect(await b2.stop()).toBe(0);
  });
});

describe('roomgraph serve: invites, leaves and knocks between two nodes', () => {
  it('invite over HTTPS (countersigned), join, leave; a rejected invite; a knock', async () => {
    const [ha, hb] = [await newHome(), await newHome()];
    const a = await start(ha);
    const b = await start(hb);
    const [alice, bob, carol] = [`@alice:${ha.name}`, `@bob:${hb.name}`, `@carol:${hb.name}`];
    const { room_id: r } = await a.ok({ op: 'create_room', creator: alice, room_version: '10', preset: 'private_chat' });
    const room = String(r);
    expect(await b.cmd({ op: 'join', room_id: room, via: ha.name, user_id: bob })).toMatchObject({ error: { code: 'ENGINE_JOIN_REFUSED' } });
    const inv = await a.ok({ op: 'invite', room_id: room, sender: alice, user_id: bob });
    const join = await b.ok({ op: 'join', room_id: room, via: ha.name, user_id: bob });
    await waitAll([a], room, join['event_id']);
    const hi = await b.ok(msg(room, bob, 'thanks for the invite'));
    await waitAll([a], room, hi['event_id']);
    // The invite event carries both servers' signatures.
    const invite = ((await a.ok({ op: 'messages', room_id: room, limit: 10 }))['events'] as Json[]).find((e) => e['event_id'] === inv['event_id']);
    expect(Object.keys(invite?.['signatures'] as Json).sort()).toEqual([ha.name, hb.name].sort());
    // carol (on b, which is resident now) is invited and rejects through a (make_leave / send_leave).
    await a.ok({ op: 'invite', room_id: room, sender: alice, user_id: carol });
    const rej = await b.ok({ op: 'leave', room_id: room, user_id: carol, via: ha.name });
    await waitAll([a], room, rej['event_id']);
    // bob leaves (a local leave on b, queued for a).
    const left = await b.ok({ op: 'leave', room_id: room, user_id: bob });
    await waitAll([a], room, left['event_id']);
    const members = (await a.ok({ op: 'state', room_id: room }))['state'] as Record<string, Record<string, string>>;
    expect(members['m.room.member']![bob]).toBe(left['event_id']);
    expect(members['m.room.member']![carol]).toBe(rej['event_id']);
    // A knock on a knock room.
    const { room_id: kr } = await a.ok({ op: 'create_room', creator: alice, room_version: '10', preset: 'private_chat' });
    await a.ok({ op: 'send', room_id: kr, sender: alice, type: 'm.room.join_rules', state_key: '', content: { join_rule: 'knock' } });
    const k = await b.ok({ op: 'knock', room_id: kr, via: ha.name, user_id: bob });
    await waitAll([a], String(kr), k['event_id']);
    expect((k['knock_room_state'] as Json[]).map((e) => e['type'])).toContain('m.room.join_rules');
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
  });
});

describe('roomgraph serve: three nodes and a partition', () => {
  it('a state conflict made while one node is stopped resolves the same on every node after restarts', async () => {
    const homes = [await newHome(), await newHome(), await newHome()];
    const [ha, hb, hc] = homes as [NodeHome, NodeHome, NodeHome];
    let a = await start(ha);
    let b = await start(hb);
    let c = await start(hc);
    const [alice, bob, carol] = [`@alice:${ha.name}`, `@bob:${hb.name}`, `@carol:${hc.name}`];
    const { room_id: r } = await a.ok({ op: 'create_room', creator: alice, room_version: '10', preset: 'public_chat' });
    const room = String(r);
    // Everyone may set the topic.
    const pl = await a.ok({ op: 'send', room_id: room, sender: alice, type: 'm.room.power_levels', state_key: '', content: { users: { [alice]: 100 }, users_default: 0, events_default: 0, state_default: 0, ban: 50, kick: 50, redact: 50, invite: 0 } });
    void pl;
    const jb = await b.ok({ op: 'join', room_id: room, via: ha.name, user_id: bob });
    const jc = await c.ok({ op: 'join', room_id: room, via: ha.name, user_id: carol });
    await waitAll([a, b, c], room, jb['event_id']);
    await waitAll([a, b, c], room, jc['event_id']);

    // Partition: c stops; a sets the topic (queued for c).
    expect(await c.stop()).toBe(0);
    const ta = await a.ok({ op: 'send', room_id: room, sender: alice, type: 'm.room.topic', state_key: '', content: { topic: 'from a' } });
    await waitAll([b], room, ta['event_id']);
    // a and b stop; c comes back alone and sets the topic on its old view (queued for a and b).
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
    c = await start(hc);
    const tc = await c.ok({ op: 'send', room_id: room, sender: carol, type: 'm.room.topic', state_key: '', content: { topic: 'from c' } });
    // Heal: a and b restart; the queues deliver both forks; missing events are fetched.
    a = await start(ha);
    b = await start(hb);
    await waitAll([a, b, c], room, ta['event_id']);
    await waitAll([a, b, c], room, tc['event_id']);
    // A conflict indeed: two forward extremities with different topics.
    const before = await c.ok({ op: 'state', room_id: room });
    expect((before['forward_extremities'] as string[]).sort()).toEqual([String(ta['event_id']), String(tc['event_id'])].sort());
    const states = await Promise.all([a, b, c].map((n) => n.ok({ op: 'state', room_id: room })));
    expect(states[1]).toEqual(states[0]);
    expect(states[2]).toEqual(states[0]);
    // A merge from b: everyone converges on one extremity and the same resolved topic.
    const merge = await b.ok(msg(room, bob, 'merged'));
    await waitAll([a, b, c], room, merge['event_id']);
    const after = await Promise.all([a, b, c].map((n) => n.ok({ op: 'state', room_id: room })));
    expect(after[0]!['forward_extremities']).toEqual([merge['event_id']]);
    expect(after[1]).toEqual(after[0]);
    expect(after[2]).toEqual(after[0]);
    expect([ta['event_id'], tc['event_id']]).toContain(((after[0]!['state'] as Json)['m.room.topic'] as Json)['']);
    for (const n of [a, b, c]) expect(await n.stop()).toBe(0);
  });
});

describe('roomgraph serve: hostile requests against a real engine', () => {
  it('bad signatures, wrong destination, spoofed origin or sender, garbage, oversize, replay: the right errcode, nothing stored', async () => {
    const h = await newHome();
    const a = await start(h);
    const alice = `@alice:${h.name}`;
    const { room_id: r } = await a.ok({ op: 'create_room', creator: alice, room_version: '10', preset: 'public_chat' });
    const room = String(r);
    await a.ok(msg(room, alice, 'before'));
    const snapshot = async () => [await a.ok({ op: 'state', room_id: room }), await a.ok({ op: 'messages', room_id: room, limit: 100 })];
    const baseline = await snapshot();

    // Mallory: a real server (in-process engine, serving its key) that is not in the room.
    const mport = await freePort();
    const mname = `127.0.0.1:${mport}`;
    const mkey = signingKeyFromSeed(new Uint8Array(32).fill(66), 'm1');
    const transport = new HttpTransport({ serverName: mname, signingKey: mkey, tls: { ca: certs.caPem }, retry: { attempts: 1 } });
    const keys = new HttpKeySource({ fetcher: transport });
    const engine = await RoomEngine.open({ serverName: mname, signingKey: mkey, store: createMemoryStore(), ownsStore: true, transport, keys });
    const server = new FederationServer({ serverName: mname, handler: engine, keys, tls: { cert: certs.certPem, key: certs.keyPem } });
    await server.listen(mport);
    try {
      const state = (await a.ok({ op: 'state', room_id: room }))['state'] as Record<string, Record<string, string>>;
      const ext = (await a.ok({ op: 'state', room_id: room }))['forward_extremities'] as string[];
      const auth = [state['m.room.create']![''], state['m.room.power_levels']![''], state['m.room.member']![alice]] as string[];
      const forge = (sender: string, body: string): JsonObject => buildEvent({
        roomVersion: '10', type: 'm.room.message', sender, content: { msgtype: 'm.text', body }, roomId: room,
        prevEvents: ext, authEvents: auth, depth: 100, originServerTs: Date.now(),
      }, { serverName: mname, key: mkey }).json;

      // Authenticated, but the PDUs are forged (sender of a, signed by mallory) or from a non-member: per-PDU errors.
      const res = await transport.sendPdus(h.name, [forge(alice, 'forged'), forge(`@mallory:${mname}`, 'intruder')]);
      const errors = Object.values(res).map((x) => x.error ?? '');
      expect(errors).toHaveLength(2);
      for (const e of errors) expect(e).not.toBe('');

      // make_join for a user of another server: M_FORBIDDEN.
      const mj = await transport.makeJoin(h.name, room, '@x:other.example', ['10']).catch((e: unknown) => e);
      expect((mj as TransportError).errcode).toBe('M_FORBIDDEN');

      // Raw requests: bad signature, wrong destination, garbage, oversize, replay.
      const raw = async (method: string, path: string, body: string | undefined, authz: string | undefined) => {
        const { request } = await import('node:https');
        return new Promise<{ status: number; json: Json }>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port: h.port, method, path, rejectUnauthorized: false, agent: false, headers: { ...(authz !== undefined ? { authorization: authz } : {}), 'content-type': 'application/json' } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString() || '{}') as Json }));
          });
          req.on('error', reject);
          req.end(body);
        });
      };
      const uri = '/_matrix/federation/v1/send/hostile1';
      const typing = { edu_type: 'm.typing', content: { room_id: room, user_id: `@mallory:${mname}`, typing: true } };
      const txn = { origin: mname, origin_server_ts: 1, pdus: [forge(`@mallory:${mname}`, 'raw')], edus: [typing, 'not an object'] };
      const text = JSON.stringify(txn);
      const sign = (over: object, dest = h.name, key = mkey) => signRequest({ method: 'PUT', uri, origin: mname, destination: dest, content: over as JsonObject }, key);
      const expectErr = async (p: Promise<{ status: number; json: Json }>, status: number, errcode: string) => {
        const r = await p;
        expect([r.status, r.json['errcode']]).toEqual([status, errcode]);
      };
      await expectErr(raw('PUT', uri, text, undefined), 401, 'M_UNAUTHORIZED');
      await expectErr(raw('PUT', uri, text, sign(txn, h.name, signingKeyFromSeed(new Uint8Array(32).fill(67), 'm1'))), 401, 'M_UNAUTHORIZED');
      await expectErr(raw('PUT', uri, text, sign(txn, '127.0.0.1:9')), 401, 'M_UNAUTHORIZED');
      await expectErr(raw('PUT', uri, text, sign(txn).replace(`origin="${mname}"`, `origin="${h.name}"`)), 401, 'M_UNAUTHORIZED');
      await expectErr(raw('PUT', uri, '{"origin":', sign({})), 400, 'M_NOT_JSON');
      const spoofed = { ...txn, origin: h.name };
      await expectErr(raw('PUT', uri, JSON.stringify(spoofed), sign(spoofed)), 403, 'M_FORBIDDEN');
      const big = { ...txn, pdus: [{ ...txn.pdus[0], content: { body: 'x'.repeat(9 * 1024 * 1024) } }] };
      await expectErr(raw('PUT', uri, JSON.stringify(big), sign(big)), 413, 'M_TOO_LARGE');
      const first = await raw('PUT', uri, text, sign(txn));
      const replay = await raw('PUT', uri, text, sign(txn));
      expect(first.status).toBe(200);
      expect(replay.json).toEqual(first.json);
      expect(Object.values(first.json['pdus'] as Json).every((x) => typeof (x as Json)['error'] === 'string')).toBe(true);
      // The EDUs: only the authenticated transaction's object EDU, once (the replay and the refused
      // requests passed none); paged with since/next.
      const edus = await a.ok({ op: 'edus' });
      expect(edus).toEqual({ edus: [{ seq: 1, origin: mname, ...typing }], next: 2 });
      expect(await a.ok({ op: 'edus', since: 2 })).toEqual({ edus: [], next: 2 });
      expect(((await a.cmd({ op: 'edus', limit: 0 }))['error'] as Json)['code']).toBe('BAD_COMMAND');

      // Nothing changed in the room.
      expect(await snapshot()).toEqual(baseline);
    } finally {
      await server.close();
      await transport.close();
      await engine.close();
      expect(await a.stop()).toBe(0);
    }
  });
});

describe('scripts/federation-demo.mjs', () => {
  it('runs two serve processes over HTTPS to convergence', async () => {
    const { spawn } = await import('node:child_process');
    const script = new URL('../../../scripts/federation-demo.mjs', import.meta.url);
    const child = spawn(process.execPath, [script.pathname], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(out).toContain('messages both ways');
    expect(out.trim().split('\n').at(-1)).toBe('converged');
    expect(code).toBe(0);
  });
});
