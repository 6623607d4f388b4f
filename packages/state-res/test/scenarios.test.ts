// The classic state resolution scenarios (the situations of Synapse's tests/state/test_v2.py,
// written from scratch here), for room version 10 (v2) and room version 12 (v2.1).
import { describe, expect, it } from 'vitest';
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import { type RoomEvent, authEventTypes, stateKeyOf, toRoomEvent } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { resolveStateSync } from '@roomgraph/state-res';

const ALICE = '@alice:example.com';
const BOB = '@bob:example.com';
const CHARLIE = '@charlie:example.com';
const EVELYN = '@evelyn:example.com';
const ZARA = '@zara:example.com';

interface Def {
  id: string;
  sender: string;
  type: string;
  stateKey?: string;
  content: JsonObject;
}

const member = (id: string, sender: string, membership: string, target = sender): Def => ({ id, sender, type: 'm.room.member', stateKey: target, content: { membership } });
const pl = (id: string, sender: string, users: Record<string, number>, extra: JsonObject = {}): Def => ({ id, sender, type: 'm.room.power_levels', stateKey: '', content: { users, ...extra } });
const topic = (id: string, sender: string): Def => ({ id, sender, type: 'm.room.topic', stateKey: '', content: { topic: id } });

const INITIAL: Def[] = [
  { id: 'CREATE', sender: ALICE, type: 'm.room.create', stateKey: '', content: {} },
  member('IMA', ALICE, 'join'),
  pl('IPOWER', ALICE, { [ALICE]: 100 }),
  { id: 'IJR', sender: ALICE, type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'public' } },
  member('IMB', BOB, 'join'),
  member('IMC', CHARLIE, 'join'),
  member('IMZ', ZARA, 'join'),
];

/**
 * Builds the DAG: INITIAL is a chain; `paths` lists prev-event paths from END back to START (the
 * last initial event). Each event's auth events come from the state before it. Returns the
 * resolved state at END as {id-without-$: key}.
 */
function run(version: '10' | '12', defs: Def[], paths: string[][]): Map<string, string> {
  const rules = getRoomVersion(version);
  const v12 = version === '12';
  const byName = new Map<string, Def>();
  for (const d of [...INITIAL, ...defs]) byName.set(d.id, d);
  const prevs = new Map<string, Set<string>>();
  for (let i = 1; i < INITIAL.length; i++) prevs.set(INITIAL[i]!.id, new Set([INITIAL[i - 1]!.id]));
  for (const path of paths) {
    for (let i = 0; i + 1 < path.length; i++) {
      const a = path[i]!;
      const b = path[i + 1] === 'START' ? 'IMZ' : path[i + 1]!;
      if (!prevs.has(a)) prevs.set(a, new Set());
      prevs.get(a)!.add(b);
    }
  }
  const order = [...INITIAL.map((d) => d.id), ...defs.map((d) => d.id), 'END'];
  const ts = new Map(order.map((id, i) => [id, i]));
  const createId = '$CREATE';
  const roomId = v12 ? '!CREATE' : '!room:example.com';
  const events = new Map<string, RoomEvent>();
  const after = new Map<string, Map<string, string>>();
  const build = (name: string): void => {
    if (after.has(name)) return;
    const ps = [...(prevs.get(name) ?? [])];
    for (const p of ps) build(p);
    const states = ps.map((p) => after.get(p)!);
    const before = states.length === 0 ? new Map<string, string>() : resolveStateSync(rules, states, events);
    const d = byName.get(name) ?? { id: 'END', sender: ALICE, type: 'm.room.message', content: { body: 'end' } };
    let content = d.content;
    if (d.type === 'm.room.create') content = v12 ? { room_version: version } : { creator: ALICE, room_version: version };
    if (v12 && d.type === 'm.room.power_levels') {
      const users = { ...(content['users'] as Record<string, number>) };
      delete users[ALICE]; // v12: creators have infinite power and may not be listed
      content = { ...content, users };
    }
    const base = { type: d.type, sender: d.sender, content, origin_server_ts: ts.get(name)!, depth: ts.get(name)! + 1 };
    const probe = toRoomEvent({ ...base, ...(d.stateKey !== undefined ? { state_key: d.stateKey } : {}) }, rules, '$' + name);
    const auth: string[] = [];
    if (d.type !== 'm.room.create') {
      for (const [t, sk] of authEventTypes(probe, rules)) {
        const id = before.get(stateKeyOf(t, sk));
        if (id !== undefined) auth.push(id);
      }
    }
    const json: Record<string, JsonValue> = { ...base, auth_events: auth, prev_events: ps.map((p) => '$' + p), event_id: '$' + name };
    if (d.stateKey !== undefined) json['state_key'] = d.stateKey;
    if (!(v12 && d.type === 'm.room.create')) json['room_id'] = roomId;
    const e = toRoomEvent(json, rules);
    events.set(e.eventId, e);
    const s = new Map(before);
    if (e.stateKey !== undefined) s.set(stateKeyOf(e.type, e.stateKey), e.eventId);
    after.set(name, s);
  };
  void createId;
  build('END');
  const end = events.get('$END')!;
  const states = end.prevEvents.map((p) => after.get(p.slice(1))!);
  return resolveStateSync(rules, states, events);
}

