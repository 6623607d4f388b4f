/**
 * One row per rule (checklist §f, numbered as in room version 12) per room version range, asserting the
 * outcome and the rule code that decided it.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import { encodeCanonicalJsonBytes } from '@roomgraph/canonical-json';
import { redact, toRoomEvent, type RoomEvent } from '@roomgraph/events';
import type { AuthOptions, AuthResult } from '@roomgraph/auth';
import { AUTH_RULE_CODES } from '@roomgraph/auth';
import { ALICE, ALL, BOB, CAROL, DAVE, ERIN, FRANK, GRACE, Room, outcome, versions } from './helpers.js';

// --- signing helpers (independent of the code under test) ---
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64').replace(/=+$/, '');
const b64url = (b: Uint8Array): string => b64(b).replace(/\+/g, '-').replace(/\//g, '_');
function keyPair(): { priv: KeyObject; pub: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  return { priv: privateKey, pub: new Uint8Array(Buffer.from(jwk.x as string, 'base64url')) };
}
function without(o: JsonObject, ...keys: string[]): JsonObject {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
}
function signObject(o: JsonObject, priv: KeyObject): string {
  return b64(sign(null, encodeCanonicalJsonBytes(without(o, 'signatures', 'unsigned')), priv));
}
const ISK = keyPair(); // identity server key (3pid)
const OTHER = keyPair();
const SERVER_B = keyPair(); // b.org's signing key

/** A third-party invite `signed` block for `mxid`, signed by `key`. */
function signedBlock(mxid: string, token: string, key = ISK): JsonObject {
  const s: JsonObject = { mxid, token, sender: BOB };
  return { ...s, signatures: { 'id.example': { 'ed25519:0': signObject(s, key.priv) } } };
}

/** Adds a signature by `server` over the redacted event (F6.2). */
function signEvent(room: Room, json: JsonObject, server: string, key: KeyObject): JsonObject {
  const base = room.rules.eventFormat.eventIdFormat === 'server-assigned' ? json : without(json, 'event_id');
  const sig = signObject(redact(base, room.rules), key);
  const sigs = (json['signatures'] as Record<string, JsonValue> | undefined) ?? {};
  return { ...json, signatures: { ...sigs, [server]: { 'ed25519:k': sig } } };
}
const serverKeys: AuthOptions['serverKeys'] = (s, k) => (s === 'b.org' && k === 'ed25519:k' ? SERVER_B.pub : undefined);

/** A signature entry by b.org (checked for presence only when no serverKeys are given). */
const SIGNED_B: Record<string, JsonValue> = { signatures: { 'b.org': { 'ed25519:k': 'c2ln' } } };

interface Case {
  readonly name: string;
  readonly versions: readonly string[];
  readonly expect: string;
  readonly run: (r: Room) => AuthResult;
}

const std = (r: Room, e: RoomEvent, opts?: Parameters<Room['state']>[0], o?: AuthOptions) => r.check(e, r.state(opts), o);

