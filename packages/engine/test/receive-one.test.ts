// RoomEngine.receivePdu (one PDU per call, receipt/receive.ts `receiveOne`): the keys of a PDU
// signed by its sender's server with several keys, as the key source answers them — one fetch,
// several fetches, failed fetches, and a key source that throws — and every outcome the same as
// receivePdus gives the same PDU.
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { signingKeyFromSeed } from '@roomgraph/crypto';
import { addEventSignature } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { createMemoryStore } from '@roomgraph/store-memory';
import { type KeySource, type ServerKey, StaticKeySource } from '@roomgraph/transport';
import { RoomEngine } from '../src/index.js';

const keyA = signingKeyFromSeed(new Uint8Array(32).fill(1), 'a');
const keyB = signingKeyFromSeed(new Uint8Array(32).fill(2), 'b');
const rules = getRoomVersion('10');

/** A room made on a.example (key A): its events, and a message signed with key A, then also with key B. */
async function room(): Promise<{ history: JsonObject[]; twoKeys: JsonObject; onlyB: JsonObject; eventId: string }> {
  let clock = 1_700_000_000_000;
  const src = await RoomEngine.open({ ownsStore: true, serverName: 'a.example', signingKey: keyA, store: createMemoryStore(), keys: new StaticKeySource({}), now: () => (clock += 1) });
  const roomId = await src.createRoom({ roomVersion: '10', creator: '@admin:a.example', preset: 'public_chat' });
  const msg = await src.createLocalEvent(roomId, { type: 'm.room.message', sender: '@admin:a.example', content: { body: 'two keys' } });
  const history = (await src.timeline(roomId, { limit: 100 })).filter((e) => e.eventId !== msg.eventId).map((e) => e.json);
  await src.close();
  const twoKeys = addEventSignature(msg.json, rules, { serverName: 'a.example', key: keyB });
  const sigs = twoKeys['signatures'] as Record<string, Record<string, string>>;
  const onlyB = { ...twoKeys, signatures: { 'a.example': { [keyB.keyId]: sigs['a.example']![keyB.keyId]! } } };
  return { history, twoKeys, onlyB, eventId: msg.eventId };
}

const answer = (k: typeof keyA): ServerKey => ({ serverName: 'a.example', keyId: k.keyId, publicKey: k.publicKey });

/** A key source answering each key ID as `plan` says: a key, none, a rejection, or a synchronous throw. */
function source(plan: Record<string, 'A' | 'B' | 'none' | 'reject' | 'throw' | 'reject-later'>): KeySource & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    getKey(_server: string, keyId: string): Promise<ServerKey | undefined> {
      asked.push(keyId);
      const p = plan[keyId] ?? 'none';
      if (p === 'throw') throw new Error(`key source broke on ${keyId}`);
      if (p === 'reject') return Promise.reject(new Error('unreachable'));
      if (p === 'reject-later') return new Promise((_, reject) => setTimeout(() => reject(new Error('unreachable, later')), 20));
      return Promise.resolve(p === 'A' ? answer(keyA) : p === 'B' ? answer(keyB) : undefined);
    },
  };
}

/** The outcome of `pdu` received alone (receivePdu) and in a batch (receivePdus) after the room's history, imported trusted. */
async function receive(keys: KeySource, pdu: JsonObject, history: readonly JsonObject[]): Promise<{ one: unknown; batch: unknown }> {
  const out: unknown[] = [];
  for (const one of [true, false]) {
    const engine = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store: createMemoryStore(), keys });
    await engine.receivePdus('a.example', history, { trusted: true });
    out.push(one ? await engine.receivePdu('a.example', pdu) : (await engine.receivePdus('a.example', [pdu]))[0]);
    await engine.close();
  }
  return { one: out[0], batch: out[1] };
}

describe('receivePdu: the keys of a PDU signed with several keys', () => {
  it('every key fetched, each answer used (failed fetches: no key), as receivePdus does', async () => {
    const { history, twoKeys, onlyB, eventId } = await room();
    const cases: [Parameters<typeof source>[0], JsonObject, string, string | undefined][] = [
      // One key to fetch.
      [{ [keyB.keyId]: 'B' }, onlyB, 'accepted', undefined],
      [{ [keyB.keyId]: 'reject' }, onlyB, 'dropped', 'signature.missing-key'],
      [{ [keyB.keyId]: 'none' }, onlyB, 'dropped', 'signature.missing-key'],
      // Two: both known; one failing or unknown (the other verifies); a key answered for another's ID.
      [{ [keyA.keyId]: 'A', [keyB.keyId]: 'B' }, twoKeys, 'accepted', undefined],
      [{ [keyA.keyId]: 'reject', [keyB.keyId]: 'B' }, twoKeys, 'accepted', undefined],
      [{ [keyA.keyId]: 'A', [keyB.keyId]: 'reject' }, twoKeys, 'accepted', undefined],
      [{ [keyA.keyId]: 'none', [keyB.keyId]: 'B' }, twoKeys, 'accepted', undefined],
      [{ [keyA.keyId]: 'reject', [keyB.keyId]: 'reject' }, twoKeys, 'dropped', 'signature.missing-key'],
      [{ [keyA.keyId]: 'B', [keyB.keyId]: 'B' }, twoKeys, 'dropped', 'signature.bad-signature'],
      [{ [keyA.keyId]: 'A', [keyB.keyId]: 'A' }, twoKeys, 'dropped', 'signature.bad-signature'],
    ];
    for (const [plan, pdu, status, rule] of cases) {
      const keys = source(plan);
      const { one, batch } = await receive(keys, pdu, history);
      expect(one, JSON.stringify(plan)).toMatchObject({ eventId, status, ...(rule !== undefined ? { rule } : {}) });
      expect(one).toEqual(batch);
      // Every key the PDU names was asked for.
      expect(new Set(keys.asked)).toEqual(new Set(Object.keys(plan)));
    }
  });

  it('a key source that throws: receivePdu fails with its error, and a fetch started before is not left unhandled', async () => {
    const { history, twoKeys, eventId } = await room();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => { unhandled.push(e); };
    process.on('unhandledRejection', onUnhandled);
    try {
      const engine = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store: createMemoryStore(), keys: source({ [keyA.keyId]: 'reject-later', [keyB.keyId]: 'throw' }) });
      await engine.receivePdus('a.example', history, { trusted: true });
      await expect(engine.receivePdu('a.example', twoKeys)).rejects.toThrow('key source broke on ed25519:b');
      // The first fetch rejects after the call failed.
      await new Promise((r) => setTimeout(r, 60));
      expect(unhandled).toEqual([]);
      // Nothing was stored for it; the engine still works.
      expect(await engine.store.getEvent(eventId)).toBeUndefined();
      expect(await engine.receivePdu('a.example', { ...twoKeys, signatures: {} })).toMatchObject({ eventId, status: 'dropped', rule: 'signature.missing-signature' });
      await engine.close();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
