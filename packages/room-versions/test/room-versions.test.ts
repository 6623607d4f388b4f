import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ROOM_VERSION, ROOM_VERSIONS, RoomVersionError, RoomVersionRegistry, V1, V12, V3, V6,
  deriveRoomVersion, getRoomVersion, renderRulesTable,
} from '@roomgraph/room-versions';

const ids = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];
const range = (from: number, to: number) => ids.filter((i) => Number(i) >= from && Number(i) <= to);
const on = (pick: (r: ReturnType<typeof getRoomVersion>) => unknown, value: unknown = true) =>
  ids.filter((i) => pick(getRoomVersion(i)) === value);

describe('room versions 1-12', () => {
  it('lists exactly the twelve specified versions, all stable, default 12', () => {
    expect([...ROOM_VERSIONS.keys()]).toEqual(ids);
    for (const r of ROOM_VERSIONS.values()) expect(r.disposition).toBe('stable');
    expect(DEFAULT_ROOM_VERSION).toBe('12');
  });

  it('every rules object is deeply frozen', () => {
    for (const r of ROOM_VERSIONS.values()) {
      expect(Object.isFrozen(r)).toBe(true);
      expect(Object.isFrozen(r.authorization)).toBe(true);
      expect(() => { (r.authorization as { knocking: boolean }).knocking = !r.authorization.knocking; }).toThrow(TypeError);
    }
  });

  // Each flag's version range, checked against the spec pages (rooms/vN.md).
  it.each([
    ['event IDs server-assigned', (r: typeof V1) => r.eventFormat.eventIdFormat, 'server-assigned', range(1, 2)],
    ['event IDs standard base64', (r: typeof V1) => r.eventFormat.eventIdFormat, 'hash-base64', range(3, 3)],
    ['event IDs url-safe', (r: typeof V1) => r.eventFormat.eventIdFormat, 'hash-url-safe-base64', range(4, 12)],
    ['references with hashes', (r: typeof V1) => r.eventFormat.eventReferences, 'id-and-hash', range(1, 2)],
    ['room ID from create hash', (r: typeof V1) => r.eventFormat.roomIdFormat, 'create-event-hash', range(12, 12)],
    ['create event has room_id', (r: typeof V1) => r.eventFormat.createEventHasRoomId, true, range(1, 11)],
    ['create in auth_events', (r: typeof V1) => r.eventFormat.createEventInAuthEvents, true, range(1, 11)],
    ['redacts in content', (r: typeof V1) => r.eventFormat.redactsInContent, true, range(11, 12)],
    ['strict canonical JSON', (r: typeof V1) => r.canonicalJson.strict, true, range(6, 12)],
    ['key validity', (r: typeof V1) => r.signatures.enforceKeyValidity, true, range(5, 12)],
    ['event_id server signs', (r: typeof V1) => r.signatures.checkEventIdServer, true, range(1, 2)],
    ['redaction keeps aliases', (r: typeof V1) => r.redaction.keepAliasesContent, true, range(1, 5)],
    ['redaction keeps allow', (r: typeof V1) => r.redaction.keepJoinRulesAllow, true, range(8, 12)],
    ['redaction keeps join_authorised', (r: typeof V1) => r.redaction.keepJoinAuthorisedViaUsersServer, true, range(9, 12)],
    ['redaction v11 changes', (r: typeof V1) => r.redaction.keepAllCreateContent, true, range(11, 12)],
    ['redaction keeps origin', (r: typeof V1) => r.redaction.keepOriginMembershipPrevState, true, range(1, 10)],
    ['redaction auth rule', (r: typeof V1) => r.authorization.specialCaseRedaction, true, range(1, 2)],
    ['aliases auth rule', (r: typeof V1) => r.authorization.specialCaseAliases, true, range(1, 5)],
    ['float power levels', (r: typeof V1) => r.authorization.floatPowerLevels, true, range(1, 5)],
    ['string power levels', (r: typeof V1) => r.authorization.stringPowerLevels, true, range(1, 9)],
    ['integer power levels', (r: typeof V1) => r.authorization.integerPowerLevels, true, range(10, 12)],
    ['notifications limited', (r: typeof V1) => r.authorization.limitNotificationsPowerLevels, true, range(6, 12)],
    ['knocking', (r: typeof V1) => r.authorization.knocking, true, range(7, 12)],
    ['restricted', (r: typeof V1) => r.authorization.restrictedJoinRule, true, range(8, 12)],
    ['knock_restricted', (r: typeof V1) => r.authorization.knockRestrictedJoinRule, true, range(10, 12)],
    ['creator in content', (r: typeof V1) => r.authorization.creatorInContent, true, range(1, 10)],
    ['privileged creators', (r: typeof V1) => r.authorization.privilegedCreators, true, range(12, 12)],
    ['state res v1', (r: typeof V1) => r.stateResolution.algorithm, 'v1', range(1, 1)],
    ['state res v2', (r: typeof V1) => r.stateResolution.algorithm, 'v2', range(2, 11)],
    ['state res v2.1', (r: typeof V1) => r.stateResolution.algorithm, 'v2.1', range(12, 12)],
  ] as const)('%s', (_name, pick, value, versions) => {
    expect(on(pick, value)).toEqual(versions);
  });

  it('unknown versions give a typed error', () => {
    for (const bad of ['13', '', 'v1', '1.0', 'org.example']) {
      expect(() => getRoomVersion(bad)).toThrow(RoomVersionError);
      try { getRoomVersion(bad); } catch (e) { expect((e as RoomVersionError).code).toBe('ROOM_VERSION_UNKNOWN'); }
    }
    expect(() => getRoomVersion(undefined as unknown as string)).toThrow(RoomVersionError);
  });
});

