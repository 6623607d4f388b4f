/**
 * `roomgraph serve`: a roomgraph node federating over HTTPS. It runs a room engine on a store,
 * serves the Server-Server API, and reads control commands on stdin — one JSON object per line,
 * exactly one JSON result line per command on stdout, in order (errors as
 * `{"error":{"code","message"}}`). Logs go to stderr. It ends cleanly at the end of stdin or on
 * SIGTERM (the command in progress finishes, the queue and the store are closed); every result
 * line is written only after what it reports is durable (the event stored and flushed, its
 * delivery journalled), so a SIGKILL loses nothing a result line acknowledged.
 * @packageDocumentation
 */
import { encodeCanonicalJson, parseCanonicalJson, type JsonValue } from '@roomgraph/canonical-json';
import { isValidServerName } from '@roomgraph/events';
import { CliError, EXIT, commandHelp, defineMainCommand, errorObject, parseFlags, stringFlag, writeError } from '../framework.js';
import { type InputLine, inputLines, isBlank } from '../input.js';
import { FederationNode } from '../serve/node.js';
import { loadOrCreateSigningKey } from '../serve/signingKeyFile.js';

/** Splits `HOST:PORT` (`[v6]:PORT` for IPv6). */
function parseListen(v: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(v);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535) throw new CliError('USAGE', `--listen must be HOST:PORT, not ${JSON.stringify(v)}`);
  return { host: m[1] ?? m[2]!, port };
}

