/**
 * A generator of large, valid, signed rooms — the one the benchmarks and `roomgraph gen-room` use.
 *
 * The room: the create event, the admin's join, power levels, a public join rule, `members` joins
 * spread over `servers` homeservers, then messages until the room holds `events` events. With
 * `forks` ≥ 2, the messages are laid out in rounds: the DAG splits into `forks` concurrent
 * branches (each starting with a conflicting `m.room.topic` by the admin, then messages from
 * members), and the branches merge into one message whose `prev_events` name every branch head —
 * so every round ends in a state resolution (Server-Server API › Room State Resolution).
 *
 * Every event is built with `buildEvent` (`@roomgraph/events`): hashed and signed by its sender's
 * server with a deterministic ed25519 key, with the `auth_events` chosen by `selectAuthEvents`
 * (Server-Server API › Auth events selection) and the event format of the room version (event IDs,
 * references, v12 room IDs): the same options always give the same room, byte for byte.
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import { encodeBase64, signingKeyFromSeed, type SigningKey } from '@roomgraph/crypto';
import { buildEvent, selectAuthEvents, stateKeyOf, type Pdu } from '@roomgraph/events';
import { getRoomVersion, type RoomVersionRules } from '@roomgraph/room-versions';
import { CitableEvents } from './citable-events.js';

/** Options of {@link generateRoom}. */
export interface GenerateRoomOptions {
  /** Room version identifier, `"1"`…`"12"` (default `"10"`). */
  readonly roomVersion?: string;
  /** Joined members besides the admin (default 10). */
  readonly members?: number;
  /**
   * Total number of events in the room, preamble and joins included (default: 4 + members + 100).
   * Must be at least `4 + members`.
   */
  readonly events?: number;
  /**
   * Concurrent branches per fork round (default 0 = a linear room; 1 is the same as 0). Each round
   * is `forks` × (1 topic + up to `forkLength` messages) + 1 merge event.
   */
  readonly forks?: number;
  /** Messages per branch in a fork round (default 3). */
  readonly forkLength?: number;
  /** Number of homeservers the members are spread over (default 3, at most 26): `a.example`, `b.example`, … */
  readonly servers?: number;
  /** First `origin_server_ts` (default 1_700_000_000_000); event *i* gets `+ i`. */
  readonly startTs?: number;
  /** Room ID for room versions 1–11 (default `!generated:a.example`); v12 derives it from the create event. */
  readonly roomId?: string;
}

/** One server's signing key, as `roomgraph keygen` writes it. */
export interface GeneratedServerKey {
  /** The server name. */
  readonly serverName: string;
  /** The key ID, `ed25519:<version>`. */
  readonly keyId: string;
  /** The 32-byte seed, unpadded base64. */
  readonly seed: string;
  /** The public key, unpadded base64. */
  readonly publicKey: string;
}

/** A generated room: its identity, the keys of its servers and its events (lazily built, in order). */
export interface GeneratedRoom {
  /** The room ID. */
  readonly roomId: string;
  /** The room version identifier. */
  readonly roomVersion: string;
  /** The admin (the creator), `@admin:a.example`. */
  readonly admin: string;
  /** The member user IDs, `@u<i>:<server>`. */
  readonly members: readonly string[];
  /** Total number of events {@link GeneratedRoom.events} yields. */
  readonly eventCount: number;
  /** KEYS.json as `roomgraph ingest` reads it: server name → {key ID → public key}. */
  readonly keys: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The servers' signing keys (seeds included). */
  readonly serverKeys: readonly GeneratedServerKey[];
  /**
   * The events in a topological order (every event after its `prev_events` and `auth_events`),
   * built as they are iterated: a million-event room streams in constant memory besides the
   * current state (the events it names, at most twice over between prunes). Each call starts again
   * from the create event and yields the same events.
   */
  events(): IterableIterator<Pdu>;
}

/** The deterministic signing key the generator uses for a server (seed bytes from its name). */
export function generatedServerKey(serverName: string, version = 'gen'): { readonly key: SigningKey; readonly info: GeneratedServerKey } {
  const seed = new Uint8Array(32);
  for (let i = 0; i < 32; i++) seed[i] = (serverName.charCodeAt(i % serverName.length) * (i + 1) + 7 * i) & 0xff;
  const key = signingKeyFromSeed(seed, version);
  return { key, info: { serverName, keyId: key.keyId, seed: encodeBase64(seed), publicKey: encodeBase64(key.publicKey) } };
}

