// Auth: checkAuth per second on typical events in a room with 10,000 joined members and a power
// levels event listing all of them (`users` has 10k entries). The state is a Map-backed
// StateLookup (stateLookupOf); the PL change case diffs the full 10k-entry `users` map.
import { checkAuth, powerLevelsOf } from '@roomgraph/auth';
import { stateLookupOf, toRoomEvent } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { table } from '../lib/measure.mjs';

const N = 10_000;

function room(version) {
  const rules = getRoomVersion(version);
  const v12 = rules.authorization.privilegedCreators;
  const roomId = v12 ? '!create' : '!room:example.org';
  let n = 0;
  const ev = (type, sender, content, stateKey, extra = {}) => {
    const json = { event_id: `$e${++n}`, room_id: roomId, type, sender, content, origin_server_ts: n, depth: n, prev_events: ['$p'], auth_events: [], ...extra };
    if (stateKey !== undefined) json.state_key = stateKey;
    return toRoomEvent(json, rules, json.event_id);
  };
  const admin = '@admin:example.org';
  const user = (i) => `@user${i}:server${i % 50}.org`;
  const createContent = { room_version: version, ...(rules.authorization.creatorInContent ? { creator: admin } : {}) };
  const create = ev('m.room.create', admin, createContent, '', { event_id: '$create', prev_events: [], ...(v12 ? { room_id: undefined } : {}) });
  const users = v12 ? {} : { [admin]: 100 };
  for (let i = 0; i < N; i++) users[user(i)] = i % 100 === 0 ? 50 : 0;
  const plContent = { users, users_default: 0, events: { 'm.room.name': 50, 'm.room.power_levels': 100 }, state_default: 50, events_default: 0, ban: 50, kick: 50, invite: 0, redact: 50 };
  const pl = ev('m.room.power_levels', admin, plContent, '');
  const state = [create, pl, ev('m.room.join_rules', admin, { join_rule: 'public' }, ''), ev('m.room.member', admin, { membership: 'join' }, admin)];
  for (let i = 0; i < N; i++) state.push(ev('m.room.member', user(i), { membership: 'join' }, user(i)));
  const lookup = stateLookupOf(state);
  const changedUsers = { ...users, [user(1)]: 50 };
  return {
    rules, lookup, create, pl,
    message: ev('m.room.message', user(7), { body: 'hello', msgtype: 'm.text' }),
    join: ev('m.room.member', '@newbie:else.org', { membership: 'join' }, '@newbie:else.org'),
    kick: ev('m.room.member', user(100), { membership: 'leave' }, user(7)),
    plChange: ev('m.room.power_levels', admin, { ...plContent, users: changedUsers }, ''),
    name: ev('m.room.name', user(200), { name: 'x' }, ''),
  };
}

export default async function suite() {
  for (const version of ['10', '12']) {
    const r = room(version);
    for (const k of ['message', 'join', 'kick', 'plChange', 'name']) {
      const res = checkAuth(r[k], r.lookup, r.rules);
      if (!res.allowed) throw new Error(`bench setup: ${k} rejected: ${res.rule} ${res.reason}`);
    }
    await table(`checkAuth, room v${version}, ${N} members, ${N}-entry users map`, {
      'message (F7, F9)': () => checkAuth(r.message, r.lookup, r.rules),
      'join, public room (F6.3)': () => checkAuth(r.join, r.lookup, r.rules),
      'kick (F6.5)': () => checkAuth(r.kick, r.lookup, r.rules),
      'state event m.room.name (F9, F10)': () => checkAuth(r.name, r.lookup, r.rules),
      'power levels change (F11, 10k users diff)': () => checkAuth(r.plChange, r.lookup, r.rules),
      'powerLevelsOf + userLevel': () => powerLevelsOf(r.pl, r.create, r.rules).userLevel('@user9:server9.org'),
    });
  }
}
