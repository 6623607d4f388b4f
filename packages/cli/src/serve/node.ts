/**
 * A federating roomgraph node: a room engine on a store, reachable over HTTPS (the federation
 * server of `@roomgraph/federation-http`) and reaching other servers with its HTTP transport and
 * durable outbound queue. `roomgraph serve` runs one and drives it with control commands
 * ({@link FederationNode.run}).
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type JsonObject, type JsonValue, isJsonObject } from '@roomgraph/canonical-json';
import { decodeBase64Any, encodeBase64, type SigningKey } from '@roomgraph/crypto';
import { type RoomEngine, type RoomPreset, createRoomEngine } from '@roomgraph/engine';
import { FederationServer, HttpKeySource, HttpTransport } from '@roomgraph/federation-http';
import type { RoomStore } from '@roomgraph/store';
import { isStoreUrl, storeFor } from '../stores.js';
import type { KeyCache, ServerKey } from '@roomgraph/transport';
import { CliError } from '../framework.js';

/** What a node needs. */
export interface NodeOptions {
  /** This server's name (with the port when it is not 8448). */
  readonly serverName: string;
  /** Where to listen. */
  readonly host: string;
  /** Port to listen on. */
  readonly port: number;
  /** PEM certificate chain file. */
  readonly tlsCertFile: string;
  /** PEM private key file. */
  readonly tlsKeyFile: string;
  /** The signing key. */
  readonly signingKey: SigningKey;
  /** The store location: a LevelDB directory, or a `postgres://` URL (see `../stores.ts`). */
  readonly store: string;
  /** The outbound queue journal (default: `federation-queue.jsonl` in the store directory; required with a URL). */
  readonly queueFile?: string;
  /** Extra CA file to trust. */
  readonly tlsCaFile?: string;
  /** Skip certificate verification of every server (tests only). */
  readonly insecureSkipTlsVerify?: boolean;
  /** Log sink (stderr). */
  readonly log: (line: string) => void;
}

/** The (unopened) store at `location`: chosen by the URL scheme (`../stores.ts`), a directory is LevelDB. */
export function openStore(location: string): RoomStore {
  return storeFor(location);
}

/** The store's server-key table as a key cache (keys survive restarts). */
function storeKeyCache(store: RoomStore): KeyCache {
  return {
    async getServerKey(serverName: string, keyId: string): Promise<ServerKey | undefined> {
      const r = await store.getServerKey(serverName, keyId);
      if (r === undefined) return undefined;
      let publicKey: Uint8Array;
      try { publicKey = decodeBase64Any(r.publicKey); } catch { return undefined; }
      return { serverName, keyId, publicKey, ...(r.validUntilTs !== undefined ? { validUntilTs: r.validUntilTs } : {}), ...(r.expiredTs !== undefined ? { expiredTs: r.expiredTs } : {}) };
    },
    async putServerKeys(keys: readonly ServerKey[]): Promise<void> {
      await store.putServerKeys(keys.map((k) => ({
        server: k.serverName, keyId: k.keyId, publicKey: encodeBase64(k.publicKey),
        ...(k.validUntilTs !== undefined ? { validUntilTs: k.validUntilTs } : {}), ...(k.expiredTs !== undefined ? { expiredTs: k.expiredTs } : {}),
      })));
    },
  };
}


function str(cmd: JsonObject, field: string): string {
  const v = cmd[field];
  if (typeof v !== 'string' || v === '') throw new CliError('BAD_COMMAND', `"${field}" must be a non-empty string`);
  return v;
}

/** How many received EDUs a node keeps for the `edus` command (the oldest are dropped first). */
export const EDU_BUFFER_SIZE = 1000;

/** An EDU as a node received it: its number in arrival order and the authenticated origin. */
interface ReceivedEdu {
  readonly seq: number;
  readonly origin: string;
  readonly edu: JsonObject;
}

/**
 * The EDUs received in `/send` transactions, newest {@link EDU_BUFFER_SIZE} kept. A replayed
 * transaction's EDUs are not passed again (the server answers it from its first result).
 */
class EduBuffer {
  readonly #items: ReceivedEdu[] = [];
  #next = 1;

