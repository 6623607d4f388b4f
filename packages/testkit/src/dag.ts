/**
 * Valid room DAGs from a shrinkable plan: a list of small action records interpreted
 * deterministically, every kept event checked with `@roomgraph/auth` against the state before it.
 *
 * @module
 */
import fc from 'fast-check';
import { isJsonObject, type JsonObject, type JsonValue } from '@roomgraph/canonical-json';
import { checkAuth, type AuthResult } from '@roomgraph/auth';
import { signingKeyFromSeed, type SigningKey } from '@roomgraph/crypto';
import {
  buildEvent,
  selectAuthEvents,
  stateKeyOf,
  splitStateKey,
  toRoomEvent,
  type KeyLookup,
  type Pdu,
  type RoomEvent,
  type StateLookup,
} from '@roomgraph/events';
import { getRoomVersion, type RoomVersionRules } from '@roomgraph/room-versions';
import { resolveStateSync } from '@roomgraph/state-res';

/** The kinds of action a {@link DagPlan} can ask for. */
export type ActionKind =
  | 'join'
  | 'message'
  | 'leave'
  | 'invite'
  | 'knock'
  | 'kick'
  | 'ban'
  | 'power'
  | 'joinRule'
  | 'topic'
  | 'name'
  | 'fork'
  | 'merge';

/** Every {@link ActionKind}, in shrinking order (fast-check shrinks towards the first, `join`). */
export const ACTION_KINDS: readonly ActionKind[] = Object.freeze([
  'join', 'message', 'leave', 'invite', 'knock', 'kick', 'ban', 'power', 'joinRule', 'topic', 'name', 'fork', 'merge',
]);

/**
 * One intended step of a room's history. All fields are small integers (or a kind), so shrinking a
 * plan shrinks towards few, simple actions by the first users on the first branch.
 */
export interface DagAction {
  /** What to do. */
  readonly kind: ActionKind;
  /** Index of the acting user (the sender) in {@link RoomDag.users}. */
  readonly actor: number;
  /** Index of the target user (invite/kick/ban/power) or the other branch (merge). */
  readonly target: number;
  /** Index of the branch (fork) the event is appended to. */
  readonly branch: number;
  /** A small choice: the power level or named level to change, the join rule to set... */
  readonly arg: number;
}

/** The shrinkable input {@link buildRoomDag} interprets. */
export interface DagPlan {
  /** Room version identifier (`"1"` … `"12"`). */
  readonly roomVersion: string;
  /** Number of users (2–6); user 0 creates the room. */
  readonly userCount: number;
  /** The join rule set right after creation. */
  readonly initialJoinRule: 'public' | 'invite';
  /**
   * How many users besides the creator join right after the preamble (invited first when the
   * join rule is `invite`); the first of them starts as a moderator (power 50).
   */
  readonly founders: number;
  /** The actions, in order. */
  readonly actions: readonly DagAction[];
}

/** How event IDs are made. */
export type IdMode = 'fake' | 'real';

/** Options of {@link buildRoomDag}. */
export interface BuildDagOptions {
  /**
   * `fake` (default): readable IDs such as `$3-join-bob`, events made with `toRoomEvent` (fast, not
   * signed). `real`: events built, hashed and signed with `buildEvent` (v3+ IDs are real reference
   * hashes; v1–v2 IDs are `$3-join-bob:b.example`).
   */
  readonly ids?: IdMode;
  /** Maximum number of concurrent branches (default 3). */
  readonly maxForks?: number;
}

/** What happened to one action of the plan (for {@link describeDag}). */
export interface DagLogEntry {
  /** The action. */
  readonly action: DagAction;
  /** The event it produced, when kept. */
  readonly eventId?: string;
  /** Why nothing was produced (auth rule, unsupported by the room version...). */
  readonly skipped?: string;
}

