// The emulator's filtered catalog/services decides on each instance from only the fields its
// filter reads (issue 18: the full ServiceNode rendering per instance made that read grow with
// the catalog much faster than the rest). It must answer exactly as filtering the full rendering.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileFilter, serviceNodeSchema } from '../../../dev/emulators/consul/filter.js';
import {
  renderServiceNode,
  serviceNodeFieldsRenderer,
} from '../../../dev/emulators/consul/render.js';
import type { NodeRec, ServiceRec } from '../../../dev/emulators/consul/state.js';

const EXPRESSIONS = [
  '"k8s" not in ServiceTags',
  '"k8s" in ServiceTags',
  'ServiceTags is empty',
  'ServiceMeta["external-source"] == "kubernetes"',
  'ServiceMeta.version != "2" and ServicePort == 80',
  'NodeMeta["consul-network-segment"] == "" or Address == "10.0.0.1"',
  'not (Node == "k8s-sync" or ServiceName matches "^db")',
  'ServiceWeights.Passing == 3',
  'ServiceTaggedAddresses.lan.Address == "10.1.1.1"',
  'ServiceTaggedAddresses is empty',
  'TaggedAddresses.wan == "1.2.3.4" and ServiceEnableTagOverride == true',
  'ServiceProxy.Mode == "" and ServiceConnect.Native == false',
  'ID == "" or Datacenter == "dc1"',
  'ServiceKind == "" and ServiceID != "x" and ServiceAddress == ""',
  'ServiceSocketPath == "" and PeerName == ""',
];

describe('consul emulator: filtering on the fields a filter reads', () => {
  it('a compiled filter names the top-level fields it reads', () => {
    assert.deepEqual([...compileFilter('', serviceNodeSchema).fields], []);
    assert.deepEqual(
      [...compileFilter('"k8s" not in ServiceTags', serviceNodeSchema).fields],
      ['ServiceTags'],
    );
    assert.deepEqual(
      [
        ...compileFilter(
          'not (ServiceMeta.a == "b" or NodeMeta["c"] == "d") and ServiceTags is empty and ServiceMeta.x != "y"',
          serviceNodeSchema,
        ).fields,
      ].sort(),
      ['NodeMeta', 'ServiceMeta', 'ServiceTags'],
    );
  });

  const service = (over: Partial<ServiceRec>): ServiceRec => ({
    Node: 'k8s-sync',
    Kind: '',
    ID: 'web-1',
    Service: 'web',
    Tags: ['k8s'],
    Address: '10.0.0.1',
    TaggedAddresses: { lan: { Address: '10.1.1.1', Port: 80 } },
    Meta: { 'external-source': 'kubernetes' },
    Port: 80,
    Weights: { Passing: 1, Warning: 1 },
    EnableTagOverride: false,
    CreateIndex: 5,
    ModifyIndex: 7,
    ...over,
  });
  const node: NodeRec = {
    ID: 'b5d0c2a4-0000-0000-0000-000000000001',
    Node: 'k8s-sync',
    Address: '127.0.0.1',
    Datacenter: 'dc1',
    TaggedAddresses: { wan: '1.2.3.4' },
    Meta: { 'consul-network-segment': '' },
    CreateIndex: 2,
    ModifyIndex: 3,
  };

  it('every field, in order, is the full rendering (open source and Enterprise records)', () => {
    for (const s of [
      service({}),
      service({ TaggedAddresses: null, Tags: null, Meta: null }),
      service({ Partition: 'default', Namespace: 'team-a' }),
    ]) {
      for (const n of [node, undefined]) {
        const full = renderServiceNode(s, n);
        const all = serviceNodeFieldsRenderer(new Set(Object.keys(serviceNodeSchema)))(s, n);
        const everyKey = serviceNodeFieldsRenderer(new Set(Object.keys(full)))(s, n);
        assert.equal(JSON.stringify(everyKey), JSON.stringify(full));
        for (const [key, value] of Object.entries(all)) assert.deepEqual(value, full[key], key);
      }
    }
  });

  it('decides every instance as filtering its full rendering does (property)', () => {
    const text = fc.constantFrom('', 'k8s', 'prod', '2', 'kubernetes', '10.0.0.1', 'db-1');
    const record = fc.record({
      Node: fc.constantFrom('k8s-sync', 'vm-1'),
      ID: text,
      Service: fc.constantFrom('web', 'db', 'dbx'),
      Tags: fc.option(fc.array(text, { maxLength: 3 }), { nil: null }),
      Address: text,
      TaggedAddresses: fc.option(
        fc.dictionary(
          fc.constantFrom('lan', 'wan'),
          fc.record({ Address: text, Port: fc.nat(99) }),
        ),
        { nil: null },
      ),
      Meta: fc.option(fc.dictionary(fc.constantFrom('external-source', 'version'), text), {
        nil: null,
      }),
      Port: fc.constantFrom(0, 80, 443),
      Weights: fc.record({ Passing: fc.constantFrom(1, 3), Warning: fc.constant(1) }),
      EnableTagOverride: fc.boolean(),
    });
    fc.assert(
      fc.property(
        record,
        fc.option(fc.constant(node), { nil: undefined }),
        fc.constantFrom(...EXPRESSIONS),
        (r, n, expression) => {
          const s = service(r);
          const pred = compileFilter(expression, serviceNodeSchema);
          const render = serviceNodeFieldsRenderer(pred.fields);
          assert.equal(pred(render(s, n)), pred(renderServiceNode(s, n)), expression);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
