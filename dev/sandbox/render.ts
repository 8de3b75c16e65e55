// Text for the sandbox's terminal: both catalogs (side by side when the terminal is wide enough,
// else one above the other) and the recent events. Pure: strings in, lines out.
import type { Catalogs, ConsulServiceView, InstanceView, K8sServiceView } from './catalogs.js';
import type { SandboxEvent } from './events.js';

export const TO_CONSUL_TITLE = 'Kubernetes services → Consul instances';
export const TO_K8S_TITLE = 'Consul services → Kubernetes ExternalName services';
/** Below this width the two catalogs are stacked instead of side by side. */
export const SIDE_BY_SIDE_MIN_WIDTH = 110;
const SEPARATOR = ' │ ';

function instanceLine(i: InstanceView): string {
  const health = i.checks.length > 0 ? i.health : 'no check';
  const node = i.k8sNode ? `  node ${i.k8sNode}` : '';
  return `  → ${i.service}  ${i.address}:${i.port}  ${health}${node}`;
}

function k8sServiceLines(s: K8sServiceView): string[] {
  const extra = s.externalIPs.length > 0 ? `, externalIPs ${s.externalIPs.join(',')}` : '';
  const lines = [`${s.namespace}/${s.name}  (${s.type}${extra})`];
  for (const i of s.instances) lines.push(instanceLine(i));
  if (s.note) lines.push(`  ${s.note}`);
  return lines;
}

function consulServiceLines(s: ConsulServiceView): string[] {
  const tags = s.tags.length > 0 ? `  [${s.tags.join(',')}]` : '';
  const count = s.instances === 0 ? '' : `  ${s.instances} instance${s.instances === 1 ? '' : 's'}`;
  const lines = [`${s.name}${tags}${count}`];
  if (s.mirror) {
    lines.push(
      `  → ${s.mirror.namespace}/${s.mirror.name}  ${s.mirror.type} ${s.mirror.externalName}`,
    );
  }
  if (s.note) lines.push(`  ${s.note}`);
  return lines;
}

/** The two catalogs as two columns of lines, each with its title. */
export function catalogColumns(catalogs: Catalogs): { left: string[]; right: string[] } {
  const left = [TO_CONSUL_TITLE, ...catalogs.toConsul.flatMap(k8sServiceLines)];
  const right = [TO_K8S_TITLE, ...catalogs.toK8s.flatMap(consulServiceLines)];
  if (catalogs.toConsul.length === 0) left.push('  (no services)');
  if (catalogs.toK8s.length === 0) right.push('  (no services)');
  return { left, right };
}

/** Cuts a line to `width` characters, marking the cut with an ellipsis. */
export function fit(line: string, width: number): string {
  const chars = [...line];
  if (chars.length <= width) return line;
  return width <= 1 ? chars.slice(0, width).join('') : chars.slice(0, width - 1).join('') + '…';
}

function pad(line: string, width: number): string {
  const cut = fit(line, width);
  return cut + ' '.repeat(Math.max(0, width - [...cut].length));
}

const length = (line: string): number => [...line].length;

/**
 * Both catalogs: side by side at `width` ≥ SIDE_BY_SIDE_MIN_WIDTH, else stacked; 0 = stacked
 * and uncut (a pipe or a log). Side by side, the whole width is used: the left column is as wide
 * as its longest line when the right one still fits (and never narrower than half), and a line
 * is cut only where it would not fit.
 */
export function renderCatalogs(catalogs: Catalogs, width = 0): string[] {
  const { left, right } = catalogColumns(catalogs);
  if (width < SIDE_BY_SIDE_MIN_WIDTH) return [...left, '', ...right];
  const room = width - SEPARATOR.length;
  const leftNeed = Math.max(...left.map(length));
  const rightNeed = Math.max(...right.map(length));
  const leftCol = Math.min(leftNeed, Math.max(Math.floor(room / 2), room - rightNeed));
  const rightCol = room - leftCol;
  const rows = Math.max(left.length, right.length);
  const out: string[] = [];
  for (let i = 0; i < rows; i++) {
    out.push((pad(left[i] ?? '', leftCol) + SEPARATOR + fit(right[i] ?? '', rightCol)).trimEnd());
  }
  return out;
}

/**
 * The width to draw at: the terminal's columns; where a terminal does not say (0 or unknown),
 * $COLUMNS, else 80.
 */
export function terminalWidth(
  out: { columns?: number | undefined },
  env: NodeJS.ProcessEnv = process.env,
): number {
  if (out.columns !== undefined && out.columns > 0) return out.columns;
  const columns = Number(env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : 80;
}

function clock(at: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}.${String(at.getMilliseconds()).padStart(3, '0')}`;
}

/** `12:01:02.123  admission     shop/web  UPDATE services  2.1 ms` (status shown when not 200). */
export function formatEvent(e: SandboxEvent): string {
  const status = e.status === 200 ? '' : `  → ${e.status}`;
  const took = e.source === 'auth' ? '' : `  ${e.durationMs.toFixed(1)} ms`;
  return `${clock(e.at)}  ${e.source.padEnd(12)}  ${e.subject}  ${e.detail}${status}${took}`;
}

export function renderEvents(events: readonly SandboxEvent[]): string[] {
  if (events.length === 0) return ['Recent events', '  (none yet)'];
  return ['Recent events', ...events.map((e) => `  ${formatEvent(e)}`)];
}