const cases: Case[] = [
  // ---- F1 m.room.create ----
  { name: 'F1.6 valid create', versions: ALL, expect: 'allow', run: (r) => r.check(r.create(), []) },
  { name: 'F1.1 create with prev_events', versions: ALL, expect: 'create.prev_events', run: (r) => r.check(r.create({}, { prev_events: ['$x'] }), []) },
  {
    name: 'F1.2 [v1–v11] room_id domain ≠ sender domain', versions: versions(1, 11), expect: 'create.room_id_domain',
    run: (r) => r.check(r.create({}, { room_id: '!room:elsewhere.org' }), []),
  },
  { name: 'F1.2 [v12] create with room_id', versions: ['12'], expect: 'create.room_id_present', run: (r) => r.check(r.create({}, { room_id: '!create' }), []) },
  { name: 'F1.3 unknown room_version', versions: ALL, expect: 'create.room_version', run: (r) => r.check(r.create({ room_version: '999' }), []) },
  { name: 'F1.3 non-string room_version', versions: ALL, expect: 'create.room_version', run: (r) => r.check(r.create({ room_version: 1 }), []) },
  {
    name: 'F1.3 absent room_version is fine', versions: ALL, expect: 'allow',
    run: (r) => { const c = r.create(); return r.check(toCreate(r, { ...c.json, content: without(c.content, 'room_version') }), []); },
  },
  {
    name: 'F1.4 [v1–v10] no creator', versions: versions(1, 10), expect: 'create.no_creator',
    run: (r) => r.check(toCreate(r, { ...r.create().json, content: { room_version: r.version } }), []),
  },
  {
    name: 'F1.4 removed in v11+: no creator is fine', versions: versions(11), expect: 'allow',
    run: (r) => r.check(toCreate(r, { ...r.create().json, content: { room_version: r.version } }), []),
  },
  { name: 'F1.5 [v12] additional_creators valid', versions: ['12'], expect: 'allow', run: (r) => r.check(r.create({ additional_creators: [BOB] }), []) },
  { name: 'F1.5 [v12] additional_creators not an array', versions: ['12'], expect: 'create.additional_creators', run: (r) => r.check(r.create({ additional_creators: BOB }), []) },
  { name: 'F1.5 [v12] additional_creators invalid user', versions: ['12'], expect: 'create.additional_creators', run: (r) => r.check(r.create({ additional_creators: ['bob'] }), []) },
  { name: 'F1.5 [v12] additional_creators non-string', versions: ['12'], expect: 'create.additional_creators', run: (r) => r.check(r.create({ additional_creators: [7] }), []) },
  { name: 'F1.5 not checked before v12', versions: versions(1, 11), expect: 'allow', run: (r) => r.check(r.create({ additional_creators: 'x' }), []) },

  // ---- F2 [v12] room ID ----
  {
    name: 'F2 [v12] room_id names no create in state', versions: ['12'], expect: 'room_id.create_event',
    run: (r) => r.check(r.ev('m.room.message', BOB, { body: 'hi' }, undefined, { room_id: '!other' }), r.state()),
  },
  {
    name: 'F2 [v12] create event rejected', versions: ['12'], expect: 'room_id.create_event',
    run: (r) => r.check(r.ev('m.room.message', BOB, { body: 'hi' }), r.state(), { isRejected: (id) => id === '$create' }),
  },
  { name: 'F2 [v12] no create at all', versions: ['12'], expect: 'room_id.create_event', run: (r) => r.check(r.ev('m.room.message', BOB, { body: 'hi' }), []) },
  { name: 'no create in state [v1–v11]', versions: versions(1, 11), expect: 'state.no_create', run: (r) => r.check(r.ev('m.room.message', BOB, { body: 'hi' }), []) },

  // ---- F3 auth_events list ----
  {
    name: 'F3 valid auth events', versions: ALL, expect: 'allow',
    run: (r) => withAuth(r, r.ev('m.room.message', BOB, { body: 'x' }), (s) => [s.create, s.pl, s.bob]),
  },
  {
    name: 'F3.1 duplicate (type, state_key)', versions: ALL, expect: 'auth_events.duplicate',
    run: (r) => withAuth(r, r.ev('m.room.message', BOB, { body: 'x' }), (s) => [s.create, s.pl, s.bob, r.member(BOB, 'join')]),
  },
  {
    name: 'F3.2 unexpected entry (join rules for a message)', versions: ALL, expect: 'auth_events.unexpected',
    run: (r) => withAuth(r, r.ev('m.room.message', BOB, { body: 'x' }), (s) => [s.create, s.pl, s.bob, s.jr]),
  },
  {
    name: 'F3.2 [v12] create listed in auth_events', versions: ['12'], expect: 'auth_events.unexpected',
    run: (r) => withAuth(r, r.ev('m.room.message', BOB, { body: 'x' }), (s) => [s.create, s.pl, s.bob], true),
  },
  {
    name: 'F3.3 rejected auth event', versions: ALL, expect: 'auth_events.rejected',
    run: (r) => withAuth(r, r.ev('m.room.message', BOB, { body: 'x' }), (s) => [s.create, s.pl, s.bob], false, (id) => id.startsWith('$e') && id !== '$create'),
  },
  {
    name: 'F3.4 [v1–v11] no create among auth events', versions: versions(1, 11), expect: 'auth_events.no_create',
    run: (r) => withAuth(r, r.ev('m.room.message', BOB, { body: 'x' }), (s) => [s.pl, s.bob]),
  },
  {
    name: 'F3.5 auth event from another room', versions: ALL, expect: 'auth_events.wrong_room',
    run: (r) => withAuth(r, r.ev('m.room.message', BOB, { body: 'x' }), (s) => [s.create, s.pl, r.member(BOB, 'join', BOB, {}, { room_id: '!elsewhere:a.org' })]),
  },

  // ---- F4 m.federate ----
  {
    name: 'F4 m.federate false, foreign sender', versions: ALL, expect: 'federate',
    run: (r) => std(r, r.ev('m.room.message', CAROL, { body: 'x' }), { create: { 'm.federate': false } }),
  },
  {
    name: 'F4 m.federate false, same server', versions: ALL, expect: 'allow',
    run: (r) => std(r, r.ev('m.room.message', BOB, { body: 'x' }), { create: { 'm.federate': false } }),
  },
  {
    name: 'F4 only boolean false counts (spec; the reference server differs)', versions: ALL, expect: 'allow',
    run: (r) => std(r, r.ev('m.room.message', CAROL, { body: 'x' }), { create: { 'm.federate': 0 } }),
  },

  // ---- F5 [v1–v5] aliases ----
  { name: 'F5 aliases matching domain (any member state)', versions: versions(1, 5), expect: 'allow', run: (r) => std(r, r.ev('m.room.aliases', FRANK, { aliases: [] }, 'c.org')) },
  { name: 'F5 aliases wrong domain', versions: versions(1, 5), expect: 'aliases.domain', run: (r) => std(r, r.ev('m.room.aliases', BOB, { aliases: [] }, 'c.org')) },
  { name: 'F5 aliases without state_key', versions: versions(1, 5), expect: 'aliases.no_state_key', run: (r) => std(r, r.ev('m.room.aliases', BOB, { aliases: [] })) },
  { name: 'F5 gone in v6+: ordinary rules (not joined)', versions: versions(6), expect: 'sender_not_joined', run: (r) => std(r, r.ev('m.room.aliases', FRANK, { aliases: [] }, 'c.org')) },

  // ---- F6.1 ----
  { name: 'F6.1 member without state_key', versions: ALL, expect: 'member.no_state_key', run: (r) => std(r, r.ev('m.room.member', FRANK, { membership: 'join' })) },
  { name: 'F6.1 member without membership', versions: ALL, expect: 'member.no_membership', run: (r) => std(r, r.ev('m.room.member', FRANK, {}, FRANK)) },

  // ---- F6.2 [v8+] join_authorised_via_users_server signature ----
  {
    name: 'F6.2 signed by the authorising server', versions: versions(8), expect: 'allow',
    run: (r) => r.check(signedJoin(r, true), r.state({ joinRule: 'restricted' }), { serverKeys }),
  },
  {
    name: 'F6.2 not signed by the authorising server', versions: versions(8), expect: 'member.join_authorised_signature',
    run: (r) => r.check(signedJoin(r, false), r.state({ joinRule: 'restricted' }), { serverKeys }),
  },
  {
    name: 'F6.2 bad signature', versions: versions(8), expect: 'member.join_authorised_signature',
    run: (r) => r.check(signedJoin(r, true, OTHER.priv), r.state({ joinRule: 'restricted' }), { serverKeys }),
  },
  {
    name: 'F6.2 without serverKeys: presence suffices', versions: versions(8), expect: 'allow',
    run: (r) => r.check(signedJoin(r, true, OTHER.priv), r.state({ joinRule: 'restricted' })),
  },
  {
    name: 'F6.2 applies to any membership (leave)', versions: versions(8), expect: 'member.join_authorised_signature',
    run: (r) => std(r, r.member(CAROL, 'leave', CAROL, { join_authorised_via_users_server: CAROL })),
  },
  {
    name: 'F6.2 not a rule before v8', versions: versions(1, 7), expect: 'allow',
    run: (r) => std(r, r.member(CAROL, 'leave', CAROL, { join_authorised_via_users_server: CAROL })),
  },

  // ---- F6.3 join ----
  {
    name: 'F6.3.1 creator join after create', versions: ALL, expect: 'allow',
    run: (r) => r.check(r.member(ALICE, 'join', ALICE, {}, { prev_events: ['$create'] }), [r.create()]),
  },
  {
    name: 'F6.3.1 [v1–v10] content.creator decides', versions: versions(1, 10), expect: 'allow',
    run: (r) => r.check(r.member(BOB, 'join', BOB, {}, { prev_events: ['$create'] }), [r.create({ creator: BOB })]),
  },
  {
    name: 'F6.3.1 [v11+] create sender decides (content.creator ignored)', versions: versions(11), expect: 'member.join.not_invited',
    run: (r) => r.check(r.member(BOB, 'join', BOB, {}, { prev_events: ['$create'] }), [r.create({ creator: BOB })]),
  },
  {
    name: 'F6.3.1 [v12] additional creator is not the creator', versions: ['12'], expect: 'member.join.not_invited',
    run: (r) => r.check(r.member(BOB, 'join', BOB, {}, { prev_events: ['$create'] }), [r.create({ additional_creators: [BOB] })]),
  },
  { name: 'F6.3.2 join for someone else', versions: ALL, expect: 'member.join.sender_mismatch', run: (r) => std(r, r.member(FRANK, 'join', BOB), { joinRule: 'public' }) },
  { name: 'F6.3.3 banned user joins', versions: ALL, expect: 'member.join.banned', run: (r) => std(r, r.member(DAVE, 'join'), { joinRule: 'public' }) },
  { name: 'F6.3.4 invite rule, invited', versions: ALL, expect: 'allow', run: (r) => std(r, r.member(ERIN, 'join')) },
  { name: 'F6.3.4 invite rule, already joined', versions: ALL, expect: 'allow', run: (r) => std(r, r.member(BOB, 'join')) },
  { name: 'F6.3.4 invite rule, not invited', versions: ALL, expect: 'member.join.not_invited', run: (r) => std(r, r.member(FRANK, 'join')) },
  { name: 'F0.8 no join rules event reads as invite', versions: ALL, expect: 'member.join.not_invited', run: (r) => r.check(r.member(FRANK, 'join'), r.state().filter((e) => e.type !== 'm.room.join_rules')) },
  { name: 'F6.3.4 [v7+] knock rule, invited', versions: versions(7), expect: 'allow', run: (r) => std(r, r.member(ERIN, 'join'), { joinRule: 'knock' }) },
  { name: 'F6.3.4 [v7+] knock rule, knocking user', versions: versions(7), expect: 'member.join.not_invited', run: (r) => std(r, r.member(GRACE, 'join'), { joinRule: 'knock' }) },
  { name: 'F6.3.7 [v1–v6] knock is not a join rule', versions: versions(1, 6), expect: 'member.join.join_rule', run: (r) => std(r, r.member(ERIN, 'join'), { joinRule: 'knock' }) },
  { name: 'F6.3.5 [v8+] restricted, invited', versions: versions(8), expect: 'allow', run: (r) => std(r, r.member(ERIN, 'join'), { joinRule: 'restricted' }) },
  {
    name: 'F6.3.5 [v8+] restricted, no authorising user', versions: versions(8), expect: 'member.join.authorising_user',
    run: (r) => std(r, r.member(FRANK, 'join'), { joinRule: 'restricted' }),
  },
  {
    name: 'F6.3.5 [v8+] restricted, authorising user not joined', versions: versions(8), expect: 'member.join.authorising_user',
    run: (r) => std(r, r.member(FRANK, 'join', FRANK, { join_authorised_via_users_server: DAVE }, SIGNED_B), { joinRule: 'restricted' }),
  },
  {
    name: 'F6.3.5 [v8+] restricted, authorising user below invite level', versions: versions(8), expect: 'member.join.authorising_user',
    run: (r) => std(r, r.member(FRANK, 'join', FRANK, { join_authorised_via_users_server: CAROL }, SIGNED_B), { joinRule: 'restricted', pl: { invite: 10 } }),
  },
  {
    name: 'F6.3.5 [v8+] restricted, authorised', versions: versions(8), expect: 'allow',
    run: (r) => std(r, r.member(FRANK, 'join', FRANK, { join_authorised_via_users_server: CAROL }, SIGNED_B), { joinRule: 'restricted' }),
  },
  { name: 'F6.3.7 [v1–v7] restricted is not a join rule', versions: versions(1, 7), expect: 'member.join.join_rule', run: (r) => std(r, r.member(ERIN, 'join'), { joinRule: 'restricted' }) },
  {
    name: 'F6.3.5 [v10+] knock_restricted authorised', versions: versions(10), expect: 'allow',
    run: (r) => std(r, r.member(FRANK, 'join', FRANK, { join_authorised_via_users_server: CAROL }, SIGNED_B), { joinRule: 'knock_restricted' }),
  },
  { name: 'F6.3.7 [v1–v9] knock_restricted is not a join rule', versions: versions(1, 9), expect: 'member.join.join_rule', run: (r) => std(r, r.member(ERIN, 'join'), { joinRule: 'knock_restricted' }) },
  { name: 'F6.3.6 public', versions: ALL, expect: 'allow', run: (r) => std(r, r.member(FRANK, 'join'), { joinRule: 'public' }) },
  { name: 'F6.3.7 private', versions: ALL, expect: 'member.join.join_rule', run: (r) => std(r, r.member(FRANK, 'join'), { joinRule: 'private' }) },
  { name: 'F6.3.7 non-string join rule', versions: ALL, expect: 'member.join.join_rule', run: (r) => std(r, r.member(FRANK, 'join'), { joinRule: 5 }) },

  // ---- F6.4 invite ----
  { name: 'F6.4.4 invite allowed', versions: ALL, expect: 'allow', run: (r) => std(r, r.member(FRANK, 'invite', CAROL)) },
  { name: 'F6.4.2 inviter not joined', versions: ALL, expect: 'member.invite.sender_not_joined', run: (r) => std(r, r.member(FRANK, 'invite', ERIN)) },
  { name: 'F6.4.3 invitee joined', versions: ALL, expect: 'member.invite.target_membership', run: (r) => std(r, r.member(BOB, 'invite', CAROL)) },
  { name: 'F6.4.3 invitee banned', versions: ALL, expect: 'member.invite.target_membership', run: (r) => std(r, r.member(DAVE, 'invite', CAROL)) },
  { name: 'F6.4.5 below invite level', versions: ALL, expect: 'member.invite.power', run: (r) => std(r, r.member(FRANK, 'invite', CAROL), { pl: { invite: 10 } }) },
  { name: 'F6.4.1.7 third-party invite, public_key', versions: ALL, expect: 'allow', run: (r) => tpi(r, signedBlock(FRANK, 'tok'), { public_key: b64(ISK.pub) }) },
  { name: 'F6.4.1.7 third-party invite, public_keys url-safe', versions: ALL, expect: 'allow', run: (r) => tpi(r, signedBlock(FRANK, 'tok'), { public_keys: [{ public_key: b64(OTHER.pub) }, { public_key: b64url(ISK.pub) }] }) },
  {
    name: 'F6.4.1.7 third-party invite, sender need not be joined... but must match invite sender', versions: ALL, expect: 'member.invite.third_party.sender',
    run: (r) => tpi(r, signedBlock(FRANK, 'tok'), { public_key: b64(ISK.pub) }, CAROL),
  },
  { name: 'F6.4.1.8 wrong key', versions: ALL, expect: 'member.invite.third_party.signature', run: (r) => tpi(r, signedBlock(FRANK, 'tok', OTHER), { public_key: b64(ISK.pub) }) },
  { name: 'F6.4.1.1 target banned', versions: ALL, expect: 'member.invite.third_party.banned', run: (r) => tpi(r, signedBlock(DAVE, 'tok'), { public_key: b64(ISK.pub) }, BOB, DAVE) },
  { name: 'F6.4.1.2 no signed', versions: ALL, expect: 'member.invite.third_party.no_signed', run: (r) => tpiRaw(r, { display_name: 'x' }) },
  { name: 'F6.4.1.3 signed lacks token', versions: ALL, expect: 'member.invite.third_party.signed_fields', run: (r) => tpiRaw(r, { signed: { mxid: FRANK } }) },
  { name: 'F6.4.1.4 mxid mismatch', versions: ALL, expect: 'member.invite.third_party.mxid', run: (r) => tpi(r, signedBlock(ERIN, 'tok'), { public_key: b64(ISK.pub) }) },
  { name: 'F6.4.1.5 wrong token', versions: ALL, expect: 'member.invite.third_party.no_invite_event', run: (r) => tpi(r, signedBlock(FRANK, 'other'), { public_key: b64(ISK.pub) }) },

  // ---- F6.5 leave ----
  { name: 'F6.5.1 joined user leaves', versions: ALL, expect: 'allow', run: (r) => std(r, r.member(CAROL, 'leave')) },
  { name: 'F6.5.1 invited user rejects', versions: ALL, expect: 'allow', run: (r) => std(r, r.member(ERIN, 'leave')) },
  { name: 'F6.5.1 [v7+] knocking user rescinds', versions: versions(7), expect: 'allow', run: (r) => std(r, r.member(GRACE, 'leave')) },
  { name: 'F6.5.1 banned user cannot leave', versions: ALL, expect: 'member.leave.self_membership', run: (r) => std(r, r.member(DAVE, 'leave')) },
  { name: 'F6.5.1 non-member cannot leave', versions: ALL, expect: 'member.leave.self_membership', run: (r) => std(r, r.member(FRANK, 'leave')) },
  { name: 'F6.5.2 kicker not joined', versions: ALL, expect: 'member.leave.sender_not_joined', run: (r) => std(r, r.member(CAROL, 'leave', ERIN)) },
  { name: 'F6.5.4 kick allowed', versions: ALL, expect: 'allow', run: (r) => std(r, r.member(CAROL, 'leave', BOB)) },
  { name: 'F6.5.5 kick a higher user', versions: ALL, expect: 'member.leave.kick_power', run: (r) => std(r, r.member(BOB, 'leave', CAROL), { pl: { kick: 0 } }) },
  { name: 'F6.5.5 kick an equal user', versions: ALL, expect: 'member.leave.kick_power', run: (r) => std(r, r.member(FRANK, 'leave', CAROL), { pl: { kick: 0 } }) },
  { name: 'F6.5.5 below kick level', versions: ALL, expect: 'member.leave.kick_power', run: (r) => std(r, r.member(CAROL, 'leave', BOB), { pl: { kick: 60 } }) },
  { name: 'F6.5.3 unban below ban level', versions: ALL, expect: 'member.leave.unban_power', run: (r) => std(r, r.member(DAVE, 'leave', BOB), { pl: { ban: 60 } }) },
  { name: 'F6.5.4 unban allowed', versions: ALL, expect: 'allow', run: (r) => std(r, r.member(DAVE, 'leave', BOB)) },
  { name: 'F0.3 [v12] nobody can kick a creator', versions: ['12'], expect: 'member.leave.kick_power', run: (r) => std(r, r.member(ALICE, 'leave', BOB), { pl: { kick: 0 } }) },

  // ---- F6.6 ban ----
  { name: 'F6.6.2 ban allowed', versions: ALL, expect: 'allow', run: (r) => std(r, r.member(CAROL, 'ban', BOB)) },
  { name: 'F6.6.1 banner not joined', versions: ALL, expect: 'member.ban.sender_not_joined', run: (r) => std(r, r.member(CAROL, 'ban', ERIN)) },
  { name: 'F6.6.3 ban below level', versions: ALL, expect: 'member.ban.power', run: (r) => std(r, r.member(CAROL, 'ban', BOB), { pl: { ban: 60 } }) },
  { name: 'F6.6.3 ban a higher user', versions: ALL, expect: 'member.ban.power', run: (r) => std(r, r.member(ALICE, 'ban', BOB)) },

  // ---- F6.7 knock ----
  { name: 'F6.7.3 [v7+] knock allowed', versions: versions(7), expect: 'allow', run: (r) => std(r, r.member(FRANK, 'knock'), { joinRule: 'knock' }) },
  { name: 'F6.7.3 [v10+] knock on knock_restricted', versions: versions(10), expect: 'allow', run: (r) => std(r, r.member(FRANK, 'knock'), { joinRule: 'knock_restricted' }) },
  { name: 'F6.7.1 [v7–v9] knock_restricted does not allow knocks', versions: versions(7, 9), expect: 'member.knock.join_rule', run: (r) => std(r, r.member(FRANK, 'knock'), { joinRule: 'knock_restricted' }) },
  { name: 'F6.7.1 [v7+] knock on invite room', versions: versions(7), expect: 'member.knock.join_rule', run: (r) => std(r, r.member(FRANK, 'knock')) },
  { name: 'F6.7.2 [v7+] knock for someone else', versions: versions(7), expect: 'member.knock.sender_mismatch', run: (r) => std(r, r.member(FRANK, 'knock', BOB), { joinRule: 'knock' }) },
  { name: 'F6.7.4 [v7+] invited user knocks', versions: versions(7), expect: 'member.knock.membership', run: (r) => std(r, r.member(ERIN, 'knock'), { joinRule: 'knock' }) },
  { name: 'F6.7.4 [v7+] banned user knocks', versions: versions(7), expect: 'member.knock.membership', run: (r) => std(r, r.member(DAVE, 'knock'), { joinRule: 'knock' }) },
  { name: 'F6.8 [v1–v6] knock is unknown', versions: versions(1, 6), expect: 'member.unknown_membership', run: (r) => std(r, r.member(FRANK, 'knock'), { joinRule: 'knock' }) },
  { name: 'F6.8 unknown membership', versions: ALL, expect: 'member.unknown_membership', run: (r) => std(r, r.member(CAROL, 'dance')) },
  { name: 'F6.8 non-string membership', versions: ALL, expect: 'member.unknown_membership', run: (r) => std(r, r.member(CAROL, 5)) },

  // ---- F7–F10 ----
  { name: 'F7 sender not joined', versions: ALL, expect: 'sender_not_joined', run: (r) => std(r, r.ev('m.room.message', ERIN, { body: 'x' })) },
  { name: 'F13 message allowed', versions: ALL, expect: 'allow', run: (r) => std(r, r.ev('m.room.message', CAROL, { body: 'x' })) },
  { name: 'F8 third_party_invite allowed', versions: ALL, expect: 'allow', run: (r) => std(r, r.ev('m.room.third_party_invite', CAROL, {}, 'tok')) },
  { name: 'F8 third_party_invite below invite level', versions: ALL, expect: 'third_party_invite.power', run: (r) => std(r, r.ev('m.room.third_party_invite', CAROL, {}, 'tok'), { pl: { invite: 10 } }) },
  { name: 'F9 state below state_default', versions: ALL, expect: 'power.insufficient', run: (r) => std(r, r.ev('m.room.topic', CAROL, { topic: 't' }, '')) },
  { name: 'F9 events entry', versions: ALL, expect: 'power.insufficient', run: (r) => std(r, r.ev('m.room.message', CAROL, { body: 'x' }), { pl: { events: { 'm.room.message': 10 } } }) },
  { name: 'F9 events_default', versions: ALL, expect: 'power.insufficient', run: (r) => std(r, r.ev('m.custom', CAROL, {}), { pl: { events_default: 1 } }) },
  { name: 'F9 state allowed at state_default', versions: ALL, expect: 'allow', run: (r) => std(r, r.ev('m.room.topic', BOB, { topic: 't' }, '')) },
  { name: 'F0.3 [v1–v11] no PL event: creator has 100', versions: versions(1, 11), expect: 'allow', run: (r) => std(r, r.ev('m.room.topic', ALICE, { topic: 't' }, ''), { pl: null }) },
  { name: 'F0.3 no PL event: others have 0 (state_default 50)', versions: ALL, expect: 'power.insufficient', run: (r) => std(r, r.ev('m.room.topic', BOB, { topic: 't' }, ''), { pl: null }) },
  { name: 'F0.3 [v12] creator infinite even above any level', versions: ['12'], expect: 'allow', run: (r) => std(r, r.ev('m.room.topic', ALICE, { topic: 't' }, ''), { pl: { events: { 'm.room.topic': 9007199254740991 } } }) },
  { name: 'F0.3 [v12] additional creator infinite', versions: ['12'], expect: 'allow', run: (r) => std(r, r.ev('m.room.topic', CAROL, { topic: 't' }, ''), { create: { additional_creators: [CAROL] } }) },
  { name: 'F10 state_key of another user', versions: ALL, expect: 'state_key.user_id', run: (r) => std(r, r.ev('m.custom.state', BOB, {}, CAROL)) },
  { name: 'F10 own user ID state_key', versions: ALL, expect: 'allow', run: (r) => std(r, r.ev('m.custom.state', BOB, {}, BOB)) },
  { name: 'F0.5 [v1–v9] string levels count', versions: versions(1, 9), expect: 'allow', run: (r) => std(r, r.ev('m.room.topic', CAROL, { topic: 't' }, ''), { pl: { users: { [CAROL]: ' +050 ' } } }) },
  { name: 'F0.5 [v10+] string levels read as absent', versions: versions(10), expect: 'power.insufficient', run: (r) => std(r, r.ev('m.room.topic', CAROL, { topic: 't' }, ''), { pl: { users: { [CAROL]: '50' } } }) },
  { name: 'F0.6 [v1–v5] float levels truncate', versions: versions(1, 5), expect: 'allow', run: (r) => std(r, r.ev('m.room.topic', CAROL, { topic: 't' }, ''), { pl: { users: { [CAROL]: 50.9 } } }) },

  // ---- F11 power levels ----
  { name: 'F11.11 raise a user to own level', versions: ALL, expect: 'allow', run: (r) => plChange(r, BOB, { users: { [BOB]: 50, [CAROL]: 50 } }) },
  { name: 'F11.10 raise a user above own level', versions: ALL, expect: 'power_levels.user_level', run: (r) => plChange(r, BOB, { users: { [BOB]: 50, [CAROL]: 51 } }) },
  { name: 'F11.9 demote an equal user', versions: ALL, expect: 'power_levels.user_level', run: (r) => plChange(r, BOB, { users: { [BOB]: 50 } }, { users: { [BOB]: 50, [CAROL]: 50 } }) },
  { name: 'F11.9 demote self is fine', versions: ALL, expect: 'allow', run: (r) => plChange(r, BOB, { users: { [BOB]: 10 } }) },
  { name: 'F11.6 change a named level above own', versions: ALL, expect: 'power_levels.named_level', run: (r) => plChange(r, BOB, { users: { [BOB]: 50 }, ban: 60 }) },
  { name: 'F11.6 remove a named level above own', versions: ALL, expect: 'power_levels.named_level', run: (r) => plChange(r, BOB, { users: { [BOB]: 50 } }, { users: { [BOB]: 50 }, kick: 75 }) },
  { name: 'F11.7 change an events entry above own', versions: ALL, expect: 'power_levels.events_level', run: (r) => plChange(r, BOB, { users: { [BOB]: 50 }, events: { x: 10 } }, { users: { [BOB]: 50 }, events: { x: 100 } }) },
  { name: 'F11.8 add an events entry above own', versions: ALL, expect: 'power_levels.events_level', run: (r) => plChange(r, BOB, { users: { [BOB]: 50 }, events: { x: 51 } }) },
  { name: 'F11.7 [v6+] notifications checked', versions: versions(6), expect: 'power_levels.events_level', run: (r) => plChange(r, BOB, { users: { [BOB]: 50 }, notifications: { room: 60 } }) },
  { name: 'F11.7 [v1–v5] notifications not checked', versions: versions(1, 5), expect: 'allow', run: (r) => plChange(r, BOB, { users: { [BOB]: 50 }, notifications: { room: 60 } }) },
  // Boundaries: a level equal to the sender's own is within reach (only "greater than" rejects,
  // except for another user's current level, where "greater than or equal" does).
  { name: 'F11.8 add an events entry equal to own level', versions: ALL, expect: 'allow', run: (r) => plChange(r, BOB, { users: { [BOB]: 50 }, events: { x: 50 } }) },
  { name: 'F11.6 set a named level equal to own level', versions: ALL, expect: 'allow', run: (r) => plChange(r, BOB, { users: { [BOB]: 50 }, ban: 50, redact: 50 }) },
  { name: 'F11.7 change an events entry whose current value equals own level', versions: ALL, expect: 'allow', run: (r) => plChange(r, BOB, { users: { [BOB]: 50 }, events: { x: 0 } }, { users: { [BOB]: 50 }, events: { x: 50 } }) },
  { name: 'F11.7 remove an events entry whose current value equals own level', versions: ALL, expect: 'allow', run: (r) => plChange(r, BOB, { users: { [BOB]: 50 } }, { users: { [BOB]: 50 }, events: { x: 50 } }) },
  { name: 'F11.7 remove an events entry one above own level', versions: ALL, expect: 'power_levels.events_level', run: (r) => plChange(r, BOB, { users: { [BOB]: 50 } }, { users: { [BOB]: 50 }, events: { x: 51 } }) },
  { name: 'F11.6 lower a named level whose current value equals own level', versions: ALL, expect: 'allow', run: (r) => plChange(r, BOB, { users: { [BOB]: 50 }, kick: 0 }, { users: { [BOB]: 50 }, kick: 50 }) },
  { name: 'F11.10 set own level one above own', versions: ALL, expect: 'power_levels.user_level', run: (r) => plChange(r, BOB, { users: { [BOB]: 51 } }) },
  { name: 'F11.11 keep own level (equal to own)', versions: ALL, expect: 'allow', run: (r) => plChange(r, BOB, { users: { [BOB]: 50 }, users_default: 0 }) },
  { name: 'F11.9 add a user at own level (no current level)', versions: ALL, expect: 'allow', run: (r) => plChange(r, BOB, { users: { [BOB]: 50, [FRANK]: 50 } }) },
  // The level an event needs comes from the events map of the power levels among its auth events.
  { name: 'F9 events-map entry equal to the sender\'s level', versions: ALL, expect: 'allow', run: (r) => std(r, r.ev('m.custom', BOB, {}), { pl: { events: { 'm.custom': 50 } } }) },
  { name: 'F9 events-map entry one above the sender\'s level', versions: ALL, expect: 'power.insufficient', run: (r) => std(r, r.ev('m.custom', BOB, {}), { pl: { events: { 'm.custom': 51 } } }) },
  { name: 'F9 events-map entry overrides state_default (lower)', versions: ALL, expect: 'allow', run: (r) => std(r, r.ev('m.room.topic', CAROL, { topic: 't' }, ''), { pl: { state_default: 100, events: { 'm.room.topic': 0 } } }) },
  { name: 'F9 events-map entry overrides events_default (higher)', versions: ALL, expect: 'power.insufficient', run: (r) => std(r, r.ev('m.custom', BOB, {}), { pl: { events_default: 0, events: { 'm.custom': 60 } } }) },
  { name: 'F9 events-map level read from the auth events, not other state', versions: ALL, expect: 'power.insufficient', run: (r) => withAuth(r, r.ev('m.custom', BOB, {}), (s) => [s.create, r.pl({ events: { 'm.custom': 75 } }), s.bob]) },
  { name: 'F11.5 first PL event allowed', versions: ALL, expect: 'allow', run: (r) => r.check(r.pl({ ban: 1000 }), r.state({ pl: null })) },
  { name: 'F11.3 users not an object', versions: ALL, expect: 'power_levels.users_invalid', run: (r) => plChange(r, BOB, { users: [] }) },
  { name: 'F11.3 users key not a user ID', versions: ALL, expect: 'power_levels.users_invalid', run: (r) => plChange(r, BOB, { users: { [BOB]: 50, bob: 0 } }) },
  { name: 'F11.3 [v1–v9] string user level accepted', versions: versions(1, 9), expect: 'allow', run: (r) => plChange(r, BOB, { users: { [BOB]: '50', [CAROL]: ' 10 ' } }) },
  { name: 'F11.3 [v1–v9] malformed string user level', versions: versions(1, 9), expect: 'power_levels.users_invalid', run: (r) => plChange(r, BOB, { users: { [BOB]: '5.0' } }) },
  { name: 'F11.3 [v10+] string user level rejected', versions: versions(10), expect: 'power_levels.users_invalid', run: (r) => plChange(r, BOB, { users: { [BOB]: '50' } }) },
  { name: 'F11.1 [v10+] string named level', versions: versions(10), expect: 'power_levels.not_integer', run: (r) => plChange(r, BOB, { users: { [BOB]: 50 }, ban: '50' }) },
  { name: 'F11.1 [v10+] null named level', versions: versions(10), expect: 'power_levels.not_integer', run: (r) => plChange(r, BOB, { users: { [BOB]: 50 }, kick: null }) },
  { name: 'F11.2 [v10+] events not an object', versions: versions(10), expect: 'power_levels.map_not_integers', run: (r) => plChange(r, BOB, { users: { [BOB]: 50 }, events: 5 }) },
  { name: 'F11.2 [v10+] notifications value a string', versions: versions(10), expect: 'power_levels.map_not_integers', run: (r) => plChange(r, BOB, { users: { [BOB]: 50 }, notifications: { room: '50' } }) },
  { name: 'F0.5 [v1–v9] malformed named level', versions: versions(1, 9), expect: 'power_levels.invalid_value', run: (r) => plChange(r, BOB, { users: { [BOB]: 50 }, ban: 'lots' }) },
  { name: 'F0.6 [v6–v9] floats are not levels', versions: versions(6, 9), expect: 'power_levels.users_invalid', run: (r) => plChange(r, BOB, { users: { [BOB]: 50.5 } }) },
  { name: 'F0.6 [v1–v5] float user level accepted', versions: versions(1, 5), expect: 'allow', run: (r) => plChange(r, BOB, { users: { [BOB]: 50.5 } }) },
  { name: 'F15 [v1–v9] "50" vs 50 is no change', versions: versions(1, 9), expect: 'allow', run: (r) => plChange(r, BOB, { users: { [BOB]: 50 }, ban: '075' }, { users: { [BOB]: 50 }, ban: 75 }) },
  { name: 'F11.4 [v12] creator listed in users', versions: ['12'], expect: 'power_levels.creator_in_users', run: (r) => plChange(r, ALICE, { users: { [ALICE]: 100 } }) },
  { name: 'F11.4 [v12] additional creator listed', versions: ['12'], expect: 'power_levels.creator_in_users', run: (r) => r.check(r.pl({ users: { [BOB]: 10 } }), r.state({ create: { additional_creators: [BOB] } })) },
  { name: 'F11 [v12] creator may set any value', versions: ['12'], expect: 'allow', run: (r) => plChange(r, ALICE, { users: { [BOB]: 9007199254740991 }, ban: 9007199254740991 }) },

  // ---- F12 [v1–v2] / F14 [v3+] redaction ----
  { name: 'F12 [v1–v2] redact level met', versions: versions(1, 2), expect: 'allow', run: (r) => redaction(r, BOB, '$x:elsewhere.org') },
  { name: 'F12 [v1–v2] same-server event', versions: versions(1, 2), expect: 'allow', run: (r) => redaction(r, CAROL, '$x:a.org') },
  { name: 'F12 [v1–v2] other-server event below redact level', versions: versions(1, 2), expect: 'redaction.insufficient', run: (r) => redaction(r, CAROL, '$x:elsewhere.org') },
  { name: 'F14 [v3+] redact level ignored', versions: versions(3), expect: 'allow', run: (r) => redaction(r, CAROL, '$x:elsewhere.org') },
];

