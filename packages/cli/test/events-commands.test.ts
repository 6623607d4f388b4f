import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { main } from '@roomgraph/cli';

interface Line { room_version: string; event: Record<string, unknown>; auth_events: Record<string, unknown>[] }
const auth = gunzipSync(readFileSync(new URL('../../../test/fixtures/reference-sample/auth.jsonl.gz', import.meta.url)))
  .toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line);
const byVersion = (v: string): Line => auth.find((l) => l.room_version === v)!;

async function run(argv: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdin, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

describe('event-id', () => {
  for (const v of ['1', '3', '4', '10', '12']) {
    it(`v${v}: equals the reference homeserver's event ID`, async () => {
      const ev = byVersion(v).event;
      const r = await run(['event-id', '--room-version', v], JSON.stringify(ev));
      expect(r).toEqual({ code: 0, out: JSON.stringify({ event_id: ev['event_id'] }) + '\n', err: '' });
    });
  }
  it('--jsonl: one line per event, errors inline', async () => {
    const evs = auth.filter((l) => l.room_version === '11').slice(0, 3).map((l) => l.event);
    const r = await run(['event-id', '--room-version', '11', '--jsonl'], evs.map((e) => JSON.stringify(e)).join('\n') + '\n[1]\n');
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.slice(0, 3)).toEqual(evs.map((e) => ({ event_id: e['event_id'] })));
    expect((lines[3] as { error: { code: string } }).error.code).toBe('NOT_JSON_OBJECT');
    expect(r.code).toBe(0);
  });
  it('usage errors: missing or unknown room version, v1 without event_id', async () => {
    expect(JSON.parse((await run(['event-id'], '{}')).err).error.code).toBe('USAGE');
    const unknown = await run(['event-id', '--room-version', '99'], '{}');
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.err).error.code).toBe('ROOM_VERSION_UNKNOWN');
    expect(JSON.parse((await run(['event-id', '--room-version', '1'], '{}')).err).error.code).toBe('EVENTS_INVALID_ARGUMENT');
  });
});

describe('redact', () => {
  const member = { type: 'm.room.member', origin: 'x', unsigned: { age: 1 }, content: { membership: 'join', displayname: 'A', join_authorised_via_users_server: '@b:x', third_party_invite: { signed: { t: 1 }, x: 2 } } };
  it('per-version output as canonical JSON', async () => {
    expect((await run(['redact', '--room-version', '8'], JSON.stringify(member))).out).toBe('{"content":{"membership":"join"},"origin":"x","type":"m.room.member"}\n');
    expect((await run(['redact', '--room-version', '9'], JSON.stringify(member))).out).toBe('{"content":{"join_authorised_via_users_server":"@b:x","membership":"join"},"origin":"x","type":"m.room.member"}\n');
    expect((await run(['redact', '--room-version', '11'], JSON.stringify(member))).out).toBe('{"content":{"join_authorised_via_users_server":"@b:x","membership":"join","third_party_invite":{"signed":{"t":1}}},"type":"m.room.member"}\n');
  });
  it('--jsonl', async () => {
    const r = await run(['redact', '--room-version', '1', '--jsonl'], '{"type":"m.room.aliases","content":{"aliases":["#a:x"],"x":1}}\n{"type":"m.room.message","content":{"body":"b"}}\n');
    expect(r.out).toBe('{"content":{"aliases":["#a:x"]},"type":"m.room.aliases"}\n{"content":{},"type":"m.room.message"}\n');
  });
});

describe('validate', () => {
  it('valid fixture events', async () => {
    for (const v of ['2', '5', '12']) {
      const ev = byVersion(v).event;
      const r = await run(['validate', '--room-version', v], JSON.stringify(ev));
      expect(JSON.parse(r.out)).toEqual({ valid: true });
    }
  });
  it('lists every problem', async () => {
    const ev = { ...byVersion('10').event, sender: 'nope', depth: -1 };
    delete (ev as Record<string, unknown>)['hashes'];
    const r = await run(['validate', '--room-version', '10'], JSON.stringify(ev));
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as { valid: boolean; errors: { code: string; path: string }[] };
    expect(out.valid).toBe(false);
    expect(out.errors.map((e) => e.code).sort()).toEqual(['DEPTH_OUT_OF_RANGE', 'INVALID_USER_ID', 'MISSING_FIELD']);
    expect(out.errors.find((e) => e.code === 'MISSING_FIELD')?.path).toBe('$.hashes');
  });
  it('--jsonl mixes valid and invalid lines; exit 0 (results, not errors)', async () => {
    const good = byVersion('7').event;
    const r = await run(['validate', '--room-version', '7', '--jsonl'], `${JSON.stringify(good)}\n{"type":1}\n`);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as { valid: boolean });
    expect(lines.map((l) => l.valid)).toEqual([true, false]);
    expect(r.code).toBe(0);
  });
  it('a float in a v6+ event is a validation problem (the room version decides, not the JSON reader)', async () => {
    const ev = JSON.stringify({ ...byVersion('10').event, content: { n: 1.5 } });
    for (const flags of [[], ['--lenient']]) {
      const r = JSON.parse((await run(['validate', '--room-version', '10', ...flags], ev)).out) as { valid: boolean; errors: { code: string }[] };
      expect(r.valid).toBe(false);
      expect(r.errors.map((e) => e.code)).toEqual(['FLOAT_NOT_ALLOWED']);
    }
  });
});

describe('room-id', () => {
  it('v12: the create event ID with "!"', async () => {
    const create = byVersion('12').auth_events.find((e) => e['type'] === 'm.room.create')!;
    const r = await run(['room-id', '--room-version', '12'], JSON.stringify(create));
    expect(JSON.parse(r.out)).toEqual({ room_id: '!' + (create['event_id'] as string).slice(1) });
    expect(JSON.parse(r.out).room_id).toBe(byVersion('12').event['room_id']);
  });
  it('refuses other room versions and non-create events', async () => {
    const create = byVersion('11').auth_events.find((e) => e['type'] === 'm.room.create')!;
    expect(JSON.parse((await run(['room-id', '--room-version', '11'], JSON.stringify(create))).err).error.code).toBe('EVENTS_INVALID_ARGUMENT');
    expect(JSON.parse((await run(['room-id', '--room-version', '12'], '{"type":"m.room.member"}')).err).error.code).toBe('EVENTS_INVALID_ARGUMENT');
  });
});