  add(origin: string, edus: readonly JsonObject[]): void {
    for (const edu of edus) this.#items.push({ seq: this.#next++, origin, edu });
    if (this.#items.length > EDU_BUFFER_SIZE) this.#items.splice(0, this.#items.length - EDU_BUFFER_SIZE);
  }

  /** Up to `limit` EDUs numbered `since` or later, oldest first, and the number to ask from next. */
  since(since: number, limit: number): { edus: JsonObject[]; next: number } {
    const out = this.#items.filter((x) => x.seq >= since).slice(0, limit);
    const edus = out.map((x): JsonObject => ({ seq: x.seq, origin: x.origin, edu_type: x.edu['edu_type'] ?? null, content: x.edu['content'] ?? null }));
    return { edus, next: out.length > 0 ? out[out.length - 1]!.seq + 1 : Math.max(since, this.#next) };
  }
}

/** A running node. */
export class FederationNode {
  readonly serverName: string;
  readonly engine: RoomEngine;
  readonly transport: HttpTransport;
  readonly server: FederationServer;
  readonly #store: RoomStore;
  readonly #log: (line: string) => void;
  readonly #edus: EduBuffer;
  #closed = false;

  private constructor(serverName: string, engine: RoomEngine, transport: HttpTransport, server: FederationServer, store: RoomStore, log: (l: string) => void, edus: EduBuffer) {
    this.#edus = edus;
    this.serverName = serverName;
    this.engine = engine;
    this.transport = transport;
    this.server = server;
    this.#store = store;
    this.#log = log;
  }

  /** Opens the store and the queue, starts the engine and listens. */
  static async start(o: NodeOptions): Promise<FederationNode> {
    if (o.queueFile === undefined && isStoreUrl(o.store)) throw new CliError('USAGE', '--queue-file is required when --store is a URL (there is no store directory to keep it in)');
    const store = openStore(o.store);
    await store.open();
    const transport = new HttpTransport({
      serverName: o.serverName, signingKey: o.signingKey,
      tls: { ...(o.tlsCaFile !== undefined ? { caFile: o.tlsCaFile } : {}), ...(o.insecureSkipTlsVerify === true ? { insecureSkipVerify: true } : {}) },
      queue: { file: o.queueFile ?? join(o.store, 'federation-queue.jsonl') },
      log: (l) => o.log(l),
    });
    await transport.open();
    const keys = new HttpKeySource({ fetcher: transport, cache: storeKeyCache(store) });
    keys.addStatic({ serverName: o.serverName, keyId: o.signingKey.keyId, publicKey: o.signingKey.publicKey });
    const engine = createRoomEngine({ serverName: o.serverName, signingKey: o.signingKey, store, transport, keys });
    const edus = new EduBuffer();
    const server = new FederationServer({
      serverName: o.serverName, handler: engine, keys,
      // Server-Server API › EDUs: kept for the `edus` command as received (origin authenticated,
      // content not interpreted: typing, receipts and presence are the embedder's business).
      onEdus: (origin, list) => edus.add(origin, list),
      tls: { cert: readFileSync(o.tlsCertFile), key: readFileSync(o.tlsKeyFile) },
      onAuthenticated: (origin) => transport.queue?.wake(origin),
      log: (l) => o.log(l),
    });
    await server.listen(o.port, o.host);
    return new FederationNode(o.serverName, engine, transport, server, store, o.log, edus);
  }

  /** Stops listening, finishes the queue's in-flight work, closes the engine and the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.server.close().catch((e: unknown) => this.#log(`closing the server: ${String(e)}`));
    await this.transport.close().catch((e: unknown) => this.#log(`closing the transport: ${String(e)}`));
    await this.engine.close().catch((e: unknown) => this.#log(`closing the engine: ${String(e)}`));
    await this.#store.close().catch(() => undefined);
  }

  /**
   * Runs one control command (see the CLI README, `serve`) and returns its result object.
   * @throws {@link CliError} `BAD_COMMAND` for a malformed command; engine and transport errors as they are.
   */
  async run(cmd: JsonValue): Promise<JsonObject> {
    if (!isJsonObject(cmd)) throw new CliError('BAD_COMMAND', 'a command is a JSON object');
    const op = cmd['op'];
    const e = this.engine;
    switch (op) {
      case 'create_room': {
        const creator = str(cmd, 'creator');
        const version = cmd['room_version'] === undefined ? '10' : str(cmd, 'room_version');
        // Without a preset, the engine's default: private_chat, as POST /createRoom.
        const preset = cmd['preset'] === undefined ? undefined : str(cmd, 'preset');
        if (preset !== undefined && !isRoomPreset(preset)) throw new CliError('BAD_COMMAND', `unknown preset ${JSON.stringify(preset)}`);
        const roomId = await e.createRoom({ roomVersion: version, creator, ...(preset !== undefined ? { preset } : {}) });
        return { room_id: roomId };
      }
      case 'join': {
        const roomId = str(cmd, 'room_id');
        const userId = str(cmd, 'user_id');
        const via = str(cmd, 'via');
        // Resident already: a local join the engine pushes itself; otherwise make_join / send_join through `via`.
        const o = await e.joinRemoteRoom(roomId, via, userId);
        return { event_id: o.eventId };
      }
      case 'leave': {
        const roomId = str(cmd, 'room_id');
        const userId = str(cmd, 'user_id');
        // Resident: a local leave (queued for the room's servers); an invite only: make_leave / send_leave.
        const via = cmd['via'] === undefined ? undefined : str(cmd, 'via');
        const r = await e.leaveRoom(roomId, userId, via !== undefined ? { via } : {});
        return { event_id: r.eventId };
      }
      case 'invite': {
        const roomId = str(cmd, 'room_id');
        const sender = str(cmd, 'sender');
        const userId = str(cmd, 'user_id');
        // A remote invitee's server countersigns first (PUT /v2/invite); then stored and queued.
        const pdu = await e.inviteUser(roomId, sender, userId);
        return { event_id: pdu.eventId };
      }
      case 'send': {
        const roomId = str(cmd, 'room_id');
        const sender = str(cmd, 'sender');
        const type = str(cmd, 'type');
        const content = cmd['content'] ?? {};
        if (!isJsonObject(content)) throw new CliError('BAD_COMMAND', '"content" must be an object');
        const stateKey = cmd['state_key'];
        if (stateKey !== undefined && typeof stateKey !== 'string') throw new CliError('BAD_COMMAND', '"state_key" must be a string');
        // Stored, then queued for every other server in the room, before the result line.
        const pdu = await e.createLocalEvent(roomId, { type, sender, content, ...(stateKey !== undefined ? { stateKey } : {}) });
        return { event_id: pdu.eventId };
      }
      case 'knock': {
        const r = await e.knockRoom(str(cmd, 'room_id'), str(cmd, 'via'), str(cmd, 'user_id'));
        return { event_id: r.eventId, knock_room_state: [...r.knockRoomState] };
      }
      case 'state': {
        const roomId = str(cmd, 'room_id');
        const state = await e.currentState(roomId);
        return { state: state.toJSON(), forward_extremities: [...(await e.forwardExtremities(roomId))].sort() };
      }
      case 'messages': {
        const roomId = str(cmd, 'room_id');
        const limit = cmd['limit'] === undefined ? 20 : cmd['limit'];
        if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new CliError('BAD_COMMAND', '"limit" must be an integer from 1 to 10000');
        if ((await this.#store.getRoom(roomId)) === undefined) throw new CliError('ENGINE_UNKNOWN_ROOM', `unknown room ${roomId}`);
        const newest: JsonObject[] = [];
        let from: number | undefined;
        // Newest first through the stream, accepted events only (soft-failed and rejected events are not shown).
        for (;;) {
          const page = await e.timeline(roomId, { direction: 'backwards', limit: 500, ...(from !== undefined ? { from } : {}) });
          for (const ev of page) if (ev.status === 'accepted' && newest.length < limit) newest.push({ ...ev.json, event_id: ev.eventId });
          if (page.length < 500 || newest.length >= limit) break;
          from = page[page.length - 1]!.stream - 1;
          if (from < 1) break;
        }
        return { events: newest.reverse() };
      }
      case 'wait': {
        const roomId = str(cmd, 'room_id');
        const eventId = str(cmd, 'event_id');
        const timeout = cmd['timeout_ms'] === undefined ? 10_000 : cmd['timeout_ms'];
        if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 0 || timeout > 3_600_000) throw new CliError('BAD_COMMAND', '"timeout_ms" must be an integer from 0 to 3600000');
        return { found: await this.#waitFor(roomId, eventId, timeout) };
      }
      case 'edus': {
        const since = cmd['since'] === undefined ? 1 : cmd['since'];
        if (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 1) throw new CliError('BAD_COMMAND', '"since" must be a positive integer');
        const limit = cmd['limit'] === undefined ? 100 : cmd['limit'];
        if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > EDU_BUFFER_SIZE) throw new CliError('BAD_COMMAND', `"limit" must be an integer from 1 to ${EDU_BUFFER_SIZE}`);
        return this.#edus.since(since, limit);
      }
      default:
        throw new CliError('BAD_COMMAND', `unknown op ${JSON.stringify(op)}`);
    }
  }

  async #stored(roomId: string, eventId: string): Promise<boolean> {
    const ev = await this.engine.getEvent(eventId);
    return ev !== undefined && ev.roomId === roomId;
  }

  /** Resolves `true` once the event is stored (with any status, outliers included), `false` after `timeoutMs`. */
  async #waitFor(roomId: string, eventId: string, timeoutMs: number): Promise<boolean> {
    let wake: (() => void) | undefined;
    const unsubscribe = this.engine.subscribe((n) => { if (n.kind === 'event' && n.eventId === eventId) wake?.(); });
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        if (await this.#stored(roomId, eventId)) return true;
        const left = deadline - Date.now();
        if (left <= 0) return false;
        // Woken by the engine's notification, or re-checked every 250 ms.
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(left, 250));
          wake = () => { clearTimeout(t); resolve(); };
        });
      }
    } finally {
      unsubscribe();
    }
  }
}

/** The presets `create_room` takes (those of `POST /createRoom`). */
function isRoomPreset(p: string): p is RoomPreset {
  return p === 'public_chat' || p === 'private_chat' || p === 'trusted_private_chat';
}
