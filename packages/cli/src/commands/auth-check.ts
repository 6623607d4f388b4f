/**
 * `roomgraph auth-check`: runs the authorization rules on one event against its auth events.
 * @packageDocumentation
 */
import { isJsonObject, type JsonObject, type JsonValue } from '@roomgraph/canonical-json';
import { checkAuth } from '@roomgraph/auth';
import { decodeBase64Any } from '@roomgraph/crypto';
import { stateLookupOf, toRoomEvent } from '@roomgraph/events';
import { ROOM_VERSIONS } from '@roomgraph/room-versions';
import { CliError, defineJsonCommand } from '../framework.js';
import { requireObject } from './util.js';


/**
 * `roomgraph auth-check`: input `{"room_version":"V","event":{...},"auth_events":[{...}],
 * "server_keys":{"server":{"key_id":"ed25519:K","public_key":"BASE64"}}}` (each event carries its
 * `event_id`, trusted as given) → `{"allowed":true}` or `{"allowed":false,"rule":"...","reason":"..."}`.
 * The auth events are both the state the event is checked against and the list the auth_events
 * rules (checklist F3) inspect.
 *
 * `server_keys` is optional, as in the library: without it the restricted-join rule (F6.2) only
 * checks that the authorising server signed the event (`checkAuth` given no key source); with it,
 * that signature must verify against the key given for that server.
 */
export const command = defineJsonCommand({
  lenientInput: true,
  name: 'auth-check',
  usage: `
Input: {"room_version":"10","event":{<PDU + "event_id">},"auth_events":[{<PDU + "event_id">},...],
        "server_keys":{"<server>":{"key_id":"ed25519:K","public_key":"<base64>"}}}  (server_keys optional)
Output: {"allowed":true} or {"allowed":false,"rule":"<stable rule code>","reason":"..."}.
Example:
  roomgraph auth-check < check.json
`,
  summary: 'check an event against its auth events: {"allowed":true} or {"allowed":false,"rule":...,"reason":...}',
  flags: {},
  run: (input) => {
    const doc = requireObject(input);
    const version = doc['room_version'];
    if (typeof version !== 'string') throw new CliError('BAD_INPUT', 'room_version must be a string');
    const rules = ROOM_VERSIONS.get(version);
    if (rules === undefined) throw new CliError('ROOM_VERSION_UNKNOWN', `unknown room version ${JSON.stringify(version)}`);
    const eventJson = doc['event'];
    if (!isJsonObject(eventJson)) throw new CliError('BAD_INPUT', 'event must be a JSON object');
    const authJson = doc['auth_events'] ?? [];
    if (!Array.isArray(authJson) || !(authJson as readonly JsonValue[]).every(isJsonObject)) {
      throw new CliError('BAD_INPUT', 'auth_events must be an array of JSON objects');
    }
    const keysJson = doc['server_keys'];
    if (keysJson !== undefined && !isJsonObject(keysJson)) throw new CliError('BAD_INPUT', 'server_keys must be a JSON object');
    const idOf = (j: JsonObject): string => (typeof j['event_id'] === 'string' ? j['event_id'] : '');
    const event = toRoomEvent(eventJson, rules, idOf(eventJson));
    const authEvents = (authJson as readonly JsonObject[]).map((j) => toRoomEvent(j, rules, idOf(j)));
    // No server_keys: no key source, exactly as a library caller that passes none.
    const serverKeys = keysJson === undefined ? undefined : (server: string, keyId: string): Uint8Array | undefined => {
      const entry = keysJson[server];
      if (!isJsonObject(entry) || entry['key_id'] !== keyId || typeof entry['public_key'] !== 'string') return undefined;
      try {
        return decodeBase64Any(entry['public_key']);
      } catch {
        return undefined;
      }
    };
    const result = checkAuth(event, stateLookupOf(authEvents), rules, { authEvents, ...(serverKeys !== undefined ? { serverKeys } : {}) });
    const out: JsonObject = result.allowed ? { allowed: true } : { allowed: false, rule: result.rule, reason: result.reason };
    return out;
  },
});
