// Captures the events the Kubernetes emulator sends (AdmissionReviews to a validating webhook,
// audit EventLists to the audit webhook backend) instead of handing them to the product, so a
// test can redeliver them later: dropped, duplicated, reordered or in order.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EventCapture {
  url: string;
  /** AdmissionReview bodies, exactly as the API server sent them, in arrival order. */
  admissions: Record<string, unknown>[];
  /** Audit events (the items of every EventList), in arrival order. */
  audit: Record<string, unknown>[];
  /** Resolves once at least `count` audit events have arrived (the backend sends in batches). */
  waitAudit(count: number, timeoutMs?: number): Promise<void>;
  clear(): void;
  close(): Promise<void>;
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    req.on('error', reject);
  });
}

export async function startEventCapture(): Promise<EventCapture> {
  const admissions: Record<string, unknown>[] = [];
  const audit: Record<string, unknown>[] = [];
  let waiters: { count: number; resolve: () => void }[] = [];
  const wake = (): void => {
    waiters = waiters.filter((w) => {
      if (audit.length < w.count) return true;
      w.resolve();
      return false;
    });
  };
  const server: Server = createServer((req, res) => {
    readJson(req).then(
      (body) => {
        const b = body as Record<string, unknown>;
        if (req.url?.startsWith('/admission')) {
          admissions.push(b);
          const uid = (b.request as { uid?: unknown } | undefined)?.uid;
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({
              apiVersion: 'admission.k8s.io/v1',
              kind: 'AdmissionReview',
              response: { uid, allowed: true },
            }),
          );
          return;
        }
        if (req.url?.startsWith('/audit')) {
          const items = Array.isArray(b.items) ? (b.items as Record<string, unknown>[]) : [];
          audit.push(...items);
          res.setHeader('content-type', 'application/json');
          res.end('{}');
          wake();
          return;
        }
        res.statusCode = 404;
        res.end();
      },
      () => {
        res.statusCode = 400;
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    admissions,
    audit,
    waitAudit(count, timeoutMs = 5000) {
      if (audit.length >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`waited for ${count} audit events, got ${audit.length}`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    clear() {
      admissions.length = 0;
      audit.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Object writes the webhook and the audit policy below are about (as infra/kubernetes/base). */
const RULES = [
  {
    apiGroups: [''],
    apiVersions: ['v1'],
    resources: ['services', 'services/status'],
    operations: ['CREATE', 'UPDATE', 'DELETE'],
    scope: 'Namespaced',
  },
  {
    apiGroups: ['discovery.k8s.io'],
    apiVersions: ['v1'],
    resources: ['endpointslices'],
    operations: ['CREATE', 'UPDATE', 'DELETE'],
    scope: 'Namespaced',
  },
];

/**
 * The product's ValidatingWebhookConfiguration (infra/kubernetes/base), pointed at the capture
 * server and narrowed to the given namespaces, so the product's own writes elsewhere (the
 * ExternalName services of the write namespace) are not captured.
 */
export function captureWebhookConfiguration(url: string, namespaces: string[]): unknown {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'event-capture' },
    webhooks: [
      {
        name: 'capture.k8s-consul-sync.io',
        admissionReviewVersions: ['v1'],
        sideEffects: 'NoneOnDryRun',
        // Fail: a capture that did not happen fails the write, so no event goes unnoticed.
        failurePolicy: 'Fail',
        timeoutSeconds: 5,
        namespaceSelector: {
          matchExpressions: [
            { key: 'kubernetes.io/metadata.name', operator: 'In', values: namespaces },
          ],
        },
        rules: RULES,
        clientConfig: { url: `${url}/admission` },
      },
    ],
  };
}

/** The audit Policy of infra/kubernetes/audit, narrowed to the given namespaces. */
export function captureAuditPolicy(namespaces: string[]): unknown {
  return {
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    omitStages: ['RequestReceived'],
    omitManagedFields: true,
    rules: [
      {
        level: 'RequestResponse',
        verbs: ['create', 'update', 'patch', 'delete'],
        namespaces,
        resources: [
          { group: '', resources: ['services', 'services/status'] },
          { group: 'discovery.k8s.io', resources: ['endpointslices'] },
        ],
      },
      { level: 'None' },
    ],
  };
}
