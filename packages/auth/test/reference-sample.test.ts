import { describe, expect, it } from 'vitest';
import { stateLookupOf, toRoomEvent } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { checkAuth } from '@roomgraph/auth';
import { loadAuthFixtures, type AuthFixture } from './fixtures.js';

const fixtures = loadAuthFixtures();

function decodeB64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
}

/** Runs one fixture line as the brief describes. */
export function runFixture(f: AuthFixture) {
  const rules = getRoomVersion(f.room_version);
  const event = toRoomEvent(f.event, rules, f.event['event_id'] as string);
  const authEvents = f.auth_events.map((e) => toRoomEvent(e, rules, e['event_id'] as string));
  const keys = f.server_keys ?? {};
  return checkAuth(event, stateLookupOf(authEvents), rules, {
    authEvents,
    serverKeys: (server, keyId) => {
      const k = keys[server];
      return k !== undefined && k.key_id === keyId ? decodeB64(k.public_key) : undefined;
    },
  });
}

describe('reference sample (auth.jsonl.gz)', () => {
  it('has 1,125 cases', () => {
    expect(fixtures.length).toBe(1125);
  });

  it('agrees with the reference server on every case', () => {
    const failures: string[] = [];
    for (const [i, f] of fixtures.entries()) {
      const r = runFixture(f);
      if (r.allowed !== f.expected.allowed) {
        failures.push(`#${i} v${f.room_version} ${String(f.event['type'])} ${JSON.stringify(f.event['content'])} expected ${f.expected.allowed} got ${JSON.stringify(r)}`);
      }
    }
    expect(failures.slice(0, 30)).toEqual([]);
    expect(failures.length).toBe(0);
  });
});
