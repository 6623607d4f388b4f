/** The joining side's template checks and fill-in (join.ts), for every room version's event format. */
import { describe, expect, it } from 'vitest';
import { getRoomVersion } from '@roomgraph/room-versions';
import { fillJoinTemplate, isJoinTemplateFor } from '../src/join/template.js';

const ROOM = '!r:a.test';
const USER = '@bob:b.test';
const template = { type: 'm.room.member', room_id: ROOM, sender: USER, state_key: USER, content: { membership: 'join' }, prev_events: ['$p'], auth_events: ['$a'], depth: 7 };

describe('join templates', () => {
  it('accepts exactly the join that was asked for', () => {
    expect(isJoinTemplateFor(template, ROOM, USER)).toBe(true);
    for (const bad of [
      { ...template, type: 'm.room.message' },
      { ...template, room_id: '!other:a.test' },
      { ...template, sender: '@eve:b.test' },
      { ...template, state_key: '@eve:b.test' },
      { ...template, content: { membership: 'leave' } },
      { ...template, content: 'join' },
      null, 'template', [template],
    ]) expect(isJoinTemplateFor(bad, ROOM, USER)).toBe(false);
  });

  it.each(['1', '3', '11', '12'])('room version %s: fills in the joining server\'s fields and drops what it re-signs', (v) => {
    const rules = getRoomVersion(v);
    const tpl = { ...template, origin: 'a.test', origin_server_ts: 1, hashes: { sha256: 'x' }, signatures: { 'a.test': {} }, unsigned: { age: 1 }, event_id: '$resident:a.test', content: { membership: 'join', join_authorised_via_users_server: '@alice:a.test' } };
    const ev = fillJoinTemplate(tpl, rules, { serverName: 'b.test', now: 42, content: { displayname: 'Bob', membership: 'leave' } });
    expect(ev['origin_server_ts']).toBe(42);
    expect(ev['origin']).toBe('b.test');
    expect(ev['hashes']).toBeUndefined();
    expect(ev['signatures']).toBeUndefined();
    expect(ev['unsigned']).toBeUndefined();
    // Extra content merges in; membership stays join; the resident's vouching stays.
    expect(ev['content']).toEqual({ membership: 'join', join_authorised_via_users_server: '@alice:a.test', displayname: 'Bob' });
    expect(ev['prev_events']).toEqual(['$p']);
    expect(ev['depth']).toBe(7);
    if (rules.eventFormat.eventIdFormat === 'server-assigned') expect(ev['event_id']).toMatch(/^\$[A-Za-z0-9x]+:b\.test$/);
    else expect(ev['event_id']).toBeUndefined();
    // No `origin` is added to a template that has none.
    expect(fillJoinTemplate(template, rules, { serverName: 'b.test', now: 1 })['origin']).toBeUndefined();
  });
});
