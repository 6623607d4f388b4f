import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { getRoomVersion } from '@roomgraph/room-versions';
import { checkContentHash, contentHash, eventId, parsePdu, referenceHash, roomIdFromCreateEvent, EventsError } from '@roomgraph/events';
import { allFixtureEvents, vectors } from './fixtures.js';

// ingest.jsonl.gz holds a few forged events (content changed after signing, marked `x_forged`): the
// receiver must drop them; their listed event_id is that of the original. They are checked apart.
const isForged = (e: JsonObject): boolean => Object.hasOwn(e['content'] as JsonObject, 'x_forged');
const everything = allFixtureEvents();
const events = everything.filter((e) => !isForged(e.event));
const forged = everything.filter((e) => isForged(e.event));

describe('event IDs of the reference sample (Synapse-computed)', () => {
  it('covers every room version', () => {
    expect(new Set(events.map((e) => e.roomVersion)).size).toBe(12);
    expect(events.length).toBeGreaterThan(1000);
  });

  it('computes the given event_id for every event of every version', () => {
    let checked = 0;
    const wrong: string[] = [];
    for (const { roomVersion, event } of events) {
      const rules = getRoomVersion(roomVersion);
      if (eventId(event, rules) !== event['event_id']) wrong.push(`${roomVersion} ${event['event_id'] as string}`);
      checked++;
    }
    expect(wrong).toEqual([]);
    expect(checked).toBe(events.length);
  });

  it('parses every fixture event and its parsed ID equals the given one', () => {
    const wrong: string[] = [];
    for (const { roomVersion, event } of events) {
      const pdu = parsePdu(event, getRoomVersion(roomVersion));
      if (pdu.eventId !== event['event_id']) wrong.push(pdu.eventId);
      if (roomVersion !== '1' && roomVersion !== '2') expect(Object.hasOwn(pdu.json, 'event_id')).toBe(false);
    }
    expect(wrong).toEqual([]);
  });

  it('every fixture event has a correct content hash (event_id ignored for v3+)', () => {
    for (const { roomVersion, event } of events) {
      expect(checkContentHash(event, getRoomVersion(roomVersion))).toBe(true);
    }
  });

  it('forged events fail the content hash (v1-v2) or no longer hash to their listed ID (v3+)', () => {
    expect(forged.length).toBeGreaterThan(0);
    for (const { roomVersion, event } of forged) {
      const rules = getRoomVersion(roomVersion);
      expect(checkContentHash(event, rules) && eventId(event, rules) === event['event_id']).toBe(false);
    }
  });

  it('v12 room IDs are the create event ID with "!"', () => {
    const creates = events.filter((e) => e.roomVersion === '12' && e.event['type'] === 'm.room.create');
    expect(creates.length).toBeGreaterThan(0);
    const roomIds = new Set(events.filter((e) => e.roomVersion === '12').map((e) => e.event['room_id']));
    for (const { event } of creates) {
      const roomId = roomIdFromCreateEvent(event);
      expect(roomId).toBe('!' + (event['event_id'] as string).slice(1));
      expect(roomIds.has(roomId)).toBe(true);
      expect(roomIdFromCreateEvent(event, getRoomVersion('12'))).toBe(roomId);
    }
  });
});

describe('event ID formats', () => {
  const base: JsonObject = {
    room_id: '!x:domain', sender: '@a:domain', origin: 'domain', origin_server_ts: 1000000, signatures: {},
    hashes: { sha256: '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos' }, type: 'X', content: {}, prev_events: [],
    auth_events: [], depth: 3, unsigned: { age_ts: 1000000 },
  };
  const derived = ((vectors()['event_signing'] as JsonObject[])[0] as JsonObject)['derived_not_official'] as JsonObject;
  const v10 = derived['reference_hash_v1_to_v10_redaction'] as JsonObject;
  const v11 = derived['reference_hash_v11_redaction'] as JsonObject;

  it('v3 uses standard base64, v4+ URL-safe (derived vectors)', () => {
    expect(eventId(base, getRoomVersion('3'))).toBe('$' + (v10['standard_unpadded_base64'] as string));
    expect(eventId(base, getRoomVersion('10'))).toBe('$' + (v10['url_safe_unpadded_base64'] as string));
    expect(eventId(base, getRoomVersion('11'))).toBe('$' + (v11['url_safe_unpadded_base64'] as string));
    expect(eventId(base, getRoomVersion('3'))).toBe('$' + (v11['standard_unpadded_base64'] === undefined ? '' : (v10['standard_unpadded_base64'] as string)));
    const v3id = eventId(base, getRoomVersion('3'));
    expect(v3id).toMatch(/^\$[A-Za-z0-9+/]{43}$/);
  });

  it('v11 standard vs URL-safe alphabets differ where the hash has + or /', () => {
    const rules11 = getRoomVersion('11');
    const std = Buffer.from(referenceHash(base, rules11)).toString('base64').replace(/=+$/, '');
    expect(std).toBe(v11['standard_unpadded_base64']);
    expect(eventId(base, rules11)).toBe('$70O_oKlXzFbkfu0KE88USi98DjSWrOELrPj-8tisl8I');
  });

  it('an event_id key does not change a v3+ event ID; unsigned and signatures never matter', () => {
    for (const v of ['3', '4', '6', '11', '12']) {
      const rules = getRoomVersion(v);
      const id = eventId(base, rules);
      expect(eventId({ ...base, event_id: '$whatever' }, rules)).toBe(id);
      expect(eventId({ ...base, unsigned: { x: 1 }, signatures: { s: { 'ed25519:a': 'x' } } }, rules)).toBe(id);
    }
  });

  it('v1/v2 take event_id and refuse events without one', () => {
    expect(eventId({ ...base, event_id: '$abc:domain' }, getRoomVersion('1'))).toBe('$abc:domain');
    expect(() => eventId(base, getRoomVersion('2'))).toThrow(EventsError);
  });

  it('content hash of the official vector', () => {
    const input = (vectors()['event_signing'] as JsonObject[])[0] as JsonObject;
    expect(contentHash(input['input'] as JsonObject)).toBe(input['expected_content_hash_sha256']);
    const second = (vectors()['event_signing'] as JsonObject[])[1] as JsonObject;
    expect(contentHash(second['input'] as JsonObject, getRoomVersion('1'))).toBe(second['expected_content_hash_sha256']);
  });

  it('roomIdFromCreateEvent refuses non-create events and server-assigned versions', () => {
    expect(() => roomIdFromCreateEvent({ type: 'm.room.member' })).toThrow(EventsError);
    expect(() => roomIdFromCreateEvent({ type: 'm.room.create', content: { room_version: '11' } })).toThrow(/server-assigned/);
    expect(() => roomIdFromCreateEvent({ type: 'm.room.create', content: { room_version: 'nope' } })).toThrow(/unknown room version/);
  });
});
