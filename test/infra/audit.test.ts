// The API server audit policy and audit webhook kubeconfig in infra/kubernetes/audit (no
// kubectl needed): they must select exactly the events the audit handler acts on and reach
// POST /k8s/audit with a bearer token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROUTES } from '../../src/http/app.js';
import {
  FILES,
  PLACEHOLDERS,
  loadAuditPolicy,
  loadAuditWebhookKubeconfig,
  loadWebhookConfiguration,
  loadYamlObject,
} from './load.js';

const policy = loadAuditPolicy();

/** "group/resource" pairs a policy rule or admission rule covers. */
function auditResources(rule: (typeof policy.rules)[number]): string[] {
  return (rule.resources ?? []).flatMap((g) =>
    (g.resources ?? []).map((r) => `${g.group ?? ''}/${r}`),
  );
}

test('audit policy: audit.k8s.io/v1, no RequestReceived stage, no managed fields', () => {
  assert.equal(policy.apiVersion, 'audit.k8s.io/v1');
  assert.equal(policy.kind, 'Policy');
  assert.deepEqual(policy.omitStages, ['RequestReceived']);
  assert.equal(policy.omitManagedFields, true);
});

test('audit policy: RequestResponse for writes to services, services/status, endpointslices, ingresses(/status); then None', () => {
  assert.equal(policy.rules.length, 2);
  const [first, last] = policy.rules as [
    (typeof policy.rules)[number],
    (typeof policy.rules)[number],
  ];
  assert.equal(first.level, 'RequestResponse');
  assert.deepEqual([...(first.verbs ?? [])].sort(), ['create', 'delete', 'patch', 'update']);
  assert.deepEqual(auditResources(first).sort(), [
    '/services',
    '/services/status',
    'discovery.k8s.io/endpointslices',
    'networking.k8s.io/ingresses',
    'networking.k8s.io/ingresses/status',
  ]);
  for (const field of ['users', 'userGroups', 'namespaces', 'nonResourceURLs'] as const) {
    assert.equal(first[field], undefined, `the first rule does not narrow by ${field}`);
  }
  for (const g of first.resources ?? []) assert.equal(g.resourceNames, undefined);
  // The catch-all: level None and nothing that narrows it.
  assert.deepEqual(last, { level: 'None' });
});

test('audit policy covers the same resources as the admission webhook', () => {
  const hook = loadWebhookConfiguration().webhooks![0]!;
  const admission = (hook.rules ?? []).flatMap((r) =>
    (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).map((res) => `${g}/${res}`)),
  );
  assert.deepEqual(auditResources(policy.rules[0]!).sort(), admission.sort());
});

test('audit webhook kubeconfig: HTTPS to the Service at /k8s/audit, CA and bearer token', () => {
  const config = loadAuditWebhookKubeconfig();
  assert.equal(config.apiVersion, 'v1');
  assert.equal(config.kind, 'Config');
  const context = config.contexts.find((c) => c.name === config['current-context']);
  assert.ok(context, 'current-context names a context');
  const cluster = config.clusters.find((c) => c.name === context.context.cluster)?.cluster;
  const user = config.users.find((u) => u.name === context.context.user)?.user;
  assert.ok(cluster && user, 'the context names a cluster and a user');

  const url = new URL(cluster.server);
  assert.equal(url.protocol, 'https:');
  assert.equal(url.pathname, ROUTES.find((r) => r.name === 'audit')!.path);
  assert.notEqual(cluster['insecure-skip-tls-verify'], true);
  assert.ok(
    cluster['certificate-authority'] ?? cluster['certificate-authority-data'],
    'a CA is named',
  );

  // The certificate the server presents must cover both the URL host and tls-server-name.
  const cert = loadYamlObject<{ spec: { dnsNames: string[] } }>(FILES.servingCertificate);
  assert.ok(
    cert.spec.dnsNames.includes(url.hostname),
    `the serving certificate covers ${url.hostname}`,
  );
  const serverName = cluster['tls-server-name'];
  if (serverName) assert.ok(cert.spec.dnsNames.includes(serverName));

  assert.equal(user.token, PLACEHOLDERS.auditToken);
  const filled = loadAuditWebhookKubeconfig({
    token: 'abc.def.ghi',
    server: 'https://127.0.0.1:9443/k8s/audit',
  });
  assert.equal(filled.users[0]!.user.token, 'abc.def.ghi');
  assert.equal(filled.clusters[0]!.cluster.server, 'https://127.0.0.1:9443/k8s/audit');
});
