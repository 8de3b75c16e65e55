// The fuzz run's summary as text: requests by endpoint and status and by family, the fault
// windows, /healthz latency, serve's RSS and log, and every violation class with its first
// instance (what was sent, why it is a violation, and the command that replays it).
import { mib, type FuzzReport } from './suite.js';

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));

export function formatReport(r: FuzzReport): string {
  const lines: string[] = [];
  const secs = (r.durationMs / 1000).toFixed(1);
  lines.push(
    `k8s-consul-sync fuzz: seed ${r.seed}, ${r.count} request(s), serve via ${r.serve}, ${secs} s`,
  );
  lines.push(
    `  phase A (attribution, one at a time, ${r.phases.A.flags.join(' ') || 'defaults'}): ${r.phases.A.requests}`,
  );
  for (const w of r.phases.A.faultWindows)
    lines.push(
      `    fault window #${w.from}-#${w.to}: ${w.name} (503 with a backend code allowed on audit/view/reconcile//readyz; ${w.declared503} seen)`,
    );
  lines.push(
    `  phase B (${r.phases.B.concurrency} in flight, ${r.phases.B.flags.join(' ')}; answers checked, writes not attributed): ${r.phases.B.requests}`,
  );
  lines.push('');
  lines.push('Requests by endpoint and status:');
  const byEndpoint = new Map<string, [string, number][]>();
  for (const [k, n] of Object.entries(r.byEndpointStatus)) {
    const cut = k.lastIndexOf(' ');
    const e = k.slice(0, cut);
    const list = byEndpoint.get(e) ?? [];
    list.push([k.slice(cut + 1), n]);
    byEndpoint.set(e, list);
  }
  for (const [e, list] of [...byEndpoint].sort()) {
    const total = list.reduce((a, [, n]) => a + n, 0);
    lines.push(
      `  ${pad(e, 20)} ${pad(String(total), 6)} ${list
        .sort()
        .map(([s, n]) => `${s}×${n}`)
        .join('  ')}`,
    );
  }
  lines.push('');
  lines.push('Requests by family (and how many of them wrote, in phase A):');
  for (const [f, n] of Object.entries(r.byFamily).sort()) {
    const wrote = r.wroteByFamily[f];
    lines.push(`  ${pad(f, 32)} ${pad(String(n), 6)}${wrote ? ` wrote ${wrote}` : ''}`.trimEnd());
  }
  if (Object.keys(r.backgroundWrites).length > 0) {
    lines.push('');
    lines.push('Writes between requests (phase A, not attributed to any request):');
    for (const [k, n] of Object.entries(r.backgroundWrites)) lines.push(`  ${k} ×${n}`);
  }
  lines.push('');
  lines.push(
    `/healthz: ${r.healthz.polls} polls every 50 ms, max ${r.healthz.maxMs.toFixed(1)} ms, p50 ${r.healthz.p50Ms.toFixed(1)} ms, p99 ${r.healthz.p99Ms.toFixed(1)} ms, over ${r.healthz.limitMs} ms or failed: ${r.healthz.slowCount}`,
  );
  for (const [phase, f] of [
    ['A', r.rss.A],
    ['B', r.rss.B],
  ] as const) {
    if (!f) continue;
    const ratio = f.after / f.idle;
    lines.push(
      `serve RSS, phase ${phase}: ${f.idleAtStart !== undefined ? `idle at start ${mib(f.idleAtStart)}, ` : ''}idle ${mib(f.idle)}, peak ${mib(f.peak)}, after (idle) ${mib(f.afterIdle)}, after (idle, forced GC) ${mib(f.after)} = ${(ratio * 100).toFixed(0)} % of idle (target <= ${Math.round((1 + r.rss.tolerance) * 100)} %)`,
    );
  }
  for (const [phase, l] of [
    ['A', r.log.A],
    ['B', r.log.B],
  ] as const) {
    if (!l) continue;
    const levels = Object.entries(l.byLevel)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    const errors = Object.entries(l.errorEvents)
      .map(([k, n]) => `${k} ×${n}`)
      .join(', ');
    lines.push(
      `serve log, phase ${phase}: ${l.lines} lines (${levels})${errors ? `; errors: ${errors}` : ''}`,
    );
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  lines.push('');
  const total = r.violationClasses.reduce((a, c) => a + c.count, 0);
  if (total === 0) {
    lines.push('No violations.');
  } else {
    lines.push(`${total} violation(s) in ${r.violationClasses.length} class(es):`);
    for (const c of r.violationClasses) {
      const v = c.first;
      lines.push(`  ${c.class} ×${c.count}`);
      lines.push(`    first: #${v.index} (phase ${v.phase}): ${v.detail.slice(0, 400)}`);
      lines.push(`    request: ${v.request.slice(0, 600)}`);
      if (v.replay) lines.push(`    reproduce: ${v.replay}`);
    }
  }
  return lines.join('\n');
}