/** A generated room: events in topological order plus the state before/after each event. */
export interface RoomDag {
  /** Room version identifier. */
  readonly roomVersion: string;
  /** The room version's rules. */
  readonly rules: RoomVersionRules;
  /** The room ID (v12: `!` + the create event ID without `$`). */
  readonly roomId: string;
  /** The users, creator first. */
  readonly users: readonly string[];
  /** The events in topological order (every prev event comes before its children). */
  readonly events: readonly RoomEvent[];
  /** The events by ID. */
  readonly eventsById: ReadonlyMap<string, RoomEvent>;
  /** The state before each event (keys from `stateKeyOf`). */
  readonly stateBefore: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** The state after each event. */
  readonly stateAfter: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** The forward extremities of each open branch (more than one when a merge is pending). */
  readonly forks: readonly (readonly string[])[];
  /** Every forward extremity of the DAG (events that are nobody's prev event), sorted. */
  readonly extremities: readonly string[];
  /** The plan this DAG was interpreted from. */
  readonly plan: DagPlan;
  /** The fate of every action. */
  readonly log: readonly DagLogEntry[];
  /** The ID mode used. */
  readonly ids: IdMode;
  /** Real mode: the signed PDUs by event ID. */
  readonly pdus?: ReadonlyMap<string, Pdu>;
  /** Real mode: a key lookup for `verifyEventSignatures` that knows every generating server's key. */
  readonly keyLookup?: KeyLookup;
}

const USER_NAMES = ['alice', 'bob', 'carol', 'dan', 'erin', 'frank'] as const;
const USER_SERVERS = ['a.example', 'b.example', 'a.example', 'c.example', 'b.example', 'c.example'] as const;
/** Base `origin_server_ts`; event *i* gets `BASE_TS + 1000 i`. */
const BASE_TS = 1_700_000_000_000;

/** The user IDs the generator uses for `count` users (`@alice:a.example`, `@bob:b.example`, ...). */
export function dagUsers(count: number): string[] {
  const n = Math.max(2, Math.min(USER_NAMES.length, Math.floor(count)));
  return USER_NAMES.slice(0, n).map((name, i) => `@${name}:${USER_SERVERS[i]}`);
}

const signers = new Map<string, SigningKey>();
function signerFor(server: string): { serverName: string; key: SigningKey } {
  let key = signers.get(server);
  if (key === undefined) {
    const seed = new Uint8Array(32);
    for (let i = 0; i < server.length; i++) seed[i % 32] = (seed[i % 32]! + server.charCodeAt(i)) & 0xff;
    key = signingKeyFromSeed(seed, 'testkit');
    signers.set(server, key);
  }
  return { serverName: server, key };
}

function localpart(user: string): string {
  return user.slice(1, user.indexOf(':'));
}

function serverOf(user: string): string {
  return user.slice(user.indexOf(':') + 1);
}


interface Branch {
  heads: string[];
  state: Map<string, string>;
}

interface Intended {
  readonly label: string;
  readonly type: string;
  readonly stateKey?: string;
  readonly sender: string;
  readonly content: JsonObject;
}

const PL_USER_LEVELS = [50, 100, 0, 75] as const;

/**
 * Interprets a plan deterministically into a valid room DAG. Actions whose event would be rejected
 * by the authorization rules (against the state before it) are skipped and logged; the same plan
 * always gives the same DAG (in fake mode, byte for byte).
 */
