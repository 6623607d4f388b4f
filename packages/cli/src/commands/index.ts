/**
 * The command table of the `roomgraph` CLI. To add a command, create `src/commands/<name>.ts`
 * exporting `command` (built with `defineJsonCommand` or `defineMainCommand`) and add one line here.
 * @packageDocumentation
 */
import type { Command } from '../framework.js';
import { command as canonicalize } from './canonicalize.js';
import { command as contentHash } from './content-hash.js';
import { command as demo } from './demo.js';
import { command as resolve } from './resolve.js';
import { command as sign } from './sign.js';
import { command as verify } from './verify.js';
import { command as eventId } from './event-id.js';
import { command as redact } from './redact.js';
import { command as validate } from './validate.js';
import { command as roomId } from './room-id.js';
import { command as authCheck } from './auth-check.js';
import { command as ingest } from './ingest.js';
import { command as genRoom } from './gen-room.js';
import { command as keygen } from './keygen.js';
import { command as exportRoom } from './export.js';
import { command as state } from './state.js';
import { command as why } from './why.js';
import { command as extremities } from './extremities.js';
import { command as authChain } from './auth-chain.js';
import { command as graph } from './graph.js';
import { command as serve } from './serve.js';

/** Every registered command, in `roomgraph help` order. */
export const commands: readonly Command[] = [
  canonicalize,
  sign,
  verify,
  contentHash,
  resolve,
  eventId,
  redact,
  validate,
  roomId,
  authCheck,
  keygen,
  genRoom,
  ingest,
  exportRoom,
  state,
  why,
  extremities,
  authChain,
  graph,
  demo,
  serve,
];