function toCreate(r: Room, json: JsonObject): RoomEvent {
  const j = { ...json };
  if (r.rules.authorization.roomIdFromCreateEvent) delete (j as Record<string, JsonValue>)['room_id'];
  return { ...r.create(), content: j['content'] as JsonObject, json: j };
}

interface Named { create: RoomEvent; pl: RoomEvent; jr: RoomEvent; bob: RoomEvent }
/** Checks `event` with explicit auth events (auth_events IDs rewritten to point at them). */
function withAuth(r: Room, event: RoomEvent, pick: (s: Named) => RoomEvent[], listCreate = false, isRejected?: (id: string) => boolean): AuthResult {
  const state = r.state();
  const s: Named = {
    create: state[0]!, pl: state[1]!, jr: state[2]!, bob: state.find((e) => e.stateKey === BOB)!,
  };
  const auth = pick(s);
  const ids = auth.filter((e) => listCreate || r.rules.eventFormat.createEventInAuthEvents || e.type !== 'm.room.create').map((e) => e.eventId);
  const ev: RoomEvent = { ...event, authEvents: ids };
  // v12: the create event is passed along (as the fixtures do) but not listed.
  const authEvents = r.rules.eventFormat.createEventInAuthEvents ? auth : [s.create, ...auth.filter((e) => e !== s.create)];
  return r.check(ev, authEvents, { authEvents, ...(isRejected ? { isRejected } : {}) });
}

