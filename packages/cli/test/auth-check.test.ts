import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { main } from '@roomgraph/cli';

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
    expect(JSON.parse(a.err).error.code).toBe('UNKNOWN_ROOM_VERSION');
    const b = await run(['auth-check'], JSON.stringify({ room_version: '1', event: 5 }));
    expect(JSON.parse(b.err).error.code).toBe('USAGE');
  });
  it('agrees with the reference sample (every 5th line, one --jsonl run)', async () => {
    const sample = fixtures.filter((_, i) => i % 5 === 0);
    const input = sample.map((f) => JSON.stringify({ room_version: f.room_version, event: f.event, auth_events: f.auth_events, server_keys: f.server_keys })).join('\n') + '\n';
    const r = await run(['auth-check', '--jsonl'], input);
    const outs = r.out.trim().split('\n').map((l) => JSON.parse(l) as { allowed: boolean });
    expect(outs).toHaveLength(sample.length);
    expect(outs.map((o) => o.allowed)).toEqual(sample.map((f) => f.expected.allowed));
  });
});
