// The Grafana dashboard (infra/grafana/) and the monitoring component (PodMonitor and
// PrometheusRule, infra/kubernetes/components/monitoring/) against the server itself (issue 19
// item 12): every metric their PromQL names is one the server's registry exports, the rule has
// the shape the Prometheus Operator accepts and the alerts an operator needs, and the component
// renders on top of the base.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import type { V1Deployment } from '@kubernetes/client-node';
import { createMetrics } from '../../src/telemetry/metrics.js';
import {
  REPO_ROOT,
  findObject,
  kubectlAvailable,
  loadYamlObject,
  parseYamlDocuments,
  readRepoFile,
  renderKustomize,
  KUSTOMIZE_DIRS,
  type KubeObject,
} from './load.js';

const DASHBOARD = 'infra/grafana/k8s-consul-sync.json';
const COMPONENT = 'infra/kubernetes/components/monitoring';
const RULE = `${COMPONENT}/prometheus-rule.yaml`;
const POD_MONITOR = `${COMPONENT}/pod-monitor.yaml`;
const NAMESPACE = 'k8s-consul-sync';

/** Every series name `serve` exposes on GET /metrics (histograms as their three series). */
async function exportedNames(): Promise<Set<string>> {
  const metrics = createMetrics(); // with the process metrics, as serve creates it
  const names = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    const type = String(m.type);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) names.add(m.name + s);
    else names.add(m.name);
  }
  return names;
}

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression (or a Grafana variable query) selects. Strings, label
 * matchers, ranges, grouping clauses and Grafana variables are removed first; of the
 * identifiers left, a function or aggregation is one followed by `(`, the rest are metrics.
 */
export function metricNamesIn(expr: string): string[] {
  let text = expr
    // Grafana's label_values(<selector>, <label>): the label is not a metric.
    .replace(/label_values\(([\s\S]*),\s*[A-Za-z_]\w*\s*\)/g, 'label_values($1)')
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^{}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\$\{[^}]*\}|\$\w+/g, '');
  // A grouping clause goes whole: `sum by (le) (x)` leaves `sum (x)`, an aggregation call.
  text = text.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)/g, ' ');
  const names: string[] = [];
  for (const m of text.matchAll(/(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    const [, name, call] = m;
    if (call || KEYWORDS.has(name!.toLowerCase())) continue;
    names.push(name!);
  }
  return [...new Set(names)];
}

function balanced(expr: string): boolean {
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  for (const c of expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
    if ('([{'.includes(c)) stack.push(c);
    else if (c in pairs && stack.pop() !== pairs[c]) return false;
  }
  return stack.length === 0;
}

interface Dashboard {
  uid?: string;
  title?: string;
  panels?: Panel[];
  templating?: { list?: { name: string; type: string; query?: unknown }[] };
}
interface Panel {
  id?: number;
  type: string;
  title?: string;
  panels?: Panel[];
  targets?: { expr?: string; refId?: string }[];
  gridPos?: { h: number; w: number; x: number; y: number };
}

function dashboardQueries(d: Dashboard): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  const visit = (panels: Panel[] = []): void => {
    for (const p of panels) {
      for (const t of p.targets ?? [])
        if (t.expr !== undefined) out.push({ where: `panel "${p.title}"`, expr: t.expr });
      visit(p.panels);
    }
  };
  visit(d.panels);
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = v.query;
    const expr = typeof q === 'string' ? q : (q as { query?: string } | undefined)?.query;
    if (expr) out.push({ where: `variable $${v.name}`, expr });
  }
  return out;
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
type PrometheusRule = KubeObject & { spec: { groups: { name: string; rules: Rule[] }[] } };

const dashboard = JSON.parse(readRepoFile(DASHBOARD)) as Dashboard;
const rule = loadYamlObject<PrometheusRule>(RULE);
const alerts = rule.spec.groups.flatMap((g) => g.rules);

describe('metric names in PromQL', () => {
  test('the extractor finds metrics and only metrics', () => {
    assert.deepEqual(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (namespace, le) (rate(a_bucket{source="x", le!="y"}[5m]))) > 2.5 unless on (namespace) b_total offset 5m',
      ),
      ['a_bucket', 'b_total'],
    );
    assert.deepEqual(metricNamesIn('time() - max(c{pod=~"$pod"} > 0)'), ['c']);
    assert.deepEqual(metricNamesIn('label_values(d{namespace="$namespace"}, pod)'), ['d']);
    assert.deepEqual(metricNamesIn(`rate(e[$__rate_interval]) / rate(f[\${__rate_interval}])`), [
      'e',
      'f',
    ]);
  });
});

