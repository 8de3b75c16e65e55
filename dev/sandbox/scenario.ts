// `sandbox --once`: a scripted scenario through the real APIs — a Kubernetes service is created,
// scaled, renamed, opted out and deleted; a Consul service appears and disappears — checking
// after each step that both catalogs reach the state SPEC.md says (expected.ts), waiting on the
// condition with a deadline rather than sleeping.
import type { V1Service } from '@kubernetes/client-node';
import { ANNOTATION_SERVICE_NAME, ANNOTATION_SERVICE_SYNC } from '../../src/translate/keys.js';
import type { Catalogs } from './catalogs.js';
import {
  diffCatalogs,
  SEED_EXPECTED,
  type ExpectSettings,
  type ExpectedInstance,
  type ExpectedState,
} from './expected.js';
import type { Sandbox } from './index.js';
import { renderCatalogs } from './render.js';
import { consulPut, podObject, SHOP, type PodSpec } from './seed.js';

export interface ScenarioOptions {
  /** Deadline for one step's catalogs to converge. Default 5000 ms. */
  stepTimeoutMs?: number;
  /** Poll interval while waiting. Default 20 ms. */
  pollMs?: number;
  /** Called after the title line, before the first step (to print where the sandbox runs). */
  onStart?: (write: (line: string) => void) => void;
}

interface Step {
  title: string;
  act: () => Promise<void>;
  expect: ExpectedState;
  /** An extra condition (e.g. the service is gone from Kubernetes); a message while unmet. */
  also?: () => Promise<string | undefined>;
}

const CART_PODS: PodSpec[] = [
  { name: 'cart-1', namespace: SHOP, app: 'cart', node: 'node-c', ip: '10.244.3.20' },
  { name: 'cart-2', namespace: SHOP, app: 'cart', node: 'node-a', ip: '10.244.1.20' },
  {
    name: 'cart-3',
    namespace: SHOP,
    app: 'cart',
    node: 'node-b',
    ip: '10.244.2.20',
    ready: false,
  },
];

const CART: V1Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'cart', namespace: SHOP },
  spec: {
    type: 'NodePort',
    selector: { app: 'cart' },
    ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30081 }],
  },
};

/** A NodePort instance of shop/cart on a node (SPEC.md §4: node address, nodePort, check). */
function cartOn(
  service: string,
  node: 'node-a' | 'node-b' | 'node-c',
  check: 'passing' | 'critical',
): ExpectedInstance {
  // ExternalFirst: node-a has an ExternalIP; node-b and node-c only an InternalIP.
  const address = { 'node-a': '192.0.2.11', 'node-b': '10.0.0.12', 'node-c': '10.0.0.13' }[node];
  return {
    service,
    namespace: SHOP,
    k8sName: 'cart',
    address,
    port: 30081,
    ports: { http: 30081 },
    k8sNode: node,
    check,
  };
}