function serverName(i: number): string {
  return `${String.fromCharCode(97 + i)}.example`;
}

function intOption(name: string, v: number | undefined, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = v ?? dflt;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new RangeError(`generateRoom: ${name} must be an integer in ${min}..${max}, got ${String(v)}`);
  return n;
}

/**
 * Generates a valid signed room (see the module description for its shape).
 * @throws RangeError for out-of-range options (`events` < 4 + `members`, …);
 *   `ROOM_VERSION_UNKNOWN` from `@roomgraph/room-versions` for an unknown room version.
 * @example
 * ```ts
 * const room = generateRoom({ roomVersion: '12', members: 20, events: 200, forks: 2 });
 * for (const pdu of room.events()) console.log(JSON.stringify(pdu.json));
 * ```
 */
export function generateRoom(options: GenerateRoomOptions = {}): GeneratedRoom {
  const rules = getRoomVersion(options.roomVersion ?? '10');
  const members = intOption('members', options.members, 10, 0);
  const eventCount = intOption('events', options.events, 4 + members + 100, 4 + members);
  const forks = intOption('forks', options.forks, 0, 0, 64);
  const forkLength = intOption('forkLength', options.forkLength, 3, 0);
  const serverCount = intOption('servers', options.servers, 3, 1, 26);
  const startTs = intOption('startTs', options.startTs, 1_700_000_000_000, 0);
  const servers = Array.from({ length: serverCount }, (_, i) => serverName(i));
  const signers = new Map(servers.map((s) => [s, generatedServerKey(s)] as const));
  const admin = '@admin:a.example';
  const memberIds = Array.from({ length: members }, (_, i) => `@u${i}:${servers[i % serverCount]!}`);
  const keys: Record<string, Record<string, string>> = {};
  for (const [s, k] of signers) keys[s] = { [k.info.keyId]: k.info.publicKey };

  const first = buildRoomEvents(rules, { admin, memberIds, eventCount, forks, forkLength, startTs, signers, roomId: options.roomId ?? '!generated:a.example' });
  const firstStep = first.next();
  const create = firstStep.value as Pdu;
  const roomId = rules.eventFormat.roomIdFormat === 'create-event-hash' ? '!' + create.eventId.slice(1) : options.roomId ?? '!generated:a.example';
  return {
    roomId,
    roomVersion: rules.id,
    admin,
    members: memberIds,
    eventCount,
    keys,
    serverKeys: [...signers.values()].map((s) => s.info),
    events: () => buildRoomEvents(rules, { admin, memberIds, eventCount, forks, forkLength, startTs, signers, roomId: options.roomId ?? '!generated:a.example' }),
  };
}

interface BuildArgs {
  readonly admin: string;
  readonly memberIds: readonly string[];
  readonly eventCount: number;
  readonly forks: number;
  readonly forkLength: number;
  readonly startTs: number;
  readonly signers: ReadonlyMap<string, { readonly key: SigningKey }>;
  readonly roomId: string;
}