export function buildRoomDag(plan: DagPlan, options: BuildDagOptions = {}): RoomDag {
  const rules = getRoomVersion(plan.roomVersion);
  const mode: IdMode = options.ids ?? 'fake';
  const maxForks = Math.max(1, options.maxForks ?? 3);
  const users = dagUsers(plan.userCount);
  const creator = users[0]!;
  const auth = rules.authorization;
  const ef = rules.eventFormat;

  const events: RoomEvent[] = [];
  const byId = new Map<string, RoomEvent>();
  const pdus = new Map<string, Pdu>();
  const stateBefore = new Map<string, ReadonlyMap<string, string>>();
  const stateAfter = new Map<string, ReadonlyMap<string, string>>();
  const ancestors = new Map<string, Set<string>>();
  const log: DagLogEntry[] = [];
  let roomId = ef.roomIdFormat === 'create-event-hash' ? '' : '!room:a.example';

  const lookupOf = (state: ReadonlyMap<string, string>): StateLookup<RoomEvent> => ({
    get: (type, sk) => {
      const id = state.get(stateKeyOf(type, sk));
      return id === undefined ? undefined : byId.get(id);
    },
  });

  /** Makes the event (not yet added); `undefined` if the room version cannot express it. */
  const make = (it: Intended, prev: readonly string[], state: ReadonlyMap<string, string>): RoomEvent => {
    const idx = events.length;
    const readable = `${idx}-${it.label}`;
    const isCreate = it.type === 'm.room.create';
    const authIds = isCreate ? [] : selectAuthEvents({ type: it.type, stateKey: it.stateKey, sender: it.sender, content: it.content }, lookupOf(state), rules);
    const depth = prev.reduce((d, p) => Math.max(d, byId.get(p)!.depth), 0) + 1;
    const ts = BASE_TS + idx * 1000;
    if (mode === 'real') {
      const pdu = buildEvent(
        {
          roomVersion: rules,
          type: it.type,
          ...(it.stateKey !== undefined ? { stateKey: it.stateKey } : {}),
          sender: it.sender,
          content: it.content,
          prevEvents: prev.map((p) => byId.get(p)!),
          authEvents: authIds.map((a) => byId.get(a)!),
          depth,
          originServerTs: ts,
          ...(isCreate && !ef.createEventHasRoomId ? {} : { roomId }),
          eventIdLocalpart: readable,
        },
        signerFor(serverOf(it.sender)),
      );
      pdus.set(pdu.eventId, pdu);
      return pdu;
    }
    const id = `$${readable}`;
    const ref = (x: string): JsonValue => (ef.eventReferences === 'id-and-hash' ? [x, { sha256: 'fake' }] : x);
    const json: Record<string, JsonValue> = {};
    if (ef.eventIdFormat === 'server-assigned') json['event_id'] = id;
    if (!(isCreate && !ef.createEventHasRoomId)) json['room_id'] = roomId;
    json['type'] = it.type;
    if (it.stateKey !== undefined) json['state_key'] = it.stateKey;
    json['sender'] = it.sender;
    json['content'] = it.content;
    json['prev_events'] = prev.map(ref);
    json['auth_events'] = authIds.map(ref);
    json['depth'] = depth;
    json['origin_server_ts'] = ts;
    json['hashes'] = { sha256: 'fake' };
    json['signatures'] = {};
    return toRoomEvent(json, rules, id);
  };

  const add = (e: RoomEvent, prev: readonly string[], before: ReadonlyMap<string, string>): Map<string, string> => {
    events.push(e);
    byId.set(e.eventId, e);
    const anc = new Set<string>();
    for (const p of prev) {
      anc.add(p);
      for (const a of ancestors.get(p)!) anc.add(a);
    }
    ancestors.set(e.eventId, anc);
    stateBefore.set(e.eventId, before);
    const after = new Map(before);
    if (e.stateKey !== undefined) after.set(stateKeyOf(e.type, e.stateKey), e.eventId);
    stateAfter.set(e.eventId, after);
    return after;
  };

  /** Tries to append an event to a branch; returns the auth result. */
  const attempt = (it: Intended, branch: Branch): { result: AuthResult; id?: string } => {
    const e = make(it, branch.heads, branch.state);
    const authEvents = e.authEvents.map((a) => byId.get(a)!);
    const createId = branch.state.get(stateKeyOf('m.room.create', ''));
    if (!ef.createEventInAuthEvents && createId !== undefined) authEvents.push(byId.get(createId)!);
    const result = checkAuth(e, lookupOf(branch.state), rules, { authEvents });
    if (!result.allowed) {
      if (mode === 'real') pdus.delete(e.eventId);
      return { result };
    }
    const after = add(e, branch.heads, branch.state);
    branch.heads = [e.eventId];
    branch.state = after;
    return { result, id: e.eventId };
  };

  // Preamble: create, creator join, power levels, join rules.
  const main: Branch = { heads: [], state: new Map() };
  const createContent: Record<string, JsonValue> = { room_version: rules.id };
  if (auth.creatorInContent) createContent['creator'] = creator;
  const create = make({ label: `create-${localpart(creator)}`, type: 'm.room.create', stateKey: '', sender: creator, content: createContent }, [], main.state);
  if (checkAuth(create, lookupOf(main.state), rules).allowed !== true) throw new Error(`testkit: the generated create event is not allowed in room version ${rules.id}`);
  main.heads = [create.eventId];
  main.state = add(create, [], new Map());
  if (ef.roomIdFormat === 'create-event-hash') roomId = '!' + create.eventId.slice(1);

  const preamble: Intended[] = [
    { label: `join-${localpart(creator)}`, type: 'm.room.member', stateKey: creator, sender: creator, content: { membership: 'join' } },
    {
      label: `pl-${localpart(creator)}`,
      type: 'm.room.power_levels',
      stateKey: '',
      sender: creator,
      content: {
        users: { ...(auth.privilegedCreators ? {} : { [creator]: 100 }), ...(plan.founders > 0 && users.length > 1 ? { [users[1]!]: 50 } : {}) },
        users_default: 0,
        events_default: 0,
        state_default: 50,
        ban: 50,
        kick: 50,
        invite: 0,
        redact: 50,
        events: { 'm.room.power_levels': 100, 'm.room.join_rules': 100 },
      },
    },
    { label: `jr-${plan.initialJoinRule}-${localpart(creator)}`, type: 'm.room.join_rules', stateKey: '', sender: creator, content: { join_rule: plan.initialJoinRule } },
  ];
  for (const u of users.slice(1, 1 + Math.max(0, Math.floor(plan.founders)))) {
    const l = localpart(u);
    if (plan.initialJoinRule === 'invite') preamble.push({ label: `invite-${localpart(creator)}-${l}`, type: 'm.room.member', stateKey: u, sender: creator, content: { membership: 'invite' } });
    preamble.push({ label: `join-${l}`, type: 'm.room.member', stateKey: u, sender: u, content: { membership: 'join' } });
  }
  for (const it of preamble) {
    const r = attempt(it, main);
    if (!r.result.allowed) throw new Error(`testkit: preamble event ${it.label} rejected in room version ${rules.id}: ${r.result.rule}`);
  }

  const branches: Branch[] = [main];
  const pruneHeads = (heads: readonly string[]): string[] => {
    const uniq = [...new Set(heads)];
    return uniq.filter((h) => !uniq.some((o) => o !== h && ancestors.get(o)!.has(h))).sort();
  };
  const resolveHeads = (heads: readonly string[]): Map<string, string> =>
    heads.length === 1 ? new Map(stateAfter.get(heads[0]!)!) : resolveStateSync(rules, heads.map((h) => stateAfter.get(h)!), byId);

  const joinRules: string[] = ['public', 'invite'];
  if (auth.knocking) joinRules.push('knock');

  const membershipOf = (state: ReadonlyMap<string, string>, user: string): string | undefined => {
    const id = state.get(stateKeyOf('m.room.member', user));
    const m = id === undefined ? undefined : byId.get(id)?.content['membership'];
    return typeof m === 'string' ? m : undefined;
  };

  for (const action of plan.actions) {
    const n = users.length;
    const b = branches[action.branch % branches.length]!;
    const actor = users[action.actor % n]!;
    let targetIdx = action.target % n;
    if (targetIdx === action.actor % n) targetIdx = (targetIdx + 1) % n;
    const target = users[targetIdx]!;
    const a = localpart(actor);
    const t = localpart(target);
    let it: Intended | undefined;
    switch (action.kind) {
      case 'fork': {
        if (branches.length >= maxForks) {
          log.push({ action, skipped: `already ${branches.length} branches` });
          continue;
        }
        branches.push({ heads: [...b.heads], state: new Map(b.state) });
        log.push({ action, skipped: `fork of branch ${branches.indexOf(b)} (no event)` });
        continue;
      }
      case 'merge': {
        if (branches.length < 2) {
          log.push({ action, skipped: 'only one branch' });
          continue;
        }
        const bi = branches.indexOf(b);
        const oi = (bi + 1 + (action.target % (branches.length - 1))) % branches.length;
        const o = branches[oi]!;
        const mergedHeads = pruneHeads([...b.heads, ...o.heads]);
        if (mergedHeads.length === 1) {
          // One branch contains the other: nothing to merge yet, both stay open.
          log.push({ action, skipped: `nothing to merge: branch ${oi} has not diverged` });
          continue;
        }
        b.heads = mergedHeads;
        b.state = resolveHeads(b.heads);
        branches.splice(oi, 1);
        // A merge event (a message) by the first joined user that may send one; when nobody may,
        // the merge stays pending and the branch's next event gets the several prev events.
        const joined = users.filter((u) => membershipOf(b.state, u) === 'join');
        let merged: string | undefined;
        const order = [actor, ...joined.filter((u) => u !== actor)];
        for (const u of order) {
          const r = attempt({ label: `merge-${localpart(u)}`, type: 'm.room.message', sender: u, content: { msgtype: 'm.text', body: 'merge' } }, b);
          if (r.id !== undefined) {
            merged = r.id;
            break;
          }
        }
        log.push(merged !== undefined ? { action, eventId: merged } : { action, skipped: 'merge pending: nobody may send the merge event' });
        continue;
      }
      case 'join':
        it = { label: `join-${a}`, type: 'm.room.member', stateKey: actor, sender: actor, content: { membership: 'join' } };
        break;
      case 'leave':
        it = { label: `leave-${a}`, type: 'm.room.member', stateKey: actor, sender: actor, content: { membership: 'leave' } };
        break;
      case 'knock':
        if (!auth.knocking) {
          log.push({ action, skipped: `no knocking in room version ${rules.id}` });
          continue;
        }
        it = { label: `knock-${a}`, type: 'm.room.member', stateKey: actor, sender: actor, content: { membership: 'knock' } };
        break;
      case 'invite':
        it = { label: `invite-${a}-${t}`, type: 'm.room.member', stateKey: target, sender: actor, content: { membership: 'invite' } };
        break;
      case 'kick':
        it = { label: `kick-${a}-${t}`, type: 'm.room.member', stateKey: target, sender: actor, content: { membership: 'leave' } };
        break;
      case 'ban':
        it = { label: `ban-${a}-${t}`, type: 'm.room.member', stateKey: target, sender: actor, content: { membership: 'ban' } };
        break;
      case 'message':
        it = { label: `msg-${a}`, type: 'm.room.message', sender: actor, content: { msgtype: 'm.text', body: `hello from ${a}` } };
        break;
      case 'topic':
        it = { label: `topic-${a}`, type: 'm.room.topic', stateKey: '', sender: actor, content: { topic: `topic by ${a}` } };
        break;
      case 'name':
        it = { label: `name-${a}`, type: 'm.room.name', stateKey: '', sender: actor, content: { name: `name by ${a}` } };
        break;
      case 'joinRule': {
        const rule = joinRules[action.arg % joinRules.length]!;
        it = { label: `jr-${rule}-${a}`, type: 'm.room.join_rules', stateKey: '', sender: actor, content: { join_rule: rule } };
        break;
      }
      case 'power': {
        const plId = b.state.get(stateKeyOf('m.room.power_levels', ''));
        const old = plId === undefined ? {} : byId.get(plId)!.content;
        const content: Record<string, JsonValue> = JSON.parse(JSON.stringify(old)) as Record<string, JsonValue>;
        const usersMap: Record<string, JsonValue> = isJsonObject(content['users']) ? { ...content['users'] } : {};
        const choice = action.arg % 8;
        let label: string;
        if (choice < 4) {
          usersMap[target] = PL_USER_LEVELS[choice]!;
          label = `pl-${a}-${t}${PL_USER_LEVELS[choice]}`;
        } else {
          const [key, value] = ([['invite', 50], ['ban', 100], ['state_default', 0], ['events_default', 50]] as const)[choice - 4]!;
          content[key] = value;
          label = `pl-${a}-${key.replace('_default', '')}${value}`;
        }
        content['users'] = usersMap;
        it = { label, type: 'm.room.power_levels', stateKey: '', sender: actor, content };
        break;
      }
    }
    const r = attempt(it, b);
    log.push(r.id !== undefined ? { action, eventId: r.id } : { action, skipped: r.result.allowed ? 'rejected' : r.result.rule });
  }

  const referenced = new Set<string>();
  for (const e of events) for (const p of e.prevEvents) referenced.add(p);
  const extremities = events.map((e) => e.eventId).filter((id) => !referenced.has(id)).sort();

  let keyLookup: KeyLookup | undefined;
  if (mode === 'real') {
    keyLookup = (server, keyId) => {
      const s = signers.get(server);
      return s !== undefined && s.keyId === keyId ? { publicKey: s.publicKey } : undefined;
    };
  }
  const dag: RoomDag = {
    roomVersion: rules.id,
    rules,
    roomId,
    users,
    events,
    eventsById: byId,
    stateBefore,
    stateAfter,
    forks: branches.map((br) => [...br.heads]),
    extremities,
    plan,
    log,
    ids: mode,
    ...(mode === 'real' ? { pdus, keyLookup } : {}),
  };
  Object.defineProperty(dag, fc.toStringMethod, { value: () => describeDag(dag), enumerable: false });
  return dag;
}

