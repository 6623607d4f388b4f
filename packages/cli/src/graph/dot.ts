/**
 * The DAG as Graphviz DOT: one node per event (state events as boxes, other events as rounded
 * boxes; rejected, soft-failed, outlier events, forward extremities, merge events that resolved a
 * conflict and the conflict's winners and losers each drawn distinctly), `prev_events` edges
 * drawn from an event up to the events it names, oldest events at the top, and a legend.
 * @packageDocumentation
 */
import type { GraphNode, RoomGraph } from './model.js';
import { shortId, shortType, shortUser } from './model.js';

/** Colours and line styles shared by the DOT, SVG and HTML forms (and the legend). */
export const GRAPH_STYLE = Object.freeze({
  message: { fill: '#e3edfb', line: '#5b7fb5' },
  state: { fill: '#fff3cf', line: '#a07a12' },
  rejected: { fill: '#fde0e0', line: '#c62828' },
  softFailed: { fill: '#ffe9d2', line: '#e65100' },
  outlier: { fill: '#eeeeee', line: '#8a8a8a' },
  extremity: { line: '#0d47a1' },
  merge: { fill: '#f1e4f6', line: '#6a1b9a' },
  won: { line: '#1b7f2a' },
  lost: { line: '#6a1b9a' },
  edge: '#7b8794',
});

function q(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
}

/** The text lines of a node's label. */
export function nodeLabel(n: GraphNode): string[] {
  const head = n.stateKey === undefined ? shortType(n.type) : `${shortType(n.type)} [${n.stateKey === '' ? '""' : shortUser(n.stateKey)}]`;
  const lines = [head, `${shortUser(n.sender)} · ${shortId(n.id)}`];
  if (n.status === 'rejected') lines.push(`✗ rejected${n.rule !== undefined ? `: ${n.rule}` : ''}`);
  if (n.status === 'soft-failed') lines.push(`⚠ soft-failed${n.rule !== undefined ? `: ${n.rule}` : ''}`);
  if (n.status === 'outlier') lines.push('outlier');
  if (n.resolution !== undefined) {
    for (const c of n.resolution.slice(0, 3)) lines.push(`⋈ resolved ${shortType(c.type)}${c.stateKey !== '' ? ` [${shortUser(c.stateKey)}]` : ''} → ${c.winner === undefined ? 'none' : shortId(c.winner, 6)}`);
    if (n.resolution.length > 3) lines.push(`⋈ … ${n.resolution.length - 3} more conflicts`);
  }
  if (n.conflict === 'won') lines.push('✓ won the conflict');
  if (n.conflict === 'lost') lines.push('✗ lost the conflict');
  if (n.extremity) lines.push('▲ forward extremity');
  return lines;
}

/** CSS classes of a node (used by the HTML page and in the SVG). */
export function nodeClasses(n: GraphNode): string {
  const c = ['ev', n.status, n.stateKey !== undefined ? 'state' : 'message'];
  if (n.extremity) c.push('extremity');
  if (n.resolution !== undefined) c.push('merge');
  if (n.conflict !== undefined) c.push(n.conflict);
  return c.join(' ');
}

function nodeAttrs(n: GraphNode, index: number): string {
  const S = GRAPH_STYLE;
  let fill = n.stateKey !== undefined ? S.state.fill : S.message.fill;
  let color = n.stateKey !== undefined ? S.state.line : S.message.line;
  const style = [n.stateKey !== undefined ? 'filled' : 'rounded,filled'];
  let penwidth = 1.2;
  let peripheries = 1;
  if (n.resolution !== undefined) { fill = S.merge.fill; color = S.merge.line; penwidth = 2; }
  if (n.conflict === 'won') { color = S.won.line; penwidth = 2.5; }
  if (n.conflict === 'lost') { color = S.lost.line; penwidth = 2; style.push('dashed'); }
  if (n.status === 'rejected') { fill = S.rejected.fill; color = S.rejected.line; style.push('dashed'); penwidth = 1.6; }
  if (n.status === 'soft-failed') { fill = S.softFailed.fill; color = S.softFailed.line; style.push('dotted'); penwidth = 2; }
  if (n.status === 'outlier') { fill = S.outlier.fill; color = S.outlier.line; }
  if (n.extremity) { color = S.extremity.line; penwidth = 2.5; peripheries = 2; }
  return [
    `id=${q(`n${index}`)}`,
    `class=${q(nodeClasses(n))}`,
    `label=${q(nodeLabel(n).join('\n'))}`,
    `tooltip=${q(n.id)}`,
    `shape=${n.resolution !== undefined ? 'hexagon' : 'box'}`,
    `style=${q(style.join(','))}`,
    `fillcolor=${q(fill)}`,
    `color=${q(color)}`,
    `penwidth=${penwidth}`,
    ...(peripheries > 1 ? [`peripheries=${peripheries}`] : []),
  ].join(', ');
}

