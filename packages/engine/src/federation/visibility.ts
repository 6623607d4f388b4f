/**
 * Which events another server may read (Client-Server API › Room History Visibility, as applied to
 * servers — the rules Synapse's `filter_events_for_server` applies; Server-Server API ›
 * Retrieving events / Backfilling). For a requesting server S and an event E, with the state at E
 * (the state after E, E included when it is a state event):
 *
 * 1. `history_visibility` at E is `world_readable`: visible.
 * 2. S had a joined member at E: visible.
 * 3. `invited` and S had an invited member at E: visible.
 * 4. `shared` (the default) and S has a joined member now (a member joined after E sees it): visible.
 * 5. Otherwise not visible. For `m.room.history_visibility` events, the setting before the event
 *    is tried too (the more permissive wins, as the client-server rules say).
 *
 * A server with standing in the room (a member event of one of its users in the current state:
 * joined, invited, left, knocked, banned) gets invisible events redacted — the graph stays
 * connected, the content hidden; a server without standing gets nothing that is not
 * `world_readable`. Outliers (state unknown) are treated as `shared`, as Synapse does.
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import { domainOf, redact, stateKeyOf } from '@roomgraph/events';
import type { SnapshotId, StoredEvent } from '@roomgraph/store';
import type { EngineContext } from '../context.js';
import { isJsonObject } from '@roomgraph/canonical-json';
import { memberKeysOf } from './servers.js';

const HV_KEY = stateKeyOf('m.room.history_visibility', '');

/** What a server gets of an event. */
export type Disclosure = 'full' | 'redacted' | 'withheld';

/** The history visibility and the memberships of `server`'s users, in one state. */
interface Standing {
  readonly visibility: string;
  /**
   * The server's users → their membership (read when first asked: a `shared` event needs none
   * when the server has a joined member now).
   */
  memberships(): Promise<ReadonlyMap<string, string>>;
}

function has(memberships: ReadonlyMap<string, string>, membership: string): boolean {
  for (const m of memberships.values()) if (m === membership) return true;
  return false;
}

/** What a server may read of one room: computed once per request. */
export class ServerView {
  readonly #ctx: EngineContext;
  readonly #server: string;
  readonly #roomId: string;
  readonly #snapshots = new Map<SnapshotId, Promise<Standing>>();
  #now: Promise<{ readonly joined: boolean; readonly standing: boolean }> | undefined;
  /**
   * The member state keys of the server's users in the room's current state (read once per
   * view). A state before it is asked for these keys only — point look-ups, where reading every
   * member of a 20k-member room for each event's state made a 100-event backfill take ~1 s. (A
   * user of the server with a member event in an older state but none now would be missed: it
   * could only make that state show the server less, never more.)
   */
  #keys: Promise<readonly string[]> | undefined;

  constructor(ctx: EngineContext, server: string, roomId: string) {
    this.#ctx = ctx;
    this.#server = server;
    this.#roomId = roomId;
  }

  /** Whether the server has a joined member now, and whether it has any member event (standing). */
  now(): Promise<{ readonly joined: boolean; readonly standing: boolean }> {
    this.#now ??= (async () => {
      const room = await this.#ctx.store.getRoom(this.#roomId);
      if (room?.currentState === undefined) return { joined: false, standing: false };
      const m = await (await this.#standingIn(room.currentState)).memberships();
      return { joined: has(m, 'join'), standing: m.size > 0 };
    })();
    return this.#now;
  }

  /** See {@link #keys}. */
  #serverKeys(): Promise<readonly string[]> {
    this.#keys ??= memberKeysOf(this.#ctx, this.#roomId, this.#server);
    return this.#keys;
  }

  #standingIn(snapshot: SnapshotId): Promise<Standing> {
    let p = this.#snapshots.get(snapshot);
    if (p === undefined) {
      p = (async () => {
        const [hv] = await this.#ctx.store.getStateEntries(snapshot, [HV_KEY]);
        const content = hv === undefined ? undefined : (await this.#ctx.store.getEvent(hv))?.json['content'];
        const visibility = isJsonObject(content) && typeof content['history_visibility'] === 'string' ? content['history_visibility'] : 'shared';
        let memberships: Promise<ReadonlyMap<string, string>> | undefined;
        return { visibility, memberships: () => (memberships ??= this.#membershipsIn(snapshot)) };
      })();
      this.#snapshots.set(snapshot, p);
    }
    return p;
  }

  /** The memberships of the server's users in a state: point look-ups of their member keys. */
  async #membershipsIn(snapshot: SnapshotId): Promise<ReadonlyMap<string, string>> {
    const found = await this.#ctx.store.getStateEntries(snapshot, await this.#serverKeys());
    const ids: string[] = [];
    for (const id of found) if (id !== undefined) ids.push(id);
    const events = await this.#ctx.store.getEvents(ids);
    const memberships = new Map<string, string>();
    for (const e of events.values()) {
      const content = e.json['content'];
      if (isJsonObject(content) && typeof content['membership'] === 'string' && e.stateKey !== undefined) memberships.set(e.stateKey, content['membership']);
    }
    return memberships;
  }

  /**
   * Whether a state (visibility and this server's memberships in it) lets the server see an event.
   * (The rules in another order than the module comment's — any one of them showing the event
   * is enough — so that a `shared` event is settled by the server's joined member now, without
   * reading its memberships in that state.)
   */
  async #allows(s: Standing): Promise<boolean> {
    if (s.visibility === 'world_readable') return true;
    if (s.visibility === 'shared' && (await this.now()).joined) return true;
    const m = await s.memberships();
    if (has(m, 'join')) return true;
    return s.visibility === 'invited' && has(m, 'invite');
  }

  /** Whether the server may see `e` (see the module comment). */
  async visible(e: StoredEvent): Promise<boolean> {
    if (e.stateBefore === undefined) return (await this.now()).joined; // an outlier: shared
    const before = await this.#standingIn(e.stateBefore);
    // The state after the event: the event itself changes it when it is our member event or the visibility.
    let after: Standing = before;
    const content = e.json['content'];
    if (e.stateKey !== undefined && isJsonObject(content)) {
      if (e.type === 'm.room.history_visibility' && e.stateKey === '' && typeof content['history_visibility'] === 'string') {
        after = { visibility: content['history_visibility'], memberships: before.memberships };
        if (await this.#allows(before)) return true; // the more permissive of before and after
      } else if (e.type === 'm.room.member' && domainOf(e.stateKey) === this.#server && typeof content['membership'] === 'string') {
        const key = e.stateKey;
        const membership = content['membership'];
        after = { visibility: before.visibility, memberships: async () => new Map([...await before.memberships(), [key, membership]]) };
      }
    }
    return this.#allows(after);
  }

  /** What the server gets of `e`: all of it, a redacted copy (it has standing), or nothing. */
  async disclosure(e: StoredEvent): Promise<Disclosure> {
    if (await this.visible(e)) return 'full';
    return (await this.now()).standing ? 'redacted' : 'withheld';
  }

  /** `e` as the server may have it (`undefined`: withheld). */
  async filter(e: StoredEvent): Promise<JsonObject | undefined> {
    const d = await this.disclosure(e);
    if (d === 'full') return e.json;
    if (d === 'withheld') return undefined;
    const room = await this.#ctx.store.getRoom(this.#roomId);
    return room === undefined ? undefined : redact(e.json, this.#ctx.versions.get(room.roomVersion));
  }
}