/** Options of {@link roomDagPlan} and {@link roomDag}. */
export interface RoomDagOptions extends BuildDagOptions {
  /** Room version(s) to pick from (default: every version `"1"` … `"12"`). */
  readonly roomVersions?: string | readonly string[];
  /** Number of users (default 4, at most 6). */
  readonly users?: number;
  /** Maximum number of actions (default 32). */
  readonly maxActions?: number;
  /** Minimum number of actions (default 0). */
  readonly minActions?: number;
  /** fast-check size of the action list (default `'large'`; `'max'` = uniform up to `maxActions`). */
  readonly size?: fc.SizeForArbitrary;
  /** The kinds of action to draw from (default {@link ACTION_KINDS}; weights favour joins, forks and merges). */
  readonly kinds?: readonly ActionKind[];
}

const ALL_VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'] as const;

/** Relative weights of action kinds in a generated plan (index into the kind table). */
const WEIGHTS: Readonly<Record<ActionKind, number>> = {
  join: 4, message: 1, leave: 1, invite: 2, knock: 1, kick: 2, ban: 2, power: 3, joinRule: 1, topic: 1, name: 1, fork: 3, merge: 3,
};

/** An arbitrary single {@link DagAction} (see {@link roomDagPlan}). */
export function dagAction(options: Pick<RoomDagOptions, 'kinds' | 'users' | 'maxForks'> = {}): fc.Arbitrary<DagAction> {
  const kinds = options.kinds ?? ACTION_KINDS;
  const table: ActionKind[] = [];
  for (const k of ACTION_KINDS) if (kinds.includes(k)) for (let i = 0; i < WEIGHTS[k]; i++) table.push(k);
  if (table.length === 0) throw new RangeError('testkit: no action kinds selected');
  const users = Math.max(2, Math.min(6, options.users ?? 4));
  return fc
    .record({
      k: fc.nat({ max: table.length - 1 }),
      actor: fc.nat({ max: users - 1 }),
      target: fc.nat({ max: users - 1 }),
      branch: fc.nat({ max: Math.max(0, (options.maxForks ?? 3) - 1) }),
      arg: fc.nat({ max: 7 }),
    })
    .map(({ k, actor, target, branch, arg }) => ({ kind: table[k]!, actor, target, branch, arg }));
}

