// Events: eventId, redact, parsePdu / parsePduText (validation), buildEvent (hash + sign + validate),
// and buildEvent's draft edit done with immer `produce` vs plain object spreads.
import { getRoomVersion } from '@roomgraph/room-versions';
import { signingKeyFromSeed } from '@roomgraph/crypto';
import { encodeCanonicalJson } from '@roomgraph/canonical-json';
import { buildEvent, eventId, hashAndSignEvent, parsePdu, parsePduText, redact, verifyEventSignatures } from '@roomgraph/events';
import { table, ratio } from '../lib/measure.mjs';
import { memberEvent } from '../lib/events.mjs';

// immer is a benchmark dependency only: measured here against spreads, it lost on this hot path,
// so @roomgraph/events builds drafts with spreads and does not depend on it.
import { produce } from 'immer';

export default async function suite() {
  const v10 = getRoomVersion('10');
  const v11 = getRoomVersion('11');
  const key = signingKeyFromSeed('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1', '1');
  const signer = { serverName: 'example.org', key };
  // A real, correctly hashed and signed version of the shared ~1 KB member event.
  const { signatures: _s, ...unsignedCopy } = memberEvent;
  const signed = hashAndSignEvent({ ...unsignedCopy, signatures: {} }, v10, signer).event;
  const text = encodeCanonicalJson(signed);
  const message = { ...signed, type: 'm.room.message', state_key: undefined, content: { msgtype: 'm.text', body: 'Hello, this is a fairly typical chat message of a hundred characters or so!' } };
  delete message.state_key;
  console.log(`event: m.room.member PDU, ${new TextEncoder().encode(text).length} bytes of canonical JSON`);

  const ids = await table('event ID and redaction (1 KB member event)', {
    'eventId v10 (redact + encode + sha256)': () => eventId(signed, v10),
    'eventId v11': () => eventId(signed, v11),
    'redact v10': () => redact(signed, v10),
    'redact v11 (message: content emptied)': () => redact(message, v11),
    'encodeCanonicalJson (baseline)': () => encodeCanonicalJson(signed),
  });
  ratio('eventId/encodeCanonicalJson', ids['eventId v10 (redact + encode + sha256)'], ids['encodeCanonicalJson (baseline)']);

  const keyLookup = () => ({ publicKey: key.publicKey });
  const parse = await table('parse + validate (1 KB member event)', {
    'parsePdu (object; copy, freeze, checks, size, ID)': () => parsePdu(signed, v10),
    'parsePdu with known eventId (no hashing)': () => parsePdu(signed, v10, { eventId: '$x' }),
    'parsePduText (text → Pdu)': () => parsePduText(text, v10),
    'JSON.parse (baseline, no checks)': () => JSON.parse(text),
    'verifyEventSignatures (redact + encode + ed25519)': () => verifyEventSignatures(signed, v10, keyLookup),
  });
  ratio('parsePduText/JSON.parse', parse['parsePduText (text → Pdu)'], parse['JSON.parse (baseline, no checks)']);

  const input = {
    roomVersion: v10, type: 'm.room.message', sender: '@alice:example.org', content: message.content,
    prevEvents: ['$Qm3s0b1n4Vc9eLzP7uJt2yXw5kA8dHf6gR1oT3iE0pU'],
    authEvents: memberEvent.auth_events, depth: 1235, originServerTs: 1716312345679, roomId: memberEvent.room_id,
  };
  // The same draft edit that buildEvent does with spreads, written with immer instead.
  const template = { type: '', sender: '', content: {}, prev_events: [], auth_events: [], depth: 0, origin_server_ts: 0, room_id: '', hashes: {}, signatures: {} };
  const immerBuild = () => {
    const draft = produce(template, (d) => {
      d.type = input.type; d.sender = input.sender; d.content = input.content; d.prev_events = input.prevEvents;
      d.auth_events = input.authEvents; d.depth = input.depth; d.origin_server_ts = input.originServerTs; d.room_id = input.roomId;
    });
    return hashAndSignEvent(draft, v10, signer);
  };
  const plainBuild = () => hashAndSignEvent({ ...template, type: input.type, sender: input.sender, content: input.content, prev_events: input.prevEvents, auth_events: input.authEvents, depth: input.depth, origin_server_ts: input.originServerTs, room_id: input.roomId }, v10, signer);
  const build = await table('buildEvent (message, v10)', {
    'buildEvent (hash, sign, ID, validate)': () => buildEvent(input, signer),
    'buildEvent validate:false': () => buildEvent(input, signer, { validate: false }),
    'draft via spreads + hashAndSignEvent': plainBuild,
    'draft via immer produce + hashAndSignEvent': immerBuild,
  });
  ratio('immer draft/spread draft', build['draft via immer produce + hashAndSignEvent'], build['draft via spreads + hashAndSignEvent']);
}
