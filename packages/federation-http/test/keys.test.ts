/** HttpKeySource: self-signed key objects, validity, old keys, notary fallback, caching. */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { encodeBase64, signJson, signingKeyFromSeed, type SigningKey } from '@roomgraph/crypto';
import { MemoryKeyCache } from '@roomgraph/transport';
import { HttpKeySource, type KeyFetcher } from '@roomgraph/federation-http';

const DAY = 24 * 3600_000;
const k1 = signingKeyFromSeed(new Uint8Array(32).fill(1), 'one');
const k2 = signingKeyFromSeed(new Uint8Array(32).fill(2), 'two');
const notaryKey = signingKeyFromSeed(new Uint8Array(32).fill(3), 'n');

function keyObject(server: string, key: SigningKey, validUntil: number, old: Record<string, { key: string; expired_ts: number }> = {}, signer = key): JsonObject {
  return signJson({ server_name: server, valid_until_ts: validUntil, verify_keys: { [key.keyId]: { key: encodeBase64(key.publicKey) } }, old_verify_keys: old }, server, signer);
}

function fetcher(direct: Record<string, JsonObject | Error>, notary: Record<string, JsonObject[]> = {}) {
  const calls: string[] = [];
  const f: KeyFetcher = {
    getServerKeys: async (d) => { calls.push(`direct ${d}`); const v = direct[d]; if (v === undefined || v instanceof Error) throw v ?? new Error('unreachable'); return v; },
    queryKeys: async (n, criteria) => { calls.push(`notary ${n} ${Object.keys(criteria).join(',')}`); return notary[n] ?? []; },
  };
  return { f, calls };
}

describe('HttpKeySource', () => {
  it('accepts a self-signed key object, caches it until its validity ends, caps validity at 7 days', async () => {
    let clock = 1_000_000;
    const { f, calls } = fetcher({ 'a.example': keyObject('a.example', k1, 1_000_000 + 30 * DAY) });
    const ks = new HttpKeySource({ fetcher: f, now: () => clock });
    const key = await ks.getKey('a.example', k1.keyId);
    expect(key?.publicKey).toEqual(k1.publicKey);
    expect(key?.validUntilTs).toBe(1_000_000 + 7 * DAY);
    await ks.getKey('a.example', k1.keyId, clock + DAY);
    expect(calls).toEqual(['direct a.example']);
    clock += 8 * DAY;
    await ks.getKey('a.example', k1.keyId);
    expect(calls).toEqual(['direct a.example', 'direct a.example']);
  });

  it('refuses objects that are not self-signed or name another server', async () => {
    const { f } = fetcher({ 'a.example': keyObject('a.example', k1, Date.now() + DAY, {}, k2), 'b.example': keyObject('c.example', k1, Date.now() + DAY) });
    const ks = new HttpKeySource({ fetcher: f });
    expect(await ks.getKey('a.example', k1.keyId)).toBeUndefined();
    expect(await ks.getKey('b.example', k1.keyId)).toBeUndefined();
  });

  it('reads old_verify_keys with their expired_ts', async () => {
    const { f } = fetcher({ 'a.example': keyObject('a.example', k2, Date.now() + DAY, { [k1.keyId]: { key: encodeBase64(k1.publicKey), expired_ts: 1234 } }) });
    const ks = new HttpKeySource({ fetcher: f });
    const old = await ks.getKey('a.example', k1.keyId, 1000);
    expect(old?.expiredTs).toBe(1234);
    expect(old?.publicKey).toEqual(k1.publicKey);
  });

  it('falls back to a notary; its answer must carry the notary\'s signature too', async () => {
    const obj = keyObject('a.example', k1, Date.now() + DAY);
    const countersigned = signJson(obj, 'notary.example', notaryKey);
    const notarySelf = keyObject('notary.example', notaryKey, Date.now() + DAY);
    const good = fetcher({ 'notary.example': notarySelf }, { 'notary.example': [countersigned] });
    expect((await new HttpKeySource({ fetcher: good.f, notaries: ['notary.example'] }).getKey('a.example', k1.keyId))?.publicKey).toEqual(k1.publicKey);
    expect(good.calls).toEqual(['direct a.example', 'notary notary.example a.example', 'direct notary.example']);
    const unsigned = fetcher({ 'notary.example': notarySelf }, { 'notary.example': [obj] });
    expect(await new HttpKeySource({ fetcher: unsigned.f, notaries: ['notary.example'] }).getKey('a.example', k1.keyId)).toBeUndefined();
  });

  it('remembers failures for a while (no request storm) and writes fetched keys to a persistent cache', async () => {
    let clock = 0;
    const { f, calls } = fetcher({});
    const cache = new MemoryKeyCache();
    const ks = new HttpKeySource({ fetcher: f, now: () => clock, negativeCacheMs: 1000, cache });
    await ks.getKey('down.example', 'ed25519:x');
    await ks.getKey('down.example', 'ed25519:x');
    expect(calls).toHaveLength(1);
    clock = 2000;
    await ks.getKey('down.example', 'ed25519:x');
    expect(calls).toHaveLength(2);
    const ok = fetcher({ 'a.example': keyObject('a.example', k1, 10 * DAY) });
    await new HttpKeySource({ fetcher: ok.f, now: () => 0, cache }).getKey('a.example', k1.keyId);
    expect((await cache.getServerKey('a.example', k1.keyId))?.publicKey).toEqual(k1.publicKey);
  });
});
