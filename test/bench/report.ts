// Results of the scenarios: every figure, each ratio and target by name, and the Markdown table.
import os from 'node:os';

export interface Target {
  /** What is compared, e.g. "p50 ratio (ours / baseline)". */
  name: string;
  /** The target as text, e.g. "<= 1.5". */
  target: string;
  value: number;
  met: boolean;
}

/** One table row: a figure of ours, the baseline's, their ratio. */
export interface Row {
  metric: string;
  ours: string;
  baseline?: string;
  ratio?: number;
  target?: string;
  met?: boolean;
}

export interface ScenarioResult {
  scenario: string;
  params: Record<string, unknown>;
  /** Every figure measured, by name (numbers in ms, bytes or per second as the name says). */
  figures: Record<string, unknown>;
  /** Ratios ours / baseline, by name. */
  ratios: Record<string, number>;
  targets: Target[];
  rows: Row[];
  /** Correctness observations (what the tests assert on). */
  checks: Record<string, unknown>;
}

export function atMost(name: string, value: number, limit: number, unit = ''): Target {
  return { name, target: `<= ${limit}${unit}`, value, met: value <= limit };
}

export function atLeast(name: string, value: number, limit: number, unit = ''): Target {
  return { name, target: `>= ${limit}${unit}`, value, met: value >= limit };
}

export const ms = (v: number): string =>
  Number.isFinite(v) ? `${v.toFixed(v < 10 ? 2 : 1)} ms` : '–';
/** Memory in MiB (2^20 bytes), as the kernel counts RSS; the targets are read as MiB too. */
export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
export const perSec = (v: number): string => `${v.toFixed(0)}/s`;
export const ratio = (a: number, b: number): number => (b > 0 ? a / b : NaN);

export function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function markdownTable(results: readonly ScenarioResult[]): string {
  const lines = [
    '| scenario | metric | ours | baseline | ratio | target | met |',
    '|---|---|---:|---:|---:|---|:-:|',
  ];
  for (const r of results) {
    for (const row of r.rows) {
      lines.push(
        `| ${[
          r.scenario,
          row.metric,
          row.ours,
          row.baseline ?? '',
          row.ratio !== undefined && Number.isFinite(row.ratio) ? row.ratio.toFixed(2) : '',
          row.target ?? '',
          row.met === undefined ? '' : row.met ? 'yes' : '**no**',
        ]
          .map(cell)
          .join(' | ')} |`,
      );
    }
  }
  return lines.join('\n');
}
