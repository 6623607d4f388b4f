/**
 * Where a new event goes (Server-Server API › PDUs: `prev_events`, `auth_events`, `depth`; › Auth
 * events selection): its prev events (the given ones, else the room's forward extremities; the
 * deepest `limits.maxPrevEvents`), its auth events selected from the current state, and its depth
 * (one more than its deepest prev event). Used for local events and for `make_join` templates.
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import { type RoomEvent, authEventTypes, toRoomEvent } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import type { RoomInfo } from '@roomgraph/store';
import type { EngineContext } from '../context.js';
import { EngineError } from '../errors.js';
import { loadAuthState } from '../state/auth-state.js';
import { stored } from '../state/vstate.js';
import { byDepthDescThenId } from '../stored.js';

/** What a new event's frame is computed from. */
export interface FrameTemplate {
  readonly type: string;
  readonly stateKey?: string;
  readonly sender: string;
  readonly content: JsonObject;
  /** Override the prev events (default: the forward extremities). */
  readonly prevEvents?: readonly string[];
}

/** A new event's place in the room. */
export interface EventFrame {
  readonly prevEvents: RoomEvent[];
  readonly authEvents: RoomEvent[];
  readonly depth: number;
}

/**
 * The prev events, auth events and depth of a new event of `room`.
 * @throws {@link EngineError} `ENGINE_INVALID_ARGUMENT` when none of the prev events is stored.
 */
export async function eventFrame(ctx: EngineContext, room: RoomInfo, rules: RoomVersionRules, template: FrameTemplate): Promise<EventFrame> {
  const prevIds = template.prevEvents ?? room.forwardExtremities;
  const prevs = [...(await ctx.store.getEvents(prevIds)).values()]
    .sort(byDepthDescThenId)
    .slice(0, ctx.limits.maxPrevEvents);
  if (prevs.length === 0) throw new EngineError('ENGINE_INVALID_ARGUMENT', 'no prev events');
  const current = stored(room.currentState ?? null);
  const skeleton = { type: template.type, stateKey: template.stateKey, sender: template.sender, content: template.content };
  const authMap = await loadAuthState(ctx, rules, current, toRoomEvent({ ...skeleton, state_key: template.stateKey ?? null, content: template.content } as unknown as JsonObject, rules, ''));
  const authEvents: RoomEvent[] = [];
  for (const [t, k] of authEventTypes(skeleton, rules)) {
    const e = authMap.get(t, k);
    if (e !== undefined && !authEvents.includes(e)) authEvents.push(e);
  }
  const maxDepth = Math.max(...prevs.map((p) => p.depth));
  return { prevEvents: prevs.map((p) => ctx.caches.view(p, rules)), authEvents, depth: Math.min(maxDepth + 1, Number.MAX_SAFE_INTEGER) };
}
