/**
 * The CLI reference in Markdown, generated from the commands' own help (flags, input shapes,
 * examples): `docs/cli.md` holds it, and a test checks that it is current
 * (`node scripts/cli-reference.mjs` rewrites it).
 * @packageDocumentation
 */
import { commands } from './commands/index.js';
import { commandHelp } from './framework.js';

/** Every command's `--help` text as Markdown sections, in `roomgraph help` order. */
export function cliReference(): string {
  let out = '';
  for (const c of commands) {
    out += `### \`roomgraph ${c.name}\`\n\n${c.summary}\n\n\`\`\`text\n${commandHelp(c).trimEnd()}\n\`\`\`\n\n`;
  }
  return out;
}