/** An arbitrary {@link DagPlan}: the shrinkable input of {@link roomDag}. */
export function roomDagPlan(options: RoomDagOptions = {}): fc.Arbitrary<DagPlan> {
  const versions = options.roomVersions === undefined ? ALL_VERSIONS : typeof options.roomVersions === 'string' ? [options.roomVersions] : options.roomVersions;
  if (versions.length === 0) throw new RangeError('testkit: no room versions selected');
  const userCount = Math.max(2, Math.min(6, options.users ?? 4));
  return fc.record({
    roomVersion: fc.constantFrom(...versions),
    userCount: fc.constant(userCount),
    initialJoinRule: fc.constantFrom('public' as const, 'invite' as const),
    founders: fc.nat({ max: userCount - 1 }),
    actions: fc.array(dagAction(options), { minLength: options.minActions ?? 0, maxLength: options.maxActions ?? 32, size: options.size ?? 'large' }),
  });
}

/**
 * An arbitrary valid room DAG ({@link RoomDag}) of the given room version(s). Built from a
 * {@link DagPlan}, so fast-check's shrinking of the action list shrinks the DAG; the value prints
 * as {@link describeDag} in counterexamples.
 *
 * @example
 * ```ts
 * fc.assert(fc.property(roomDag({ roomVersions: ['10', '12'] }), (dag) => dag.events.length >= 4));
 * ```
 */
