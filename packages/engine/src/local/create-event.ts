/**
 * Creating a local event (Server-Server API › PDUs; › Checks performed on receipt of a PDU, which
 * a server's own events pass too): built in its frame (`frame.ts`), hashed and signed by this
 * server, then run through the receipt pipeline without the signature stage (it is ours) and
 * without the soft-fail check (it is built where the caller says); a rejected one stores nothing.
 *
 * @module
 */
import { type Pdu, buildEvent } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { type EngineContext, NESTING_TOP, signerOf } from '../context.js';
import { EngineError } from '../errors.js';
import type { LocalEventTemplate, PduOutcome } from '../types.js';
import { eventFrame } from './frame.js';

/** Runs a local event through the receipt pipeline (in the room's lock, which the caller holds). */
export function processLocal(ctx: EngineContext, pdu: Pdu, rules: RoomVersionRules, roomId: string): Promise<PduOutcome> {
  return ctx.process({ origin: ctx.serverName, pdu, rules, roomId, nesting: NESTING_TOP, trusted: true, local: true });
}

/**
 * Creates, signs, auth-checks and stores a local event (not waiting for durability: callers wrap it).
 * @throws {@link EngineError} `ENGINE_UNKNOWN_ROOM`, `ENGINE_AUTH_FAILED` (nothing is stored), `ENGINE_NO_SIGNING_KEY`.
 */
export async function createLocalEvent(ctx: EngineContext, roomId: string, template: LocalEventTemplate): Promise<Pdu> {
  await ctx.outbox.ready();
  return ctx.locks.withRoom(roomId, async () => {
    const room = await ctx.store.getRoom(roomId);
    if (room === undefined) throw new EngineError('ENGINE_UNKNOWN_ROOM', `unknown room ${roomId}`);
    const rules = ctx.versions.get(room.roomVersion);
    const frame = await eventFrame(ctx, room, rules, template);
    const pdu = buildEvent({
      roomVersion: rules,
      type: template.type,
      ...(template.stateKey !== undefined ? { stateKey: template.stateKey } : {}),
      sender: template.sender,
      content: template.content,
      prevEvents: frame.prevEvents,
      authEvents: frame.authEvents,
      depth: frame.depth,
      originServerTs: template.originServerTs ?? ctx.now(),
      roomId,
      ...(template.redacts !== undefined ? { redacts: template.redacts } : {}),
    }, signerOf(ctx));
    const outcome = await processLocal(ctx, pdu, rules, roomId);
    if (outcome.status !== 'accepted') {
      throw new EngineError('ENGINE_AUTH_FAILED', `local event ${outcome.status}: ${outcome.reason ?? ''}`, outcome.rule);
    }
    return pdu;
  });
}
