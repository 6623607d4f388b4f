/**
 * An in-process federation: several simulated homeservers in one process, each reachable by name,
 * with network partitions and healing, for tests of engines exchanging a room.
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import {
  type CallOptions, type FederationHandler, type InviteRequest, type MakeJoinResponse, type SendKnockResponse, type MissingEventsRequest, type SendJoinResponse,
  type StateIdsResponse, type StateResponse, type Transport, TransportError,
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
    const route = (d: string, m: string, o?: CallOptions): FederationHandler => this.#route(origin, d, m, o);
    return {
      getEvent: async (d: string, eventId: string, o?: CallOptions): Promise<JsonObject | undefined> =>
        copy(await route(d, 'getEvent', o).onGetEvent(origin, eventId)),
      getMissingEvents: async (d: string, roomId: string, req: MissingEventsRequest, o?: CallOptions): Promise<readonly JsonObject[]> =>
        copy(await route(d, 'getMissingEvents', o).onGetMissingEvents(origin, roomId, req)),
      getStateIds: async (d: string, roomId: string, eventId: string, o?: CallOptions): Promise<StateIdsResponse> =>
        copy(await route(d, 'getStateIds', o).onGetStateIds(origin, roomId, eventId)),
      getState: async (d: string, roomId: string, eventId: string, o?: CallOptions): Promise<StateResponse> =>
        copy(await route(d, 'getState', o).onGetState(origin, roomId, eventId)),
      backfill: async (d: string, roomId: string, from: readonly string[], limit: number, o?: CallOptions): Promise<readonly JsonObject[]> =>
        copy(await route(d, 'backfill', o).onBackfill(origin, roomId, from, limit)),
      getServerKeys: async (d: string, o?: CallOptions): Promise<JsonObject> =>
        copy(await route(d, 'getServerKeys', o).onGetServerKeys()),
      makeJoin: async (d: string, roomId: string, userId: string, versions: readonly string[], o?: CallOptions): Promise<MakeJoinResponse> =>
        copy(await route(d, 'makeJoin', o).onMakeJoin(origin, roomId, userId, [...versions])),
      sendJoin: async (d: string, roomId: string, eventId: string, event: JsonObject, o?: CallOptions): Promise<SendJoinResponse> =>
        copy(await route(d, 'sendJoin', o).onSendJoin(origin, roomId, eventId, copy(event))),
      sendPdus: async (d: string, pdus: readonly JsonObject[], o?: CallOptions) =>
        copy(await route(d, 'sendPdus', o).onReceivePdus(origin, copy(pdus))),
      makeLeave: async (d: string, roomId: string, userId: string, o?: CallOptions): Promise<MakeJoinResponse> =>
        copy(await need(d, route(d, 'makeLeave', o).onMakeLeave, 'make_leave').call(this.#handlers.get(d), origin, roomId, userId)),
      sendLeave: async (d: string, roomId: string, eventId: string, event: JsonObject, o?: CallOptions): Promise<void> => {
        await need(d, route(d, 'sendLeave', o).onSendLeave, 'send_leave').call(this.#handlers.get(d), origin, roomId, eventId, copy(event));
      },
      invite: async (d: string, roomId: string, eventId: string, req: InviteRequest, o?: CallOptions): Promise<JsonObject> =>
        copy(await need(d, route(d, 'invite', o).onInvite, 'invite').call(this.#handlers.get(d), origin, roomId, eventId, copy(req))),
      makeKnock: async (d: string, roomId: string, userId: string, versions: readonly string[], o?: CallOptions): Promise<MakeJoinResponse> =>
        copy(await need(d, route(d, 'makeKnock', o).onMakeKnock, 'make_knock').call(this.#handlers.get(d), origin, roomId, userId, [...versions])),
      sendKnock: async (d: string, roomId: string, eventId: string, event: JsonObject, o?: CallOptions): Promise<SendKnockResponse> =>
        copy(await need(d, route(d, 'sendKnock', o).onSendKnock, 'send_knock').call(this.#handlers.get(d), origin, roomId, eventId, copy(event))),
    };
  }
}