function* buildRoomEvents(rules: RoomVersionRules, a: BuildArgs): Generator<Pdu, void, undefined> {
  const auth = rules.authorization;
  const byId = new CitableEvents<Pdu>();
  // Events a later event may name as prev/auth event: the current state's events and the heads.
  let state = new Map<string, string>();
  let roomId = a.roomId;
  let made = 0;
  let ts = a.startTs;
  const serverOf = (user: string): string => user.slice(user.indexOf(':') + 1);
  const make = (
    type: string,
    stateKey: string | undefined,
    sender: string,
    content: JsonObject,
    prev: readonly string[],
    before: ReadonlyMap<string, string>,
  ): Pdu => {
    const isCreate = type === 'm.room.create';
    const lookup = { get: (t: string, sk: string) => { const id = before.get(stateKeyOf(t, sk)); return id === undefined ? undefined : byId.get(id); } };
    const authIds = isCreate ? [] : selectAuthEvents({ type, stateKey, sender, content }, lookup, rules);
    const prevEvents = prev.map((p) => byId.get(p)!);
    const depth = prevEvents.reduce((d, p) => Math.max(d, p.depth), 0) + 1;
    const pdu = buildEvent(
      {
        roomVersion: rules,
        type,
        ...(stateKey !== undefined ? { stateKey } : {}),
        sender,
        content,
        prevEvents,
        authEvents: authIds.map((id) => byId.get(id)!),
        depth,
        originServerTs: ts++,
        ...(isCreate && !rules.eventFormat.createEventHasRoomId ? {} : { roomId }),
        eventIdLocalpart: `g${made}`,
      },
      { serverName: serverOf(sender), key: a.signers.get(serverOf(sender))!.key },
      { validate: false },
    );
    made++;
    byId.set(pdu.eventId, pdu);
    return pdu;
  };
  /** Adds a state event to `s` (a copy when `copy`). */
  const withState = (s: Map<string, string>, pdu: Pdu): Map<string, string> => {
    if (pdu.stateKey !== undefined) s.set(stateKeyOf(pdu.type, pdu.stateKey), pdu.eventId);
    return s;
  };
  // Only events still referenced (state, heads) are kept in byId: a million-event room stays
  // small (its current state and the heads, and at most as many again between prunes).
  const prune = (heads: readonly string[]): void => byId.prune(() => [...state.values(), ...heads]);

  const createContent: JsonObject = auth.creatorInContent ? { creator: a.admin, room_version: rules.id } : { room_version: rules.id };
  const create = make('m.room.create', '', a.admin, createContent, [], state);
  if (rules.eventFormat.roomIdFormat === 'create-event-hash') roomId = '!' + create.eventId.slice(1);
  withState(state, create);
  yield create;
  let head = create.eventId;
  const linear = (type: string, stateKey: string | undefined, sender: string, content: JsonObject): Pdu => {
    const pdu = make(type, stateKey, sender, content, [head], state);
    withState(state, pdu);
    head = pdu.eventId;
    return pdu;
  };
  yield linear('m.room.member', a.admin, a.admin, { membership: 'join' });
  yield linear('m.room.power_levels', '', a.admin, {
    users: auth.privilegedCreators ? {} : { [a.admin]: 100 },
    users_default: 0, events_default: 0, state_default: 50, ban: 50, kick: 50, redact: 50, invite: 0,
  });
  yield linear('m.room.join_rules', '', a.admin, { join_rule: 'public' });
  for (let i = 0; i < a.memberIds.length; i++) {
    const u = a.memberIds[i]!;
    yield linear('m.room.member', u, u, { membership: 'join', displayname: `User ${i}` });
    prune([head]);
  }
  const speakers = a.memberIds.length > 0 ? a.memberIds : [a.admin];
  let msg = 0;
  const message = (prev: readonly string[], before: ReadonlyMap<string, string>, sender = speakers[msg % speakers.length]!): Pdu =>
    make('m.room.message', undefined, sender, { msgtype: 'm.text', body: `message ${msg++}` }, prev, before);
  let round = 0;
  while (made < a.eventCount) {
    const left = a.eventCount - made;
    // A fork round needs, per branch, a topic, plus one merge event.
    if (a.forks >= 2 && left >= 2 * a.forks + 1) {
      const perBranch = Math.min(a.forkLength, Math.floor((left - 1 - a.forks) / a.forks));
      const heads: string[] = [];
      const branchStates: Map<string, string>[] = [];
      for (let b = 0; b < a.forks; b++) {
        const bs = new Map(state);
        let h = head;
        const topic = make('m.room.topic', '', a.admin, { topic: `round ${round} branch ${b}` }, [h], bs);
        withState(bs, topic);
        h = topic.eventId;
        yield topic;
        for (let k = 0; k < perBranch; k++) {
          const m = message([h], bs);
          h = m.eventId;
          yield m;
        }
        heads.push(h);
        branchStates.push(bs);
      }
      // The branches' states differ only in the topic; state resolution orders the conflicting
      // topics (same sender and power level) by origin_server_ts then event ID: the last branch's
      // topic, the newest, wins. The merge event's auth events come from the state every branch shares.
      const merged = make('m.room.message', undefined, a.admin, { msgtype: 'm.text', body: `merge of round ${round}` }, heads, state);
      state = branchStates[branchStates.length - 1]!;
      head = merged.eventId;
      round++;
      yield merged;
    } else {
      const m = message([head], state);
      head = m.eventId;
      yield m;
    }
    prune([head]);
  }
}