function withSeed(extra: Partial<ExpectedState>): ExpectedState {
  return {
    registrations: [...SEED_EXPECTED.registrations, ...(extra.registrations ?? [])],
    k8sServices: [...SEED_EXPECTED.k8sServices, ...(extra.k8sServices ?? [])],
    k8sServiceTags: { ...SEED_EXPECTED.k8sServiceTags, ...extra.k8sServiceTags },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function scenarioSteps(sandbox: Sandbox): Step[] {
  const core = sandbox.core;
  const createPod = async (p: PodSpec): Promise<void> => {
    await core.createNamespacedPod({ namespace: p.namespace, body: podObject(p) });
  };
  const editCart = async (annotations: Record<string, string>): Promise<void> => {
    const current = await core.readNamespacedService({ name: 'cart', namespace: SHOP });
    current.metadata = {
      ...current.metadata,
      annotations: { ...current.metadata?.annotations, ...annotations },
    };
    await core.replaceNamespacedService({ name: 'cart', namespace: SHOP, body: current });
  };
  const ledger = {
    Node: 'ledger-vm-1',
    Address: '192.0.2.91',
    NodeMeta: { 'external-node': 'true' },
    Service: { ID: 'ledger-1', Service: 'ledger', Port: 7000 },
  };
  return [
    {
      title: 'seeded world converged (LoadBalancer ingress included)',
      act: () => Promise.resolve(),
      expect: SEED_EXPECTED,
    },
    {
      title: 'create shop/cart (NodePort 30081, one ready pod on node-c)',
      act: async () => {
        await createPod(CART_PODS[0]!);
        await core.createNamespacedService({ namespace: SHOP, body: CART });
      },
      expect: withSeed({ registrations: [cartOn('cart', 'node-c', 'passing')] }),
    },
    {
      title: 'scale shop/cart to 3 pods (node-a ready, node-b not ready)',
      act: async () => {
        await createPod(CART_PODS[1]!);
        await createPod(CART_PODS[2]!);
      },
      expect: withSeed({
        registrations: [
          cartOn('cart', 'node-a', 'passing'),
          cartOn('cart', 'node-b', 'critical'),
          cartOn('cart', 'node-c', 'passing'),
        ],
      }),
    },
    {
      title: `rename: ${ANNOTATION_SERVICE_NAME}=shopping-cart`,
      act: () => editCart({ [ANNOTATION_SERVICE_NAME]: 'shopping-cart' }),
      expect: withSeed({
        registrations: [
          cartOn('shopping-cart', 'node-a', 'passing'),
          cartOn('shopping-cart', 'node-b', 'critical'),
          cartOn('shopping-cart', 'node-c', 'passing'),
        ],
      }),
    },
    {
      title: `opt out: ${ANNOTATION_SERVICE_SYNC}="false"`,
      act: () => editCart({ [ANNOTATION_SERVICE_SYNC]: 'false' }),
      expect: SEED_EXPECTED,
    },
    {
      title: 'delete shop/cart and its pods',
      act: async () => {
        await core.deleteNamespacedService({ name: 'cart', namespace: SHOP });
        for (const p of CART_PODS)
          await core.deleteNamespacedPod({ name: p.name, namespace: SHOP });
      },
      expect: SEED_EXPECTED,
      also: async () => {
        const list = await core.listNamespacedService({ namespace: SHOP });
        return list.items.some((s) => s.metadata?.name === 'cart')
          ? 'shop/cart is still in Kubernetes'
          : undefined;
      },
    },
    {
      title: 'Consul: register ledger on an external node',
      act: () => consulPut(sandbox.consul.url, '/v1/catalog/register', ledger),
      expect: withSeed({ k8sServices: ['ledger'] }),
    },
    {
      title: 'Consul: deregister ledger',
      act: () =>
        consulPut(sandbox.consul.url, '/v1/catalog/deregister', {
          Node: ledger.Node,
          ServiceID: ledger.Service.ID,
        }),
      expect: SEED_EXPECTED,
    },
  ];
}

/** Runs the steps in order; writes one line per step, the final catalogs and the verdict. */
export async function runScenario(
  sandbox: Sandbox,
  write: (line: string) => void,
  options: ScenarioOptions = {},
): Promise<boolean> {
  const timeout = options.stepTimeoutMs ?? 5000;
  const poll = options.pollMs ?? 20;
  const settings: ExpectSettings = {
    // SPEC.md §2.1: the default sync id is the uid of namespace kube-system.
    syncId: sandbox.kube.kubeSystemUid,
    consulK8sTag: 'k8s',
    k8sWriteNamespace: 'default',
    consulDomain: 'consul',
  };
  const waitFor = async (step: Step): Promise<string[]> => {
    const deadline = Date.now() + timeout;
    for (;;) {
      let problems: string[];
      try {
        problems = diffCatalogs(await sandbox.catalogs(), step.expect, settings);
        const extra = problems.length === 0 ? await step.also?.() : undefined;
        if (extra) problems = [extra];
      } catch (err) {
        problems = [
          `cannot read the catalogs: ${err instanceof Error ? err.message : String(err)}`,
        ];
      }
      if (problems.length === 0) return [];
      if (Date.now() >= deadline) return problems;
      await sleep(poll);
    }
  };

  write(
    'k8s-consul-sync sandbox --once: scripted scenario (expected state: docs/reference.md, Kubernetes → Consul and Consul → Kubernetes)',
  );
  options.onStart?.(write);
  let ok = true;
  let failed: string[] = [];
  for (const step of scenarioSteps(sandbox)) {
    const started = performance.now();
    try {
      await step.act();
      failed = await waitFor(step);
    } catch (err) {
      failed = [`the step failed: ${err instanceof Error ? err.message : String(err)}`];
    }
    const took = `${Math.round(performance.now() - started)} ms`;
    if (failed.length > 0) {
      ok = false;
      write(`  FAIL  ${step.title}  (${took}): catalogs differ from the expected state`);
      break;
    }
    write(`  ok    ${step.title}  (${took})`);
  }

  let final: Catalogs | undefined;
  try {
    final = await sandbox.catalogs();
  } catch (err) {
    ok = false;
    write(`cannot read the final catalogs: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (final) {
    write('');
    write('Final catalogs:');
    for (const line of renderCatalogs(final)) write(line);
    write('');
    if (ok) {
      const last = diffCatalogs(final, SEED_EXPECTED, settings);
      if (last.length > 0) {
        ok = false;
        failed = last;
      }
    }
  }
  if (ok) {
    write('PASS: both catalogs match the expected state.');
  } else {
    write('FAIL: the catalogs differ from the expected state (- expected, + actual):');
    for (const line of failed) write(line);
  }
  return ok;
}
