// PDUs received over HTTPS (`PUT /_matrix/federation/v1/send/{txnId}`, transactions of 50 signed
// PDUs, one in flight, on loopback: X-Matrix signing and verification, TLS, JSON parsing, the
// engine's receipt checks) against the engine's in-process `receivePdus` rate on the same PDUs in
// batches of 50, in the same run. Memory and LevelDB stores. ROOMGRAPH_BENCH_FED_EVENTS sets the
// room size (default 3,000 events: 100 members, then messages).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { RoomEngine } from '@roomgraph/engine';
import { FederationServer, HttpTransport } from '@roomgraph/federation-http';
import { createMemoryStore } from '@roomgraph/store-memory';
import { LevelRoomStore } from '@roomgraph/store-level';
import { StaticKeySource } from '@roomgraph/transport';
import { record } from '../lib/measure.mjs';
import { roomPdus } from '../lib/room-pdus.mjs';

const key = signingKeyFromSeed(new Uint8Array(32).fill(7), 'bench');
const keys = new StaticKeySource({ 'a.example': { [key.keyId]: encodeBase64(key.publicKey) } });
const TXN = 50;

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

async function buildRoom(total) {
  let clock = 1_700_000_000_000;
  const src = await RoomEngine.open({ ownsStore: true, serverName: 'a.example', signingKey: key, store: createMemoryStore(), keys, now: () => (clock += 1) });
  const roomId = await src.createRoom({ roomVersion: '10', creator: '@admin:a.example', preset: 'public_chat' });
  for (let i = 0; i < 100; i++) await src.createLocalEvent(roomId, { type: 'm.room.member', stateKey: `@u${i}:a.example`, sender: `@u${i}:a.example`, content: { membership: 'join' } });
  for (let i = 0; i < total - 105; i++) await src.createLocalEvent(roomId, { type: 'm.room.message', sender: `@u${i % 100}:a.example`, content: { msgtype: 'm.text', body: `message ${i} `.repeat(8) } });
  const pdus = await roomPdus(src, roomId);
  await src.close();
  return pdus;
}

function newStore(kind, dirs) {
  if (kind === 'memory') return createMemoryStore();
  const d = mkdtempSync(join(tmpdir(), 'rg-bench-fed-'));
  dirs.push(d);
  return new LevelRoomStore(d);
}

async function inProcess(pdus, store) {
  const engine = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store, keys });
  const t0 = performance.now();
  for (let i = 0; i < pdus.length; i += TXN) {
    const outs = await engine.receivePdus('a.example', pdus.slice(i, i + TXN));
    if (outs.some((o) => o.status !== 'accepted')) throw new Error('not accepted');
  }
  const ms = performance.now() - t0;
  await engine.close();
  return (pdus.length / ms) * 1000;
}

async function overHttps(pdus, store, tls) {
  const port = await freePort();
  const name = `127.0.0.1:${port}`;
  const engine = await RoomEngine.open({ ownsStore: true, serverName: name, store, keys });
  const server = new FederationServer({ serverName: name, handler: engine, keys, tls: { cert: tls.cert, key: tls.private } });
  await server.listen(port);
  const sender = new HttpTransport({ serverName: 'a.example', signingKey: key, tls: { ca: tls.cert }, retry: { attempts: 1 } });
  const t0 = performance.now();
  for (let i = 0; i < pdus.length; i += TXN) {
    const res = await sender.sendTransaction(name, sender.newTransactionId(), { pdus: pdus.slice(i, i + TXN) });
    if (Object.values(res).some((r) => r.error !== undefined) || Object.keys(res).length !== Math.min(TXN, pdus.length - i)) throw new Error('a PDU was refused');
  }
  const ms = performance.now() - t0;
  await sender.close();
  await server.close();
  await engine.close();
  return (pdus.length / ms) * 1000;
}

export default async function run() {
  const total = Number(process.env.ROOMGRAPH_BENCH_FED_EVENTS ?? 3000);
  const tls = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256', extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }] });
  const pdus = await buildRoom(total);
  console.log(`\n## ${pdus.length} signed v10 PDUs (100 members, messages), transactions of ${TXN}, one in flight, best of 3 rounds`);
  const dirs = [];
  try {
    for (const kind of ['memory', 'level']) {
      let http = 0; let local = 0;
      for (let r = 0; r < 3; r++) {
        local = Math.max(local, await inProcess(pdus, newStore(kind, dirs)));
        http = Math.max(http, await overHttps(pdus, newStore(kind, dirs), tls));
      }
      record(`${pdus.length} PDUs › ${kind} › in-process receivePdus (50 per call)`, local, 'PDUs/s');
      record(`${pdus.length} PDUs › ${kind} › HTTPS /send (50 per transaction)`, http, 'PDUs/s');
      record(`ratio › ${kind} › HTTPS /send / in-process`, http / local, 'x');
      console.log(`  ${kind.padEnd(7)} in-process receivePdus ${local.toFixed(0).padStart(7)} PDUs/s   over HTTPS /send ${http.toFixed(0).padStart(7)} PDUs/s   (${(http / local).toFixed(2)}x)`);
    }
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
