// What is ours, both directions, from docs/reference.md "What is ours": Services labelled
// consul=true in --k8s-write-namespace; registrations with meta external-source=kubernetes and
// external-k8s-sync-id=<our sync id>. Keys and values are written out here, not imported.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { isOwnedK8sService, isOwnedRegistration } from '../../src/translate/ownership.js';
import type { Service } from '../../src/translate/types.js';

describe('isOwnedK8sService', () => {
  // Not `default`, so that a default namespace anywhere would show.
  const settings = { k8sWriteNamespace: 'consul-synced' };
  const ours = { consul: 'true' };
  const cases: [string, Service | null | undefined, boolean][] = [
    [
      'label consul=true in the write namespace',
      { metadata: { name: 'a', namespace: 'consul-synced', labels: ours } },
      true,
    ],
    [
      'label consul=true among other labels',
      { metadata: { name: 'a', namespace: 'consul-synced', labels: { app: 'a', ...ours } } },
      true,
    ],
    [
      'label consul=true in another namespace',
      { metadata: { name: 'a', namespace: 'default', labels: ours } },
      false,
    ],
    // A namespaced list may omit metadata.namespace: such a Service is in the write namespace.
    ['label consul=true, namespace missing', { metadata: { name: 'a', labels: ours } }, true],
    [
      'label consul=true, namespace empty',
      { metadata: { name: 'a', namespace: '', labels: ours } },
      false,
    ],
    ['no labels', { metadata: { name: 'a', namespace: 'consul-synced' } }, false],
    [
      'other labels only',
      { metadata: { name: 'a', namespace: 'consul-synced', labels: { app: 'a' } } },
      false,
    ],
    [
      'label consul=false',
      { metadata: { name: 'a', namespace: 'consul-synced', labels: { consul: 'false' } } },
      false,
    ],
    [
      'label consul=True (labels are compared exactly)',
      { metadata: { name: 'a', namespace: 'consul-synced', labels: { consul: 'True' } } },
      false,
    ],
    [
      'label consul: true as a JSON boolean (not a label value the API server stores)',
      {
        metadata: {
          name: 'a',
          namespace: 'consul-synced',
          labels: { consul: true } as unknown as Record<string, string>,
        },
      },
      false,
    ],
    [
      'annotation consul.hashicorp.com/synced only',
      {
        metadata: {
          name: 'a',
          namespace: 'consul-synced',
          annotations: { 'consul.hashicorp.com/synced': 'true' },
        },
      },
      false,
    ],
    ['no metadata', {}, false],
    ['null (a read that found nothing)', null, false],
    ['undefined', undefined, false],
  ];
  for (const [name, svc, expected] of cases)
    it(name, () => assert.equal(isOwnedK8sService(svc, settings), expected));
});

describe('isOwnedRegistration', () => {
  const syncId = 'cluster-a';
  const cases: [string, Record<string, string> | null | undefined, boolean][] = [
    [
      'external-source=kubernetes and our sync id',
      { 'external-source': 'kubernetes', 'external-k8s-sync-id': 'cluster-a' },
      true,
    ],
    [
      'with the other meta a registration carries',
      {
        'external-source': 'kubernetes',
        'external-k8s-sync-id': 'cluster-a',
        'external-k8s-ns': 'shop',
        'external-k8s-name': 'web',
        'port-http': '80',
      },
      true,
    ],
    [
      "another installation's sync id",
      { 'external-source': 'kubernetes', 'external-k8s-sync-id': 'cluster-b' },
      false,
    ],
    ['no sync id', { 'external-source': 'kubernetes' }, false],
    ['empty sync id', { 'external-source': 'kubernetes', 'external-k8s-sync-id': '' }, false],
    [
      'another external-source',
      { 'external-source': 'nomad', 'external-k8s-sync-id': 'cluster-a' },
      false,
    ],
    [
      'external-source Kubernetes (compared exactly)',
      { 'external-source': 'Kubernetes', 'external-k8s-sync-id': 'cluster-a' },
      false,
    ],
    ['no external-source', { 'external-k8s-sync-id': 'cluster-a' }, false],
    ['empty meta', {}, false],
    ['meta null', null, false],
    ['no meta', undefined, false],
  ];
  for (const [name, meta, expected] of cases)
    it(name, () =>
      assert.equal(isOwnedRegistration(meta === undefined ? {} : { meta }, syncId), expected),
    );
});
