import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { main } from '@roomgraph/cli';
import { publicKeyBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { addEventSignature } from '@roomgraph/events';
import type { JsonObject } from '@roomgraph/canonical-json';
import { getRoomVersion } from '@roomgraph/room-versions';

async function run(argv: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdin, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

interface Line { room_version: string; event: object; auth_events: object[]; expected: { allowed: boolean }; server_keys?: object }
const fixtures = gunzipSync(readFileSync(new URL('../../../test/fixtures/reference-sample/auth.jsonl.gz', import.meta.url)))
  .toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line);

const create = { event_id: '$c:a.org', room_id: '!r:a.org', type: 'm.room.create', sender: '@alice:a.org', state_key: '', content: { creator: '@alice:a.org', room_version: '1' }, prev_events: [], auth_events: [] };
const join = { event_id: '$j:a.org', room_id: '!r:a.org', type: 'm.room.member', sender: '@alice:a.org', state_key: '@alice:a.org', content: { membership: 'join' }, prev_events: [['$c:a.org', {}]], auth_events: [['$c:a.org', {}]] };

describe('roomgraph auth-check', () => {
  it('allows the creator\'s join', async () => {
    const r = await run(['auth-check'], JSON.stringify({ room_version: '1', event: join, auth_events: [create] }));
    expect(r).toEqual({ code: 0, out: '{"allowed":true}\n', err: '' });
  });
  it('reports the rule and reason of a rejection', async () => {
    const msg = { ...join, event_id: '$m:a.org', type: 'm.room.message', state_key: undefined, content: { body: 'hi' } };
    delete (msg as { state_key?: string }).state_key;
    const r = await run(['auth-check'], JSON.stringify({ room_version: '1', event: msg, auth_events: [create] }));
    const out = JSON.parse(r.out);
    expect(out).toEqual({ allowed: false, rule: 'sender_not_joined', reason: expect.any(String) });
  });
  it('unknown room version and bad input are errors', async () => {
    const a = await run(['auth-check'], JSON.stringify({ room_version: '99', event: join, auth_events: [] }));
    expect(a.code).toBe(2);
    expect(JSON.parse(a.err).error.code).toBe('ROOM_VERSION_UNKNOWN');
    const b = await run(['auth-check'], JSON.stringify({ room_version: '1', event: 5 }));
    // A bad input shape is BAD_INPUT (USAGE is for the command line itself).
    expect(JSON.parse(b.err).error.code).toBe('BAD_INPUT');
    expect(JSON.parse((await run(['auth-check'], JSON.stringify({ room_version: 5, event: join }))).err).error.code).toBe('BAD_INPUT');
    expect(JSON.parse((await run(['auth-check'], JSON.stringify({ room_version: '1', event: join, auth_events: [5] }))).err).error.code).toBe('BAD_INPUT');
    expect(JSON.parse((await run(['auth-check'], JSON.stringify({ room_version: '1', event: join, auth_events: [create], server_keys: [] }))).err).error.code).toBe('BAD_INPUT');
  });
  it('agrees with the reference sample (every 5th line, one --jsonl run)', async () => {
    const sample = fixtures.filter((_, i) => i % 5 === 0);
    const input = sample.map((f) => JSON.stringify({ room_version: f.room_version, event: f.event, auth_events: f.auth_events, server_keys: f.server_keys })).join('\n') + '\n';
    const r = await run(['auth-check', '--jsonl'], input);
    const outs = r.out.trim().split('\n').map((l) => JSON.parse(l) as { allowed: boolean });
    expect(outs).toHaveLength(sample.length);
    expect(outs.map((o) => o.allowed)).toEqual(sample.map((f) => f.expected.allowed));
  });

  // F6.2 (v8+): a restricted join vouched for by a user of b.org must be signed by b.org. Like the
  // library: with no key source only the signature's presence is checked; with keys, it verifies.
  describe('server_keys is optional, as in the library', () => {
    const v = '10';
    const rules = getRoomVersion(v);
    const b = signingKeyFromSeed(new Uint8Array(32).fill(9), 'k');
    const ev = (id: string, type: string, sender: string, content: object, stateKey?: string) => ({
      event_id: id, room_id: '!r:a.org', type, sender, content, depth: 5, origin_server_ts: 1, prev_events: [], auth_events: [],
      ...(stateKey !== undefined ? { state_key: stateKey } : {}),
    });
    const authEvents = [
      ev('$c', 'm.room.create', '@alice:a.org', { creator: '@alice:a.org', room_version: v }, ''),
      ev('$pl', 'm.room.power_levels', '@alice:a.org', { users: { '@alice:a.org': 100, '@carol:b.org': 50 }, invite: 0 }, ''),
      ev('$jr', 'm.room.join_rules', '@alice:a.org', { join_rule: 'restricted', allow: [] }, ''),
      ev('$carol', 'm.room.member', '@carol:b.org', { membership: 'join' }, '@carol:b.org'),
    ];
    const join = { ...ev('$frank', 'm.room.member', '@frank:c.org', { membership: 'join', join_authorised_via_users_server: '@carol:b.org' }, '@frank:c.org'), auth_events: ['$c', '$pl', '$jr', '$carol'] };
    const realSig = addEventSignature(join as unknown as JsonObject, rules, { serverName: 'b.org', key: b });
    const fakeSig = { ...join, signatures: { 'b.org': { 'ed25519:k': 'c2ln' } } };
    const keys = { 'b.org': { key_id: 'ed25519:k', public_key: publicKeyBase64(b) } };
    const check = async (event: object, serverKeys?: object) =>
      JSON.parse((await run(['auth-check'], JSON.stringify({ room_version: v, event, auth_events: authEvents, ...(serverKeys !== undefined ? { server_keys: serverKeys } : {}) }))).out);
    it('without server_keys: a signature by the authorising server is enough (no key source)', async () => {
      expect(await check(fakeSig)).toEqual({ allowed: true });
      expect(await check(realSig)).toEqual({ allowed: true });
      expect(await check(join)).toMatchObject({ allowed: false, rule: 'member.join_authorised_signature' });
    });
    it('with server_keys: the signature must verify', async () => {
      expect(await check(realSig, keys)).toEqual({ allowed: true });
      expect(await check(fakeSig, keys)).toMatchObject({ allowed: false, rule: 'member.join_authorised_signature' });
      expect(await check(realSig, {})).toMatchObject({ allowed: false, rule: 'member.join_authorised_signature' });
    });
  });
});
