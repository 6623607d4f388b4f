// Crypto: signJson/verifyJson vs raw node:crypto on the same canonical bytes; node vs noble
// backends; sha256 on both backends.
import * as nodeCrypto from 'node:crypto';
import {
  signJson, verifyJson, signingKeyFromSeed, signingBytes, nodeBackend, nobleBackend, sha256, sha256Utf8, sha256Utf8Base64,
  computeContentHash, decodeBase64,
} from '@roomgraph/crypto';
import { table, ratio } from '../lib/measure.mjs';
import { memberEvent } from '../lib/events.mjs';

export default async function suite() {
  const key = signingKeyFromSeed('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1', '1');
  const { signatures: _s, unsigned: _u, ...unsignedEvent } = memberEvent;
  const bytes = signingBytes(memberEvent);
  const signed = signJson(unsignedEvent, 'example.org', key);
  const sig = decodeBase64(signed.signatures['example.org']['ed25519:1']);
  // Raw baseline: node:crypto with a prebuilt KeyObject, on the same canonical bytes (no encoding).
  const priv = nodeCrypto.createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), key.seed]), format: 'der', type: 'pkcs8' });
  const pub = nodeCrypto.createPublicKey(priv);
  console.log(`event: ${bytes.length} bytes signed`);

  const s = await table('sign (1 KB event)', {
    'signJson (node backend)': () => signJson(memberEvent, 'example.org', key),
    'raw node:crypto sign(bytes)': () => nodeCrypto.sign(null, bytes, priv),
    'signingBytes + raw sign (encode, then sign)': () => nodeCrypto.sign(null, signingBytes(memberEvent), priv),
    'JSON.stringify→Buffer + raw sign (floor)': () => nodeCrypto.sign(null, Buffer.from(JSON.stringify(unsignedEvent)), priv),
    'signJson (noble backend)': () => signJson(memberEvent, 'example.org', key, { backend: nobleBackend }),
  });
  ratio('signJson/raw node:crypto sign', s['signJson (node backend)'], s['raw node:crypto sign(bytes)'], 0.9);
  ratio('signJson/(signingBytes + raw sign)', s['signJson (node backend)'], s['signingBytes + raw sign (encode, then sign)']);
  ratio('signJson/(JSON.stringify + raw sign)', s['signJson (node backend)'], s['JSON.stringify→Buffer + raw sign (floor)']);
  ratio('noble signJson/node signJson', s['signJson (noble backend)'], s['signJson (node backend)']);

  const v = await table('verify (1 KB event)', {
    'verifyJson (node backend)': () => verifyJson(signed, 'example.org', 'ed25519:1', key.publicKey),
    'raw node:crypto verify(bytes)': () => nodeCrypto.verify(null, bytes, pub, sig),
    'signingBytes + raw verify': () => nodeCrypto.verify(null, signingBytes(signed), pub, sig),
    'verifyJson (noble backend)': () => verifyJson(signed, 'example.org', 'ed25519:1', key.publicKey, { backend: nobleBackend }),
  });
  ratio('verifyJson/raw node:crypto verify', v['verifyJson (node backend)'], v['raw node:crypto verify(bytes)'], 0.9);
  ratio('verifyJson/(signingBytes + raw verify)', v['verifyJson (node backend)'], v['signingBytes + raw verify']);
  ratio('noble verifyJson/node verifyJson', v['verifyJson (noble backend)'], v['verifyJson (node backend)']);

  const h = await table('sha256 (1 KB) and content hash', {
    'sha256 node': () => sha256(bytes, nodeBackend),
    'sha256 noble': () => sha256(bytes, nobleBackend),
    'computeContentHash (encode + sha256, node)': () => computeContentHash(memberEvent),
  });
  ratio('sha256 noble/node', h['sha256 noble'], h['sha256 node']);

  // A PDU's hashes as the receipt path takes them: of its canonical text, to bytes or to base64.
  // The baselines make the digest as a Buffer (`crypto.hash(…, 'buffer')`), as this package did
  // before 2026-11-27: a Buffer made in C++ per digest costs more than the hash itself.
  const text = Buffer.from(bytes).toString('utf8');
  const unpadded = (b) => b.toString('base64').replace(/=+$/, '');
  const d = await table('sha256 of a PDU text (675 bytes): digest forms', {
    'sha256Utf8 (bytes, node)': () => sha256Utf8(text),
    'baseline: crypto.hash → Buffer': () => nodeCrypto.hash('sha256', text, 'buffer'),
    'sha256Utf8Base64 (content hash form, node)': () => sha256Utf8Base64(text),
    'baseline: crypto.hash → Buffer → base64': () => unpadded(nodeCrypto.hash('sha256', text, 'buffer')),
  });
  ratio('sha256Utf8 / Buffer digest', d['sha256Utf8 (bytes, node)'], d['baseline: crypto.hash → Buffer']);
  ratio('sha256Utf8Base64 / Buffer digest → base64', d['sha256Utf8Base64 (content hash form, node)'], d['baseline: crypto.hash → Buffer → base64']);
}