/** Options of {@link toDot}. */
export interface DotOptions {
  /** Add the legend (default true). */
  readonly legend?: boolean;
}

/** The graph as a DOT document. */
export function toDot(g: RoomGraph, options: DotOptions = {}): string {
  const index = new Map(g.nodes.map((n, i) => [n.id, i] as const));
  const out: string[] = [];
  out.push('digraph room {');
  const title = `room ${g.roomId} (room version ${g.roomVersion}): ${g.nodes.length} of ${g.totalEvents} events`;
  out.push(`  graph [label=${q(title)}, labelloc=t, fontname="Helvetica", fontsize=14, rankdir=TB, nodesep=0.25, ranksep=0.35, bgcolor="white", tooltip=${q(title)}];`);
  out.push('  node [fontname="Helvetica", fontsize=10, margin="0.08,0.04", height=0.3];');
  out.push(`  edge [color=${q(GRAPH_STYLE.edge)}, arrowsize=0.6, dir=back];`);
  g.nodes.forEach((n, i) => out.push(`  n${i} [${nodeAttrs(n, i)}];`));
  // prev_events: "prev -> event" ranks the older event above; dir=back draws the arrow at the prev.
  for (const [from, to] of g.edges) out.push(`  n${index.get(to)} -> n${index.get(from)} [class="prev"];`);
  for (const [id, count] of g.cut) {
    const i = index.get(id)!;
    out.push(`  cut${i} [label=${q(`… ${count} prev event${count === 1 ? '' : 's'} not drawn`)}, shape=plaintext, fontsize=9, fontcolor="#777777"];`);
    out.push(`  cut${i} -> n${i} [style=dashed, color="#aaaaaa"];`);
  }
  if (options.legend !== false) {
    const S = GRAPH_STYLE;
    out.push('  subgraph cluster_legend {');
    out.push('    label="legend"; fontsize=11; color="#cccccc"; style="rounded";');
    const entries: [string, string][] = [
      ['lg_msg', `label="message (not a state event)", shape=box, style="rounded,filled", fillcolor="${S.message.fill}", color="${S.message.line}"`],
      ['lg_state', `label="state event", shape=box, style=filled, fillcolor="${S.state.fill}", color="${S.state.line}"`],
      ['lg_rej', `label="✗ rejected", shape=box, style="filled,dashed", fillcolor="${S.rejected.fill}", color="${S.rejected.line}", penwidth=1.6`],
      ['lg_soft', `label="⚠ soft-failed", shape=box, style="filled,dotted", fillcolor="${S.softFailed.fill}", color="${S.softFailed.line}", penwidth=2`],
      ['lg_ext', `label="▲ forward extremity", shape=box, style="rounded,filled", fillcolor="${S.message.fill}", color="${S.extremity.line}", penwidth=2.5, peripheries=2`],
      ['lg_merge', `label="⋈ merge: concurrent state\\nchanges resolved here", shape=hexagon, style=filled, fillcolor="${S.merge.fill}", color="${S.merge.line}", penwidth=2`],
      ['lg_won', `label="✓ won / ✗ lost the conflict", shape=box, style=filled, fillcolor="${S.state.fill}", color="${S.won.line}", penwidth=2.5`],
    ];
    for (const [id, attrs] of entries) out.push(`    ${id} [${attrs}];`);
    // A column: invisible edges stack the legend's entries.
    out.push(`    ${entries.map(([id]) => id).join(' -> ')} -> lg_edge_b [style=invis];`);
    out.push('    lg_edge_a [label="event", shape=box, style="rounded,filled", fillcolor="#ffffff", color="#999999"];');
    out.push('    lg_edge_b [label="its prev_event", shape=box, style="rounded,filled", fillcolor="#ffffff", color="#999999"];');
    out.push('    lg_edge_b -> lg_edge_a;');
    out.push('  }');
  }
  out.push('}');
  return out.join('\n') + '\n';
}
