#!/usr/bin/env node
// Two `roomgraph serve` processes federating over HTTPS on 127.0.0.1: a test CA and a certificate
// are made in a temporary directory (verification stays on: each node trusts the test CA), then
// a.example-like node A creates a room, node B joins it (make_join / send_join), both send
// messages, A is stopped while B sets the topic (B's queue holds it), A restarts and catches up,
// and both print the same state. Run after set-up: `npm run demo:federation` (or
// `node scripts/federation-demo.mjs [--keep]`; --keep leaves the directory for inspection).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generate } from 'selfsigned';

const BIN = fileURLToPath(new URL('../packages/cli/bin/roomgraph.mjs', import.meta.url));
const keep = process.argv.includes('--keep');
const dir = mkdtempSync(join(tmpdir(), 'roomgraph-federation-demo-'));
const say = (s = '') => process.stdout.write(`${s}\n`);

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

async function certificates() {
  const ext = { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' };
  const ca = await generate([{ name: 'commonName', value: 'roomgraph demo CA' }], { ...ext, extensions: [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true }] });
  const leaf = await generate([{ name: 'commonName', value: 'localhost' }], { ...ext, ca: { key: ca.private, cert: ca.cert }, extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }] });
  writeFileSync(join(dir, 'ca.pem'), ca.cert);
  writeFileSync(join(dir, 'cert.pem'), leaf.cert);
  writeFileSync(join(dir, 'key.pem'), leaf.private);
}

/** Starts `roomgraph serve` for a node; resolves once it listens. */
function serve(name, port, label) {
  const child = spawn(process.execPath, [BIN, 'serve', '--server-name', name, '--listen', `127.0.0.1:${port}`,
    '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem'), '--tls-ca', join(dir, 'ca.pem'),
    '--signing-key', join(dir, `${label}.key`), '--store', join(dir, label)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const waiting = [];
  createInterface({ input: child.stdout }).on('line', (l) => waiting.shift()?.(JSON.parse(l)));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const node = {
    name,
    cmd(c) {
      return new Promise((resolve, reject) => {
        waiting.push((r) => (r.error ? reject(new Error(`${label}: ${c.op}: ${r.error.code}: ${r.error.message}`)) : resolve(r)));
        child.stdin.write(`${JSON.stringify(c)}\n`);
      });
    },
    stop() { child.stdin.end(); return exited; },
  };
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stderr }).on('line', (l) => { if (l.includes('listening on')) resolve(node); });
    void exited.then((code) => reject(new Error(`${label} exited with ${code} before listening`)));
  });
}

const portA = await freePort();
const portB = await freePort();
const A = `127.0.0.1:${portA}`;
const B = `127.0.0.1:${portB}`;
const alice = `@alice:${A}`;
const bob = `@bob:${B}`;
await certificates();
say(`roomgraph federation demo — two 'roomgraph serve' processes over HTTPS, in ${dir}`);
let a = await serve(A, portA, 'a');
const b = await serve(B, portB, 'b');
say(`1. ${A} and ${B} are up (each trusts the demo CA; certificates are verified)`);
const { room_id: room } = await a.cmd({ op: 'create_room', creator: alice, room_version: '10', preset: 'public_chat' });
say(`2. ${alice} creates ${room}`);
const joined = await b.cmd({ op: 'join', room_id: room, via: A, user_id: bob });
say(`3. ${bob} joins through ${A} (make_join / send_join): ${joined.event_id}`);
const m1 = await a.cmd({ op: 'send', room_id: room, sender: alice, type: 'm.room.message', content: { msgtype: 'm.text', body: 'hello bob' } });
const m2 = await b.cmd({ op: 'send', room_id: room, sender: bob, type: 'm.room.message', content: { msgtype: 'm.text', body: 'hello alice' } });
await b.cmd({ op: 'wait', room_id: room, event_id: m1.event_id, timeout_ms: 20000 });
await a.cmd({ op: 'wait', room_id: room, event_id: m2.event_id, timeout_ms: 20000 });
say('4. messages both ways (PUT /send, signed with X-Matrix):');
for (const e of (await a.cmd({ op: 'messages', room_id: room, limit: 10 })).events.filter((x) => x.type === 'm.room.message')) say(`   ${e.sender}: ${e.content.body}`);
const pl = await a.cmd({ op: 'send', room_id: room, sender: alice, type: 'm.room.power_levels', state_key: '', content: { users: { [alice]: 100, [bob]: 50 }, users_default: 0, events_default: 0, state_default: 50, ban: 50, kick: 50, redact: 50, invite: 0 } });
await b.cmd({ op: 'wait', room_id: room, event_id: pl.event_id, timeout_ms: 20000 });
say(`5. ${alice} gives ${bob} power level 50 (a state change over federation)`);
await a.stop();
say(`6. ${A} stops; ${bob} sets the topic (queued durably for ${A})`);
const topic = await b.cmd({ op: 'send', room_id: room, sender: bob, type: 'm.room.topic', state_key: '', content: { topic: 'set while A was down' } });
a = await serve(A, portA, 'a');
const found = await a.cmd({ op: 'wait', room_id: room, event_id: topic.event_id, timeout_ms: 30000 });
say(`7. ${A} restarts on its store; the queue delivers the topic: found=${found.found}`);
const sa = await a.cmd({ op: 'state', room_id: room });
const sb = await b.cmd({ op: 'state', room_id: room });
const same = JSON.stringify(sa) === JSON.stringify(sb);
say(`8. both nodes' state and forward extremities are ${same ? 'identical' : 'DIFFERENT'}: topic ${sa.state['m.room.topic']?.['']}, extremities ${sa.forward_extremities.join(', ')}`);
await a.stop();
await b.stop();
if (!keep) rmSync(dir, { recursive: true, force: true });
say(same && found.found ? 'converged' : 'NOT CONVERGED');
process.exitCode = same && found.found ? 0 : 1;
