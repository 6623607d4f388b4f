/**
 * Loading one command's module by name: `roomgraph <name>` imports only that command and what it
 * depends on, not every command's (the engine, LevelDB, PostgreSQL, HTTP…). A short-lived process
 * such as `roomgraph resolve` spends most of its start-up loading modules otherwise. The command
 * table itself (`commands/index.ts`, for help and the reference) stays the one list of commands; a
 * test checks that both name the same commands.
 * @packageDocumentation
 */
import type { Command } from '../framework.js';

type Loader = () => Promise<{ readonly command: Command }>;

const loaders: Readonly<Record<string, Loader>> = Object.freeze({
  canonicalize: () => import('./canonicalize.js'),
  sign: () => import('./sign.js'),
  verify: () => import('./verify.js'),
  'content-hash': () => import('./content-hash.js'),
  resolve: () => import('./resolve.js'),
  'event-id': () => import('./event-id.js'),
  redact: () => import('./redact.js'),
  validate: () => import('./validate.js'),
  'room-id': () => import('./room-id.js'),
  'auth-check': () => import('./auth-check.js'),
  keygen: () => import('./keygen.js'),
  'gen-room': () => import('./gen-room.js'),
  ingest: () => import('./ingest.js'),
  export: () => import('./export.js'),
  state: () => import('./state.js'),
  why: () => import('./why.js'),
  extremities: () => import('./extremities.js'),
  'auth-chain': () => import('./auth-chain.js'),
  graph: () => import('./graph.js'),
  demo: () => import('./demo.js'),
  serve: () => import('./serve.js'),
});

/** The names {@link loadCommand} knows (the same as `commands`' names). */
export const loadableCommandNames: readonly string[] = Object.freeze(Object.keys(loaders));

/** The command named `name`, importing only its module; `undefined` for an unknown name. */
export async function loadCommand(name: string): Promise<Command | undefined> {
  const load = Object.hasOwn(loaders, name) ? loaders[name] : undefined;
  if (load === undefined) return undefined;
  const { command } = await load();
  return command.name === name ? command : undefined;
}