function signedJoin(r: Room, signed: boolean, key: KeyObject = SERVER_B.priv): RoomEvent {
  let j = r.json('m.room.member', FRANK, { membership: 'join', join_authorised_via_users_server: CAROL }, FRANK);
  j = { ...j, signatures: { 'c.org': { 'ed25519:x': 'AAAA' } } };
  if (signed) j = signEvent(r, j, 'b.org', key);
  return toRoomEvent(j, r.rules, j['event_id'] as string);
}

function tpi(r: Room, signed: JsonObject, inviteContent: JsonObject, sender = BOB, target = FRANK): AuthResult {
  const invite = r.ev('m.room.third_party_invite', BOB, inviteContent, 'tok');
  return r.check(r.member(target, 'invite', sender, { third_party_invite: { display_name: 'f', signed } }), r.state({ extra: [invite] }));
}
function tpiRaw(r: Room, third: JsonObject): AuthResult {
  return r.check(r.member(FRANK, 'invite', BOB, { third_party_invite: third }), r.state());
}
/** A PL change by `sender`; alice's 100 is kept in `users` (v1–v11) so that only the change under test matters. */
function plChange(r: Room, sender: string, newContent: JsonObject, oldContent?: JsonObject): AuthResult {
  const keep = (c: JsonObject): JsonObject => {
    const u = c['users'];
    if (r.rules.authorization.privilegedCreators || u === null || typeof u !== 'object' || Array.isArray(u)) return c;
    return { ...c, users: { [ALICE]: 100, ...(u as JsonObject) } };
  };
  const content = keep(newContent);
  const old = oldContent === undefined ? undefined : keep(oldContent);
  const state = r.state(old ? { extra: [r.ev('m.room.power_levels', ALICE, old, '')] } : {});
  return r.check(r.ev('m.room.power_levels', sender, content, ''), state);
}
function redaction(r: Room, sender: string, target: string): AuthResult {
  const extra: Record<string, JsonValue> = r.rules.eventFormat.redactsInContent ? {} : { redacts: target };
  const content: JsonObject = r.rules.eventFormat.redactsInContent ? { redacts: target } : {};
  const ev = r.ev('m.room.redaction', sender, content, undefined, { ...extra, event_id: '$red:a.org' });
  return r.check(ev, r.state({ pl: { events: { 'm.room.redaction': 0 } } }));
}

describe('authorization rules per room version', () => {
  for (const c of cases) {
    describe(c.name, () => {
      for (const v of c.versions) {
        it(`v${v}`, () => {
          const r = c.run(new Room(v));
          expect(outcome(r)).toBe(c.expect);
          if (!r.allowed) expect(Object.keys(AUTH_RULE_CODES)).toContain(r.rule);
        });
      }
    });
  }
});
