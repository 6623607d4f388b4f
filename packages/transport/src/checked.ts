/**
 * Shape checks on what remote servers answer. A remote is untrusted: its answers are checked here
 * before anything reads them (the events inside are then checked like any received PDU).
 *
 * @module
 */
import { isJsonObject, type JsonObject } from '@roomgraph/canonical-json';
import {
  type CallOptions, type InviteRequest, type MakeJoinResponse, type SendKnockResponse, type MissingEventsRequest, type SendJoinResponse, type StateIdsResponse,
  type StateResponse, type Transport, TransportError,
} from './interfaces.js';


function bad(destination: string, method: string, what: string): TransportError {
  return new TransportError('TRANSPORT_BAD_RESPONSE', destination, `${method} from ${destination}: ${what}`);
}

/** The objects of an array answer (anything else in it is not a PDU and is left out). */
function objects(v: unknown, destination: string, method: string, field: string): JsonObject[] {
  if (!Array.isArray(v)) throw bad(destination, method, `${field} is not an array`);
  return v.filter(isJsonObject);
}

/** The strings of an array answer. */
function strings(v: unknown, destination: string, method: string, field: string): string[] {
  if (!Array.isArray(v)) throw bad(destination, method, `${field} is not an array`);
  return v.filter((x): x is string => typeof x === 'string');
}

/**
 * Wraps a {@link Transport} so that every answer has the documented shape: an answer of the wrong
 * shape rejects with `TRANSPORT_BAD_RESPONSE`; non-objects inside PDU lists and non-strings inside
 * ID lists are dropped. The room engine wraps the transport it is given with this.
 */
export function checkedTransport(t: Transport): Transport {
  const template = (d: string, method: string, v: unknown): MakeJoinResponse => {
    if (!isJsonObject(v) || typeof v['roomVersion'] !== 'string' || !isJsonObject(v['event'])) throw bad(d, method, 'no room_version and event template');
    return { roomVersion: v['roomVersion'], event: v['event'] };
  };
  const optional: Partial<Transport> = {};
  // The optional requests are passed through (checked) only when the transport has them.
  const { makeLeave, sendLeave, invite, makeKnock, sendKnock, queuePdus } = t;
  if (makeLeave !== undefined) optional.makeLeave = async (d, roomId, userId, o) => template(d, 'makeLeave', await makeLeave.call(t, d, roomId, userId, o));
  if (sendLeave !== undefined) optional.sendLeave = async (d, roomId, eventId, event, o) => { await sendLeave.call(t, d, roomId, eventId, event, o); };
  if (invite !== undefined) {
    optional.invite = async (d: string, roomId: string, eventId: string, req: InviteRequest, o?: CallOptions): Promise<JsonObject> => {
      const v: unknown = await invite.call(t, d, roomId, eventId, req, o);
      if (!isJsonObject(v)) throw bad(d, 'invite', 'the signed event is not an object');
      return v;
    };
  }
  if (makeKnock !== undefined) optional.makeKnock = async (d, roomId, userId, versions, o) => template(d, 'makeKnock', await makeKnock.call(t, d, roomId, userId, versions, o));
  if (sendKnock !== undefined) {
    optional.sendKnock = async (d: string, roomId: string, eventId: string, event: JsonObject, o?: CallOptions): Promise<SendKnockResponse> => {
      const v: unknown = await sendKnock.call(t, d, roomId, eventId, event, o);
      if (!isJsonObject(v)) throw bad(d, 'sendKnock', 'not an object');
      return { knockRoomState: objects(v['knockRoomState'], d, 'sendKnock', 'knock_room_state') };
    };
  }
  if (queuePdus !== undefined) optional.queuePdus = (destinations, pdus) => queuePdus.call(t, destinations, pdus);
  return {
    ...optional,
    async getEvent(d: string, eventId: string, o?: CallOptions): Promise<JsonObject | undefined> {
      const v: unknown = await t.getEvent(d, eventId, o);
      if (v === undefined) return undefined;
      if (!isJsonObject(v)) throw bad(d, 'getEvent', 'not an object');
      return v;
    },
    async getMissingEvents(d: string, roomId: string, req: MissingEventsRequest, o?: CallOptions): Promise<readonly JsonObject[]> {
      return objects(await t.getMissingEvents(d, roomId, req, o), d, 'getMissingEvents', 'events');
    },
    async getStateIds(d: string, roomId: string, eventId: string, o?: CallOptions): Promise<StateIdsResponse> {
      const v: unknown = await t.getStateIds(d, roomId, eventId, o);
      if (!isJsonObject(v)) throw bad(d, 'getStateIds', 'not an object');
      return { pduIds: strings(v['pduIds'], d, 'getStateIds', 'pdu_ids'), authChainIds: strings(v['authChainIds'], d, 'getStateIds', 'auth_chain_ids') };
    },
    async getState(d: string, roomId: string, eventId: string, o?: CallOptions): Promise<StateResponse> {
      const v: unknown = await t.getState(d, roomId, eventId, o);
      if (!isJsonObject(v)) throw bad(d, 'getState', 'not an object');
      return { pdus: objects(v['pdus'], d, 'getState', 'pdus'), authChain: objects(v['authChain'], d, 'getState', 'auth_chain') };
    },
    async backfill(d: string, roomId: string, from: readonly string[], limit: number, o?: CallOptions): Promise<readonly JsonObject[]> {
      return objects(await t.backfill(d, roomId, from, limit, o), d, 'backfill', 'pdus');
    },
    async getServerKeys(d: string, o?: CallOptions): Promise<JsonObject> {
      const v: unknown = await t.getServerKeys(d, o);
      if (!isJsonObject(v)) throw bad(d, 'getServerKeys', 'not an object');
      return v;
    },
    async makeJoin(d: string, roomId: string, userId: string, versions: readonly string[], o?: CallOptions): Promise<MakeJoinResponse> {
      const v: unknown = await t.makeJoin(d, roomId, userId, versions, o);
      if (!isJsonObject(v) || typeof v['roomVersion'] !== 'string' || !isJsonObject(v['event'])) throw bad(d, 'makeJoin', 'no room_version and event template');
      return { roomVersion: v['roomVersion'], event: v['event'] };
    },
    async sendJoin(d: string, roomId: string, eventId: string, event: JsonObject, o?: CallOptions): Promise<SendJoinResponse> {
      const v: unknown = await t.sendJoin(d, roomId, eventId, event, o);
      if (!isJsonObject(v)) throw bad(d, 'sendJoin', 'not an object');
      const signed = v['event'];
      if (signed !== undefined && !isJsonObject(signed)) throw bad(d, 'sendJoin', 'event is not an object');
      return {
        state: objects(v['state'], d, 'sendJoin', 'state'),
        authChain: objects(v['authChain'], d, 'sendJoin', 'auth_chain'),
        ...(signed !== undefined ? { event: signed } : {}),
      };
    },
    async sendPdus(d: string, pdus: readonly JsonObject[], o?: CallOptions): Promise<Readonly<Record<string, { readonly error?: string }>>> {
      const v: unknown = await t.sendPdus(d, pdus, o);
      if (!isJsonObject(v)) throw bad(d, 'sendPdus', 'not an object');
      const out: Record<string, { error?: string }> = {};
      for (const [id, r] of Object.entries(v)) {
        const error = isJsonObject(r) ? r['error'] : undefined;
        Object.defineProperty(out, id, { value: typeof error === 'string' ? { error } : {}, enumerable: true, writable: true, configurable: true });
      }
      return out;
    },
  };
}