/** `roomgraph serve`. */
export const command = defineMainCommand({
  name: 'serve',
  usage: `
Control commands (stdin): one JSON object per line; each gets exactly one JSON result line on stdout,
in order (an error as {"error":{"code","message"}}). Logs go to stderr.
  {"op":"create_room","creator":"@u:NAME","room_version":"10","preset":"public_chat"} -> {"room_id"}
  {"op":"join","room_id":"!r:other","via":"SERVER","user_id":"@u:NAME"}            -> {"event_id"}
  {"op":"leave","room_id","user_id","via"?}                                          -> {"event_id"}
  {"op":"invite","room_id","sender","user_id"}                                       -> {"event_id"}
  {"op":"knock","room_id","via","user_id"}                 -> {"event_id","knock_room_state":[...]}
  {"op":"send","room_id","sender","type","content","state_key"?}                     -> {"event_id"}
  {"op":"state","room_id"}     -> {"state":{type:{state_key:event_id}},"forward_extremities":[...]}
  {"op":"messages","room_id","limit"}    -> {"events":[PDU + event_id, ...]} (accepted, oldest first)
  {"op":"wait","room_id","event_id","timeout_ms"}                           -> {"found":true|false}
  {"op":"edus","since"?:1,"limit"?:100}                                      -> {"edus":[{"seq","origin","edu_type","content"}],"next"}
presets (as POST /createRoom): private_chat (the default: join rule invite, guest access can_join),
trusted_private_chat (the same), public_chat (join rule public).
A result line is written once what it reports is durable (stored, and queued for the other servers),
so a SIGKILL loses nothing acknowledged. End of stdin or SIGTERM: a clean stop.

Example (two nodes on 127.0.0.1 with a test CA; see scripts/federation-demo.sh):
  roomgraph serve --server-name 127.0.0.1:8481 --listen 127.0.0.1:8481 --tls-cert cert.pem \\
    --tls-key key.pem --tls-ca ca.pem --signing-key a.key --store ./a
`,
  summary: 'run a node federating over HTTPS; control commands as JSON lines on stdin, one result line each on stdout',
  flags: {
    'server-name': { type: 'string', description: 'this server\'s name (e.g. 127.0.0.1:8448 or example.org)', required: true },
    listen: { type: 'string', description: 'HOST:PORT to listen on (HTTPS)', required: true },
    'tls-cert': { type: 'string', description: 'PEM certificate (chain) file', required: true },
    'tls-key': { type: 'string', description: 'PEM private key file', required: true },
    'signing-key': { type: 'string', description: 'signing key file ("ed25519 <version> <base64 seed>"); created if missing', required: true },
    store: { type: 'string', description: 'the room store: a LevelDB directory (created if missing), or postgres://user@host/db[?schema=NAME] (one schema per server; --queue-file required)', required: true },
    'tls-ca': { type: 'string', description: 'PEM CA file to trust in addition to the system CAs' },
    'queue-file': { type: 'string', description: 'outbound transaction queue journal (default: federation-queue.jsonl in the store directory)' },
    'insecure-skip-tls-verify': { type: 'boolean', description: 'do not verify other servers\' certificates (tests only)' },
    help: { type: 'boolean', description: 'show help for this command' },
  },
  async main(argv, io) {
    const log = (line: string): void => { io.stderr.write(`roomgraph serve: ${line}\n`); };
    let node: FederationNode | undefined;
    let stop!: () => void;
    const stopped = new Promise<'stop'>((resolve) => { stop = () => resolve('stop'); });
    const onTerm = (): void => {
      log('SIGTERM: finishing the command in progress and stopping');
      stop();
    };
    try {
      const flags = parseFlags(argv, command.flags);
      if (flags.help) {
        io.stdout.write(commandHelp(command));
        return EXIT.OK;
      }
      const serverName = stringFlag(flags, 'server-name');
      if (!isValidServerName(serverName)) throw new CliError('USAGE', `--server-name ${JSON.stringify(serverName)} is not a server name`);
      const { host, port } = parseListen(stringFlag(flags, 'listen'));
      const { key, created } = loadOrCreateSigningKey(stringFlag(flags, 'signing-key'));
      log(`${created ? 'created' : 'loaded'} signing key ${key.keyId}`);
      node = await FederationNode.start({
        serverName, host, port, signingKey: key,
        tlsCertFile: stringFlag(flags, 'tls-cert'), tlsKeyFile: stringFlag(flags, 'tls-key'), store: stringFlag(flags, 'store'),
        ...(typeof flags['tls-ca'] === 'string' ? { tlsCaFile: flags['tls-ca'] } : {}),
        ...(typeof flags['queue-file'] === 'string' ? { queueFile: flags['queue-file'] } : {}),
        ...(flags['insecure-skip-tls-verify'] === true ? { insecureSkipTlsVerify: true } : {}),
        log,
      });
      log(`${serverName} listening on https://${host.includes(':') ? `[${host}]` : host}:${port}`);
      process.once('SIGTERM', onTerm);
      const input = inputLines(io.stdin, 1024 * 1024)[Symbol.asyncIterator]();
      const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
      for (;;) {
        // The next line, unless SIGTERM comes first; a command in progress always finishes.
        const next = await Promise.race([input.next(), stopped]);
        if (next === 'stop' || next.done === true) break;
        const line: InputLine = next.value;
        let out: string;
        try {
          if (line.tooLong === true) throw new CliError('INPUT_TOO_LARGE', `line ${line.lineNo} has ${line.size} bytes, more than 1 MiB`);
          if (isBlank(line.bytes)) throw new CliError('EMPTY_LINE', 'an empty line is not a command');
          let text: string;
          try { text = utf8.decode(line.bytes); } catch { throw new CliError('JSON_INVALID_UTF8', `line ${line.lineNo} is not valid UTF-8`); }
          let cmd: JsonValue;
          try { cmd = parseCanonicalJson(text, { strict: false }); } catch (e) { throw new CliError('NOT_JSON', (e as Error).message); }
          out = encodeCanonicalJson(await node.run(cmd), { strict: false });
        } catch (e) {
          out = JSON.stringify(errorObject(e));
        }
        io.stdout.write(`${out}\n`);
      }
      // Stop reading stdin (it may still be open after SIGTERM) so that the process can exit.
      void input.return?.(undefined);
      (io.stdin as { destroy?: () => void }).destroy?.();
      return EXIT.OK;
    } catch (e) {
      writeError(io.stderr, e);
      return EXIT.ERROR;
    } finally {
      process.off('SIGTERM', onTerm);
      await node?.close();
      log('stopped');
    }
  },
});