export function roomDag(options: RoomDagOptions = {}): fc.Arbitrary<RoomDag> {
  return roomDagPlan(options).map((plan) => buildRoomDag(plan, options));
}

/**
 * The state sets to resolve for some events of a DAG: the state after each of `tips` (default: the
 * DAG's forward extremities).
 */
export function stateSetsOf(dag: RoomDag, tips: readonly string[] = dag.extremities): ReadonlyMap<string, string>[] {
  return tips.map((t) => {
    const s = dag.stateAfter.get(t);
    if (s === undefined) throw new RangeError(`testkit: ${t} is not an event of the DAG`);
    return s;
  });
}

/** A short readable name for an event of the DAG (its ID in fake mode, `#index` + ID prefix in real mode). */
export function eventName(dag: RoomDag, id: string): string {
  if (dag.ids === 'fake') return id;
  const i = dag.events.findIndex((e) => e.eventId === id);
  return i < 0 ? id : `#${i}(${id.slice(0, 9)}…)`;
}

function contentSummary(e: RoomEvent): string {
  const c = e.content;
  switch (e.type) {
    case 'm.room.member':
      return String(c['membership']);
    case 'm.room.join_rules':
      return String(c['join_rule']);
    case 'm.room.power_levels': {
      const users = isJsonObject(c['users']) ? Object.entries(c['users']).map(([u, l]) => `${localpart(u)}=${JSON.stringify(l)}`).join(',') : '';
      const named = ['invite', 'kick', 'ban', 'state_default', 'events_default'].map((k) => `${k.replace('_default', '')}=${JSON.stringify(c[k] ?? null)}`).join(' ');
      return `users{${users}} ${named}`;
    }
    case 'm.room.create':
      return `v${String(c['room_version'] ?? '1')}`;
    default:
      return '';
  }
}