describe('custom versions', () => {
  it('derives without touching the base, registers per registry', () => {
    const custom = deriveRoomVersion(V12, 'org.example.noknock', { disposition: 'unstable', authorization: { knocking: false } });
    expect(custom.authorization.knocking).toBe(false);
    expect(custom.authorization.privilegedCreators).toBe(true);
    expect(V12.authorization.knocking).toBe(true);
    expect(Object.isFrozen(custom.authorization)).toBe(true);
    const reg = new RoomVersionRegistry();
    reg.register(custom);
    expect(reg.get('org.example.noknock')).toBe(custom);
    expect(new RoomVersionRegistry().has('org.example.noknock')).toBe(false);
    expect(() => reg.register(custom)).toThrow(RoomVersionError);
    expect(() => getRoomVersion('org.example.noknock')).toThrow(RoomVersionError);
  });

  it('rejects bad identifiers and unknown flags', () => {
    expect(() => deriveRoomVersion(V3, 'Bad Id', {})).toThrow(/grammar|a-z0-9/);
    expect(() => deriveRoomVersion(V3, 'x'.repeat(33), {})).toThrow(RoomVersionError);
    expect(() => deriveRoomVersion(V6, 'ok', { authorization: { noSuchFlag: true } } as never)).toThrow(/unknown room version rule/);
  });
});

describe('rules table', () => {
  it('renders one row per flag and one column per version', () => {
    const t = renderRulesTable();
    const lines = t.split('\n');
    expect(lines[0]).toBe(`| rule | ${ids.join(' | ')} |`);
    expect(lines).toContain('| authorization.knocking |  |  |  |  |  |  | ✔ | ✔ | ✔ | ✔ | ✔ | ✔ |');
    expect(lines).toContain('| stateResolution.algorithm | v1 | v2 | v2 | v2 | v2 | v2 | v2 | v2 | v2 | v2 | v2 | v2.1 |');
    expect(lines.length).toBe(2 + 1 + 7 + 1 + 2 + 8 + 12 + 3);
  });
});
