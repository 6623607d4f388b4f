/**
 * An in-process federation: several simulated homeservers in one process, each reachable by name,
 * with network partitions and healing, for tests of engines exchanging a room.
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import {
  type CallOptions, type FederationHandler, type InviteRequest, type MakeJoinResponse, type SendKnockResponse, type MissingEventsRequest, type SendJoinResponse,
  type StateIdsResponse, type StateResponse, type Transport, FederationRefusal, TransportError,
} from './interfaces.js';

/** A handler's optional method, or the refusal a server without it gives (`M_UNRECOGNIZED`). */
function need<F>(destination: string, f: F | undefined, what: string): F {
  if (f === undefined) throw new TransportError('TRANSPORT_REJECTED', destination, `${destination} does not support ${what}`, 'M_UNRECOGNIZED');
  return f;
}

/** Deep-copies JSON so servers never share mutable objects (as over a real network). */
function copy<T>(value: T): T {
  return structuredClone(value);
}

/**
 * Connects {@link FederationHandler}s by server name. `transportFor(a)` gives server `a` a
 * {@link Transport} whose requests reach the other servers' handlers, unless a partition separates
 * them (then they fail with `TRANSPORT_UNREACHABLE`).
 *
 * @example
 * ```ts
 * const net = new InProcessNetwork();
 * net.register('a.example', engineA); net.register('b.example', engineB);
 * net.partition(['a.example'], ['b.example']); // ... later
 * net.heal();
 * ```
 */
export class InProcessNetwork {
  readonly #handlers = new Map<string, FederationHandler>();
  readonly #cut = new Set<string>();
  /** Requests made, for assertions in tests: `[origin, destination, method]`. */
  readonly log: Array<readonly [origin: string, destination: string, method: string]> = [];

  /** Makes `handler` reachable as `serverName`. */
  register(serverName: string, handler: FederationHandler): void {
    this.#handlers.set(serverName, handler);
  }

  /** Removes a server (it becomes unreachable). */
  unregister(serverName: string): void {
    this.#handlers.delete(serverName);
  }

  /** Cuts every link between a server of `a` and a server of `b` (both directions). */
  partition(a: readonly string[], b: readonly string[]): void {
    for (const x of a) for (const y of b) { this.#cut.add(`${x}\u0000${y}`); this.#cut.add(`${y}\u0000${x}`); }
  }

  /** Restores every link. */
  heal(): void {
    this.#cut.clear();
  }

  /** Whether `from` can currently reach `to`. */
  reachable(from: string, to: string): boolean {
    return this.#handlers.has(to) && !this.#cut.has(`${from}\u0000${to}`);
  }

  #route(origin: string, destination: string, method: string, options?: CallOptions): FederationHandler {
    this.log.push([origin, destination, method]);
    if (options?.signal?.aborted === true) throw new TransportError('TRANSPORT_ABORTED', destination, `${method} to ${destination} aborted`);
    const h = this.#handlers.get(destination);
    if (h === undefined || this.#cut.has(`${origin}\u0000${destination}`)) {
      throw new TransportError('TRANSPORT_UNREACHABLE', destination, `${destination} is unreachable from ${origin}`);
    }
    return h;
  }

  /** The {@link Transport} server `origin` uses. */
  transportFor(origin: string): Transport {
    // A handler's refusal (server side) reaches the requesting server as its transport's
    // TRANSPORT_REJECTED error with the same Matrix errcode (client side), as over HTTP.
    const ask = async <T>(d: string, m: string, o: CallOptions | undefined, fn: (h: FederationHandler) => Promise<T>): Promise<T> => {
      const h = this.#route(origin, d, m, o);
      try {
        return copy(await fn(h));
      } catch (e) {
        if (e instanceof FederationRefusal) throw new TransportError('TRANSPORT_REJECTED', d, e.message, e.errcode, { cause: e });
        throw e;
      }
    };
    return {
      getEvent: async (d: string, eventId: string, o?: CallOptions): Promise<JsonObject | undefined> =>
        ask(d, 'getEvent', o, (h) => h.onGetEvent(origin, eventId)),
      getMissingEvents: async (d: string, roomId: string, req: MissingEventsRequest, o?: CallOptions): Promise<readonly JsonObject[]> =>
        ask(d, 'getMissingEvents', o, (h) => h.onGetMissingEvents(origin, roomId, req)),
      getStateIds: async (d: string, roomId: string, eventId: string, o?: CallOptions): Promise<StateIdsResponse> =>
        ask(d, 'getStateIds', o, (h) => h.onGetStateIds(origin, roomId, eventId)),
      getState: async (d: string, roomId: string, eventId: string, o?: CallOptions): Promise<StateResponse> =>
        ask(d, 'getState', o, (h) => h.onGetState(origin, roomId, eventId)),
      backfill: async (d: string, roomId: string, from: readonly string[], limit: number, o?: CallOptions): Promise<readonly JsonObject[]> =>
        ask(d, 'backfill', o, (h) => h.onBackfill(origin, roomId, from, limit)),
      getServerKeys: async (d: string, o?: CallOptions): Promise<JsonObject> =>
        ask(d, 'getServerKeys', o, (h) => h.onGetServerKeys()),
      makeJoin: async (d: string, roomId: string, userId: string, versions: readonly string[], o?: CallOptions): Promise<MakeJoinResponse> =>
        ask(d, 'makeJoin', o, (h) => h.onMakeJoin(origin, roomId, userId, [...versions])),
      sendJoin: async (d: string, roomId: string, eventId: string, event: JsonObject, o?: CallOptions): Promise<SendJoinResponse> =>
        ask(d, 'sendJoin', o, (h) => h.onSendJoin(origin, roomId, eventId, copy(event))),
      sendPdus: async (d: string, pdus: readonly JsonObject[], o?: CallOptions) =>
        ask(d, 'sendPdus', o, (h) => h.onReceivePdus(origin, copy(pdus))),
      makeLeave: async (d: string, roomId: string, userId: string, o?: CallOptions): Promise<MakeJoinResponse> =>
        ask(d, 'makeLeave', o, (h) => need(d, h.onMakeLeave, 'make_leave').call(h, origin, roomId, userId)),
      sendLeave: async (d: string, roomId: string, eventId: string, event: JsonObject, o?: CallOptions): Promise<void> => {
        await ask(d, 'sendLeave', o, (h) => need(d, h.onSendLeave, 'send_leave').call(h, origin, roomId, eventId, copy(event)));
      },
      invite: async (d: string, roomId: string, eventId: string, req: InviteRequest, o?: CallOptions): Promise<JsonObject> =>
        ask(d, 'invite', o, (h) => need(d, h.onInvite, 'invite').call(h, origin, roomId, eventId, copy(req))),
      makeKnock: async (d: string, roomId: string, userId: string, versions: readonly string[], o?: CallOptions): Promise<MakeJoinResponse> =>
        ask(d, 'makeKnock', o, (h) => need(d, h.onMakeKnock, 'make_knock').call(h, origin, roomId, userId, [...versions])),
      sendKnock: async (d: string, roomId: string, eventId: string, event: JsonObject, o?: CallOptions): Promise<SendKnockResponse> =>
        ask(d, 'sendKnock', o, (h) => need(d, h.onSendKnock, 'send_knock').call(h, origin, roomId, eventId, copy(event))),
    };
  }
}
