/**
 * `roomgraph graph --store DIR [--room ID] [--around EVENT_ID --depth N] --format svg|dot|html`:
 * a picture of a room's DAG — `prev_events` edges; state events, rejected and soft-failed events
 * and forward extremities drawn distinctly; merge events marked with the conflicts state
 * resolution settled there, and each conflict's winner and losers.
 * @packageDocumentation
 */
import { writeFileSync } from 'node:fs';
import type { RoomStore } from '@roomgraph/store';
import { CliError, EXIT, commandHelp, defineMainCommand, writeError, type Flags } from '../framework.js';
import { toDot } from '../graph/dot.js';
import { toHtml } from '../graph/html.js';
import { readRoomGraph } from '../graph/model.js';
import { dotToSvg } from '../graph/svg.js';
import { ROOM_FLAG, STORE_FLAG, chooseRoom, openExistingStore, parseArgs } from './store-access.js';

function positiveInt(flags: Flags, name: string): number | undefined {
  const v = flags[name];
  if (typeof v !== 'string') return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new CliError('USAGE', `--${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** `roomgraph graph`. */
export const command = defineMainCommand({
  name: 'graph',
  summary: 'draw a room\'s DAG from a store as SVG, Graphviz DOT or a self-contained HTML page',
  flags: {
    store: STORE_FLAG,
    room: ROOM_FLAG,
    format: { type: 'string', description: 'svg (default), dot or html' },
    around: { type: 'string', description: 'draw only the events within --depth prev_events hops of this event' },
    depth: { type: 'string', description: 'hops around --around (default 10)' },
    'max-events': { type: 'string', description: 'refuse to draw more events than this (default 2000)' },
    out: { type: 'string', description: 'write to this file instead of stdout' },
    help: { type: 'boolean', description: 'show help for this command' },
  },
  usage: `
Output: the picture (stdout or --out). Events are drawn oldest at the top, each with an arrow to
the events its prev_events name. State events are square boxes, other events rounded; rejected
events are red and dashed, soft-failed ones orange and dotted, forward extremities have a thick
blue double border; a merge event whose state resolution settled a conflict is a purple hexagon
("⋈ resolved <type> → winner"), and the conflicting events are marked "✓ won" (green) or
"✗ lost" (purple, dashed). A legend is included. SVG needs no Graphviz installation (Graphviz
runs as WebAssembly); the HTML page is one self-contained file (no network) with pan, zoom and the
event JSON on click.

Examples:
  roomgraph graph --store ./db --format html --out room.html
  roomgraph graph --store ./db --around '$someEvent' --depth 6 > part.svg
  roomgraph graph --store ./db --format dot | dot -Tpng > room.png     # with a local Graphviz
`,
  async main(argv, io) {
    let store: RoomStore | undefined;
    try {
      const { flags } = parseArgs(argv, command.flags, 0);
      if (flags.help) {
        io.stdout.write(commandHelp(command));
        return EXIT.OK;
      }
      const format = typeof flags.format === 'string' ? flags.format : 'svg';
      if (format !== 'svg' && format !== 'dot' && format !== 'html') throw new CliError('USAGE', `--format must be svg, dot or html, got ${JSON.stringify(format)}`);
      const depth = positiveInt(flags, 'depth');
      if (depth !== undefined && typeof flags.around !== 'string') throw new CliError('USAGE', '--depth needs --around EVENT_ID');
      const maxEvents = positiveInt(flags, 'max-events');
      store = await openExistingStore(String(flags.store));
      const room = await chooseRoom(store, flags.room);
      const graph = await readRoomGraph(store, room, {
        ...(typeof flags.around === 'string' ? { around: flags.around } : {}),
        ...(depth !== undefined ? { depth } : {}),
        ...(maxEvents !== undefined ? { maxEvents } : {}),
      });
      await store.close();
      store = undefined;
      const dot = toDot(graph);
      const text = format === 'dot' ? dot : format === 'svg' ? await dotToSvg(dot) : toHtml(graph, await dotToSvg(dot));
      if (typeof flags.out === 'string') {
        writeFileSync(flags.out, text);
        io.stderr.write(`roomgraph graph: ${graph.nodes.length} of ${graph.totalEvents} events of ${graph.roomId} -> ${flags.out}\n`);
      } else {
        io.stdout.write(text);
      }
      return EXIT.OK;
    } catch (e) {
      writeError(io.stderr, e);
      return EXIT.ERROR;
    } finally {
      await store?.close().catch(() => undefined);
    }
  },
});