/** Pretty-prints a state map with readable names: `type|state_key → event`, one per line. */
export function describeState(dag: RoomDag, state: ReadonlyMap<string, string>, indent = '    '): string {
  return [...state.entries()]
    .map(([k, v]) => {
      const [type, sk] = splitStateKey(k);
      return [`${type}|${sk}`, v] as const;
    })
    .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
    .map(([k, v]) => `${indent}${k} → ${eventName(dag, v)}`)
    .join('\n');
}

/**
 * A human-readable description of a DAG for failure messages: one line per event (name, type,
 * state key, sender, a content summary, prev events), then the open forks.
 */
export function describeDag(dag: RoomDag): string {
  const lines = [`room v${dag.roomVersion} ${dag.roomId} (${dag.ids} IDs): ${dag.events.length} events, users ${dag.users.map(localpart).join(', ')}`];
  for (const e of dag.events) {
    const sk = e.stateKey === undefined ? '' : e.stateKey.startsWith('@') ? localpart(e.stateKey) : JSON.stringify(e.stateKey);
    const prev = e.prevEvents.length === 0 ? '' : ` ← ${e.prevEvents.map((p) => eventName(dag, p)).join(' + ')}`;
    lines.push(`  ${eventName(dag, e.eventId)}  ${e.type}${e.stateKey === undefined ? '' : `[${sk}]`} by ${localpart(e.sender)} ${contentSummary(e)}${prev}`);
  }
  lines.push(`  forks: ${dag.forks.map((f) => `[${f.map((id) => eventName(dag, id)).join(', ')}]`).join(' ')}`);
  return lines.join('\n');
}