describe('Grafana dashboard: infra/grafana/k8s-consul-sync.json', () => {
  const queries = dashboardQueries(dashboard);

  test('every metric its queries use is exported by the server', async () => {
    const exported = await exportedNames();
    assert.ok(queries.length >= 20, `${queries.length} queries`);
    for (const { where, expr } of queries) {
      const names = metricNamesIn(expr);
      assert.ok(names.length > 0, `${where}: selects a metric: ${expr}`);
      for (const name of names)
        assert.ok(exported.has(name), `${where}: ${name} is not exported by the server (${expr})`);
      assert.ok(balanced(expr), `${where}: balanced brackets: ${expr}`);
    }
  });

  test('it shows what issue 19 asks for', () => {
    const used = new Set(queries.flatMap((q) => metricNamesIn(q.expr)));
    for (const name of [
      'k8s_consul_sync_events_total', // events and outcomes per source
      'k8s_consul_sync_event_duration_seconds_bucket', // latency percentiles
      'k8s_consul_sync_writes_total',
      'k8s_consul_sync_skipped_total', // conflicts
      'k8s_consul_sync_last_reconcile_timestamp_seconds', // reconcile age
      'k8s_consul_sync_breaker_state',
      'k8s_consul_sync_kube_events_total',
    ])
      assert.ok(used.has(name), `the dashboard uses ${name}`);
    assert.ok(
      queries.some((q) => /histogram_quantile\(0\.99,[\s\S]*_bucket/.test(q.expr)),
      'a p99 from the histogram',
    );
    // Every query selects the chosen namespace and pods.
    for (const { where, expr } of queries.filter((q) => q.where.startsWith('panel')))
      assert.match(expr, /namespace="\$namespace", pod=~"\$pod"/, where);
  });

  test('a dashboard Grafana imports: uid, datasource variable, unique panel ids on a 24-column grid', () => {
    assert.equal(dashboard.uid, 'k8s-consul-sync');
    assert.ok(dashboard.title);
    const vars = dashboard.templating?.list ?? [];
    assert.ok(vars.some((v) => v.type === 'datasource' && v.query === 'prometheus'));
    const ids: number[] = [];
    const visit = (panels: Panel[] = []): void => {
      for (const p of panels) {
        assert.equal(typeof p.id, 'number', `panel "${p.title}" has an id`);
        ids.push(p.id!);
        const g = p.gridPos;
        assert.ok(g && g.x >= 0 && g.w > 0 && g.x + g.w <= 24, `panel "${p.title}" fits the grid`);
        const refIds = (p.targets ?? []).map((t) => t.refId);
        assert.equal(new Set(refIds).size, refIds.length, `panel "${p.title}": unique refIds`);
        visit(p.panels);
      }
    };
    visit(dashboard.panels);
    assert.equal(new Set(ids).size, ids.length, 'unique panel ids');
  });
});

describe('PrometheusRule: infra/kubernetes/components/monitoring/prometheus-rule.yaml', () => {
  test('a monitoring.coreos.com/v1 PrometheusRule in the product namespace', () => {
    assert.equal(rule.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(rule.kind, 'PrometheusRule');
    assert.equal(rule.metadata.name, 'k8s-consul-sync');
    assert.equal(rule.metadata.namespace, NAMESPACE);
    assert.equal(rule.metadata.labels?.['app.kubernetes.io/name'], 'k8s-consul-sync');
    assert.ok(rule.spec.groups.length > 0);
    const groups = rule.spec.groups.map((g) => g.name);
    assert.equal(new Set(groups).size, groups.length, 'unique group names');
  });

  test('every alert: a name, PromQL on exported metrics, a duration, a severity, a summary', async () => {
    const exported = await exportedNames();
    const names = new Set<string>();
    for (const r of alerts) {
      assert.match(r.alert ?? '', /^K8sConsulSync[A-Z][A-Za-z]+$/, 'alert name');
      assert.ok(!names.has(r.alert!), `${r.alert} is unique`);
      names.add(r.alert!);
      assert.equal(typeof r.expr, 'string');
      assert.ok(balanced(r.expr), `${r.alert}: balanced brackets`);
      const metrics = metricNamesIn(r.expr);
      assert.ok(metrics.length > 0, `${r.alert}: selects a metric`);
      for (const m of metrics)
        assert.ok(exported.has(m), `${r.alert}: ${m} is not exported by the server`);
      if (r.for !== undefined) assert.match(r.for, /^(\d+(ms|s|m|h|d|w|y))+$/, `${r.alert}: for`);
      assert.ok(
        ['critical', 'warning', 'info'].includes(r.labels?.severity ?? ''),
        `${r.alert}: severity`,
      );
      assert.ok(r.annotations?.summary, `${r.alert}: summary`);
      assert.ok(r.annotations?.description, `${r.alert}: description`);
      for (const key of Object.keys(r)) {
        assert.ok(
          ['alert', 'expr', 'for', 'labels', 'annotations', 'keep_firing_for'].includes(key),
          `${r.alert}: ${key} is a rule field`,
        );
      }
    }
  });

  test('the alerts issue 19 asks for', () => {
    const byName = new Map(alerts.map((r) => [r.alert, r.expr]));
    assert.match(
      byName.get('K8sConsulSyncReconcileStale') ?? '',
      /k8s_consul_sync_last_reconcile_timestamp_seconds/,
    );
    assert.match(
      byName.get('K8sConsulSyncWriteErrors') ?? '',
      /k8s_consul_sync_writes_total\{outcome="error"\}/,
    );
    assert.match(
      byName.get('K8sConsulSyncBreakerOpen') ?? '',
      /k8s_consul_sync_breaker_state\{state!="closed"\}/,
    );
    assert.match(
      byName.get('K8sConsulSyncDeletesWithheld') ?? '',
      /k8s_consul_sync_deletes_withheld_total/,
    );
  });
});

describe(
  'monitoring component',
  { skip: kubectlAvailable() ? false : 'kubectl is not installed' },
  () => {
    test('renders on top of the base: the base plus a PodMonitor and the PrometheusRule', async () => {
      // An overlay in a temporary directory, as an operator's own overlay would include it.
      const dir = mkdtempSync(join(tmpdir(), 'k8s-consul-sync-monitoring-'));
      try {
        writeFileSync(
          join(dir, 'kustomization.yaml'),
          [
            'apiVersion: kustomize.config.k8s.io/v1beta1',
            'kind: Kustomization',
            'resources:',
            `  - ${relative(dir, join(REPO_ROOT, KUSTOMIZE_DIRS.base))}`,
            'components:',
            `  - ${relative(dir, join(REPO_ROOT, COMPONENT))}`,
            '',
          ].join('\n'),
        );
        const { stdout } = await promisify(execFile)('kubectl', ['kustomize', dir], {
          maxBuffer: 16 * 1024 * 1024,
        });
        const objects = parseYamlDocuments(stdout, 'base + monitoring');
        const base = await renderKustomize(KUSTOMIZE_DIRS.base);
        assert.equal(objects.length, base.length + 2);
        const rendered = findObject<PrometheusRule>(objects, 'PrometheusRule');
        assert.deepEqual(rendered.spec, rule.spec, 'rendered as committed');
        const monitor = findObject<
          KubeObject & {
            spec: {
              selector: { matchLabels: Record<string, string> };
              podMetricsEndpoints: { port: string; path: string; scheme: string }[];
            };
          }
        >(objects, 'PodMonitor');
        const deployment = findObject<V1Deployment>(objects, 'Deployment');
        const labels = deployment.spec?.template.metadata?.labels ?? {};
        for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels))
          assert.equal(labels[k], v, `the PodMonitor selects the server pods (${k})`);
        const ports = deployment.spec?.template.spec?.containers[0]?.ports ?? [];
        for (const e of monitor.spec.podMetricsEndpoints) {
          assert.ok(
            ports.some((p) => p.name === e.port),
            `port ${e.port} is a container port`,
          );
          assert.equal(e.path, '/metrics');
          assert.equal(e.scheme, 'https');
        }
        assert.equal(findObject(objects, 'CronJob').metadata.name, 'k8s-consul-sync-reconcile');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('the component is no part of the base (its kinds need the Prometheus Operator CRDs)', async () => {
      const base = await renderKustomize(KUSTOMIZE_DIRS.base);
      assert.equal(base.filter((o) => o.apiVersion.startsWith('monitoring.coreos.com/')).length, 0);
      const kustomization = loadYamlObject<KubeObject & { resources: string[] }>(
        `${COMPONENT}/kustomization.yaml`,
      );
      assert.equal(kustomization.kind, 'Component');
      assert.deepEqual([...kustomization.resources].sort(), [
        'pod-monitor.yaml',
        'prometheus-rule.yaml',
      ]);
      assert.equal(loadYamlObject(POD_MONITOR).kind, 'PodMonitor');
    });
  },
);