/** The expected full state: INITIAL's state with the given events' keys replaced. */
function expectedState(defs: Def[], ids: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const d of [...INITIAL, ...defs].filter((d) => d.id.startsWith('I') || d.id === 'CREATE' ? true : ids.includes(d.id))) {
    if (d.stateKey !== undefined && (INITIAL.includes(d) || ids.includes(d.id))) m.set(stateKeyOf(d.type, d.stateKey), '$' + d.id);
  }
  return new Map([...m].sort());
}

const sorted = (m: Map<string, string>): Map<string, string> => new Map([...m].sort());

interface Scenario {
  defs: Def[];
  paths: string[][];
  expected: string[];
}

const scenarios: Record<string, Scenario> = {
  'ban vs power levels': {
    defs: [pl('PA', ALICE, { [ALICE]: 100, [BOB]: 50 }), member('MA', ALICE, 'join'), member('MB', ALICE, 'ban', BOB), pl('PB', BOB, { [ALICE]: 100, [BOB]: 50 })],
    paths: [['END', 'MB', 'MA', 'PA', 'START'], ['END', 'PB', 'PA']],
    expected: ['PA', 'MA', 'MB'],
  },
  'join rule evasion': {
    defs: [{ id: 'JR', sender: ALICE, type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'private' } }, member('ME', EVELYN, 'join')],
    paths: [['END', 'JR', 'START'], ['END', 'ME', 'START']],
    expected: ['JR'],
  },
  'offtopic power levels': {
    defs: [
      pl('PA', ALICE, { [ALICE]: 100, [BOB]: 50 }),
      pl('PB', BOB, { [ALICE]: 100, [BOB]: 50, [CHARLIE]: 50 }),
      pl('PC', CHARLIE, { [ALICE]: 100, [BOB]: 50, [CHARLIE]: 0 }),
    ],
    paths: [['END', 'PC', 'PB', 'PA', 'START'], ['END', 'PA']],
    expected: ['PC'],
  },
  'topic basic': {
    defs: [topic('T1', ALICE), pl('PA1', ALICE, { [ALICE]: 100, [BOB]: 50 }), topic('T2', ALICE), pl('PA2', ALICE, { [ALICE]: 100, [BOB]: 0 }), pl('PB', BOB, { [ALICE]: 100, [BOB]: 50 }), topic('T3', BOB)],
    paths: [['END', 'PA2', 'T2', 'PA1', 'T1', 'START'], ['END', 'T3', 'PB', 'PA1']],
    expected: ['PA2', 'T2'],
  },
  'topic reset': {
    defs: [topic('T1', ALICE), pl('PA', ALICE, { [ALICE]: 100, [BOB]: 50 }), topic('T2', BOB), member('MB', ALICE, 'ban', BOB)],
    paths: [['END', 'MB', 'T2', 'PA', 'T1', 'START'], ['END', 'T1']],
    expected: ['T1', 'MB', 'PA'],
  },
  topic: {
    defs: [
      topic('T1', ALICE),
      pl('PA1', ALICE, { [ALICE]: 100, [BOB]: 50 }),
      topic('T2', ALICE),
      pl('PA2', ALICE, { [ALICE]: 100, [BOB]: 0 }),
      pl('PB', BOB, { [ALICE]: 100, [BOB]: 50 }),
      topic('T3', BOB),
      { id: 'MZ1', sender: ZARA, type: 'm.room.message', content: { body: 'hi' } },
      topic('T4', ALICE),
    ],
    paths: [['END', 'T4', 'MZ1', 'PA2', 'T2', 'PA1', 'T1', 'START'], ['END', 'MZ1', 'T3', 'PB', 'PA1']],
    expected: ['T4', 'PA2'],
  },
  'mainline sort': {
    defs: [
      topic('T1', ALICE),
      pl('PA1', ALICE, { [ALICE]: 100, [BOB]: 50 }),
      topic('T2', ALICE),
      pl('PA2', ALICE, { [ALICE]: 100, [BOB]: 50 }, { events: { 'm.room.power_levels': 100 } }),
      pl('PB', BOB, { [ALICE]: 100, [BOB]: 50 }),
      topic('T3', BOB),
      topic('T4', ALICE),
    ],
    paths: [['END', 'T3', 'PA2', 'T2', 'PA1', 'T1', 'START'], ['END', 'T4', 'PB', 'PA1']],
    expected: ['T3', 'PA2'],
  },
};

for (const version of ['10', '12'] as const) {
  describe(`classic scenarios, room version ${version} (${version === '12' ? 'v2.1' : 'v2'})`, () => {
    for (const [name, s] of Object.entries(scenarios)) {
      it(name, () => {
        expect(sorted(run(version, s.defs, s.paths))).toEqual(expectedState(s.defs, s.expected));
      });
    }
  });
}
