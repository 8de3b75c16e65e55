// A test world wired as production is with admission only (managed control planes): the
// Kubernetes emulator calls the app's POST /k8s/admission for services, services/status,
// endpointslices and ingresses(/status) writes, as the shipped ValidatingWebhookConfiguration does, and nothing else
// (no audit webhook, no reconcile).
import { startWorld, type World, type WorldOptions } from './world.js';
import { listen, type Served } from './listen.js';

export interface WiredWorld extends World {
  served: Served;
}

export function admissionWebhook(url: string, namespaces: string[]): unknown {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'k8s-consul-sync' },
    webhooks: [
      {
        name: 'services.k8s-consul-sync.io',
        admissionReviewVersions: ['v1'],
        sideEffects: 'NoneOnDryRun',
        failurePolicy: 'Ignore',
        timeoutSeconds: 5,
        namespaceSelector: {
          matchExpressions: [
            { key: 'kubernetes.io/metadata.name', operator: 'In', values: namespaces },
          ],
        },
        rules: [
          {
            apiGroups: [''],
            apiVersions: ['v1'],
            operations: ['CREATE', 'UPDATE', 'DELETE'],
            resources: ['services', 'services/status'],
          },
          {
            apiGroups: ['discovery.k8s.io'],
            apiVersions: ['v1'],
            operations: ['CREATE', 'UPDATE', 'DELETE'],
            resources: ['endpointslices'],
          },
          {
            apiGroups: ['networking.k8s.io'],
            apiVersions: ['v1'],
            operations: ['CREATE', 'UPDATE', 'DELETE'],
            resources: ['ingresses', 'ingresses/status'],
          },
        ],
        clientConfig: { url: `${url}/k8s/admission` },
      },
    ],
  };
}

export async function startWiredWorld(
  options: WorldOptions & { namespaces?: string[] } = {},
): Promise<WiredWorld> {
  const w = await startWorld(options);
  const served = await listen(w.app);
  w.kubeEmu.setWebhooks([admissionWebhook(served.url, options.namespaces ?? ['shop'])]);
  return {
    ...w,
    served,
    close: async () => {
      await served.close();
      await w.close();
    },
  };
}

/** Polls `check` until it returns true or `ms` pass; returns how long it took. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 5000,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
