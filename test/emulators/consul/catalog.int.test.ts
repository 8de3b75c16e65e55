// Catalog and health endpoints of the emulator, driven through the real `consul` client and raw
// HTTP. Expected values come from Consul's HTTP API docs (catalog.mdx, health.mdx) and, where the
// docs are silent, from Consul's source (agent/catalog_endpoint.go, state/catalog.go).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type Consul from 'consul';
import { startConsulEmulator, type ConsulEmulator } from '../../../dev/emulators/consul/index.js';
import { client, get, put, registerService } from './helpers.js';

interface ServiceNode {
  Node: string;
  Address: string;
  Datacenter: string;
  ServiceID: string;
  ServiceName: string;
  ServiceTags: string[];
  ServicePort: number;
  ServiceAddress: string;
  ServiceMeta: Record<string, string>;
  ServiceWeights: { Passing: number; Warning: number };
  CreateIndex: number;
  ModifyIndex: number;
}

interface HealthEntry {
  Node: { Node: string };
  Service: { ID: string; Service: string; Tags: string[] };
  Checks: {
    CheckID: string;
    Status: string;
    ServiceID: string;
    ServiceName: string;
    Name: string;
  }[];
}

describe('consul emulator: startup', () => {
  it('starts in under 100 ms (best of three)', async () => {
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const emu = await startConsulEmulator();
      best = Math.min(best, performance.now() - t0);
      await emu.close();
    }
    assert.ok(best < 100, `startup took ${best.toFixed(1)} ms`);
  });
});

describe('consul emulator: catalog', () => {
  let emu: ConsulEmulator;
  let consul: Consul;
  before(async () => {
    emu = await startConsulEmulator({ nodeName: 'server-1' });
    consul = client(emu);
  });
  after(async () => {
    consul.destroy();
    await emu.close();
  });

  it('lists the server agent and its consul service like a fresh cluster', async () => {
    const services = await consul.catalog.service.list();
    assert.deepEqual(services, { consul: [] }); // catalog.mdx sample: "consul": []
    const nodes = (await consul.catalog.node.list()) as { Node: string; Datacenter: string }[];
    assert.deepEqual(
      nodes.map((n) => [n.Node, n.Datacenter]),
      [['server-1', 'dc1']],
    );
    const leader = await get(emu, '/v1/status/leader');
    assert.equal(leader.status, 200);
    assert.equal(leader.json, '127.0.0.1:8300');
  });

  it('sets the read headers: X-Consul-Index, KnownLeader, LastContact', async () => {
    const res = await get(emu, '/v1/catalog/services');
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.ok(Number(res.headers.get('x-consul-index')) >= 1);
    assert.equal(res.headers.get('x-consul-knownleader'), 'true');
    assert.equal(res.headers.get('x-consul-lastcontact'), '0');
  });

  it('registers with the consul client; ID defaults to the service name, weights to 1/1', async () => {
    await consul.catalog.register({
      node: 'node-a',
      address: '10.1.0.1',
      service: {
        service: 'redis',
        tags: ['primary', 'v1'],
        port: 6379,
        meta: { redis_version: '4.0' },
      },
    } as never);
    const nodes = (await consul.catalog.service.nodes('redis')) as ServiceNode[];
    assert.equal(nodes.length, 1);
    const [n] = nodes;
    assert.ok(n);
    assert.equal(n.Node, 'node-a');
    assert.equal(n.Address, '10.1.0.1');
    assert.equal(n.Datacenter, 'dc1');
    assert.equal(n.ServiceID, 'redis');
    assert.equal(n.ServiceName, 'redis');
    assert.deepEqual(n.ServiceTags, ['primary', 'v1']);
    assert.equal(n.ServicePort, 6379);
    assert.equal(n.ServiceAddress, '');
    assert.deepEqual(n.ServiceMeta, { redis_version: '4.0' });
    assert.deepEqual(n.ServiceWeights, { Passing: 1, Warning: 1 });
    assert.equal(n.CreateIndex, n.ModifyIndex);
  });

  it('deduplicates tags per service name in /v1/catalog/services', async () => {
    await registerService(emu, 'node-b', {
      ID: 'redis-b',
      Service: 'redis',
      Tags: ['v1', 'replica'],
    });
    const services = (await consul.catalog.service.list()) as Record<string, string[]>;
    assert.deepEqual([...(services.redis ?? [])].sort(), ['primary', 'replica', 'v1']);
  });

  it('filters instances by ?tag (all given tags must be present)', async () => {
    const byTag = (await consul.catalog.service.nodes({
      service: 'redis',
      tag: 'replica',
    } as never)) as ServiceNode[];
    assert.deepEqual(
      byTag.map((s) => s.ServiceID),
      ['redis-b'],
    );
    const both = await get(emu, '/v1/catalog/service/redis?tag=v1&tag=primary');
    assert.deepEqual(
      (both.json as ServiceNode[]).map((s) => s.ServiceID),
      ['redis'],
    );
  });

  it('returns the node map, the node service list and health for a node', async () => {
    const node = (await consul.catalog.node.services('node-a')) as {
      Node: { Node: string; Address: string };
      Services: Record<string, { ID: string; Service: string; Port: number }>;
    };
    assert.equal(node.Node.Node, 'node-a');
    assert.deepEqual(Object.keys(node.Services), ['redis']);
    assert.equal(node.Services.redis?.Port, 6379);
    const list = await get(emu, '/v1/catalog/node-services/node-a');
    const body = list.json as { Node: { Node: string }; Services: { ID: string }[] };
    assert.equal(body.Node.Node, 'node-a');
    assert.deepEqual(
      body.Services.map((s) => s.ID),
      ['redis'],
    );
  });

  it('answers missing nodes and services the way Consul does (no 404)', async () => {
    // Catalog.NodeServices leaves the reply nil -> JSON null
    const node = await get(emu, '/v1/catalog/node/no-such-node');
    assert.equal(node.status, 200);
    assert.equal(node.text, 'null');
    // IndexedNodeServiceList zero value
    const list = await get(emu, '/v1/catalog/node-services/no-such-node');
    assert.equal(list.status, 200);
    assert.deepEqual(list.json, { Node: null, Services: null });
    // "Use empty list instead of nil"
    for (const path of [
      '/v1/catalog/service/no-such-service',
      '/v1/health/service/no-such-service',
      '/v1/health/node/no-such-node',
      '/v1/health/state/no-such-state',
    ]) {
      const res = await get(emu, path);
      assert.equal(res.status, 200, path);
      assert.deepEqual(res.json, [], path);
    }
  });

  it('rejects missing path parameters, unknown paths and wrong methods', async () => {
    const noName = await get(emu, '/v1/catalog/service/');
    assert.equal(noName.status, 400);
    assert.equal(noName.text, 'Missing service name');
    const noNode = await get(emu, '/v1/catalog/node/');
    assert.equal(noNode.status, 400);
    assert.equal(noNode.text, 'Missing node name');
    const unknown = await get(emu, '/v1/no/such/endpoint');
    assert.equal(unknown.status, 404);
    const wrongMethod = await get(emu, '/v1/catalog/register');
    assert.equal(wrongMethod.status, 405);
    assert.match(wrongMethod.headers.get('allow') ?? '', /PUT/);
  });

  it('registers checks (CheckID defaults to Name, Status to critical) and serves health', async () => {
    await put(emu, '/v1/catalog/register', {
      Node: 'node-c',
      Address: '10.1.0.3',
      Service: { ID: 'api-1', Service: 'api', Port: 80 },
      Checks: [
        { Name: 'api alive', ServiceID: 'api-1', Status: 'passing' },
        { CheckID: 'api:ready', Name: 'ready', ServiceID: 'api-1' },
      ],
    });
    const health = (await consul.health.service('api')) as HealthEntry[];
    assert.equal(health.length, 1);
    const checks = health[0]?.Checks ?? [];
    const byId = Object.fromEntries(checks.map((c) => [c.CheckID, c]));
    assert.equal(byId['api alive']?.Status, 'passing');
    assert.equal(byId['api:ready']?.Status, 'critical');
    assert.equal(byId['api:ready']?.ServiceName, 'api');
    // passing=true: only instances whose every check passes
    assert.deepEqual(await consul.health.service({ service: 'api', passing: true } as never), []);
    const critical = (await consul.health.state('critical')) as { CheckID: string }[];
    assert.deepEqual(
      critical.map((c) => c.CheckID),
      ['api:ready'],
    );
    const nodeChecks = (await consul.health.node('node-c')) as { CheckID: string }[];
    assert.deepEqual(nodeChecks.map((c) => c.CheckID).sort(), ['api alive', 'api:ready']);
    const any = (await consul.health.state('any')) as { CheckID: string }[];
    assert.ok(
      any.some((c) => c.CheckID === 'serfHealth'),
      'the server agent has a serfHealth check',
    );
  });

  it('includes node-level checks in health/service and honours ?passing', async () => {
    await put(emu, '/v1/catalog/register', {
      Node: 'node-d',
      Address: '10.1.0.4',
      Service: { ID: 'api-2', Service: 'api', Port: 80 },
      Checks: [
        { CheckID: 'node-ok', Name: 'node', Status: 'passing' },
        { CheckID: 'api-2-ok', Name: 'svc', ServiceID: 'api-2', Status: 'passing' },
      ],
    });
    const passing = (await consul.health.service({
      service: 'api',
      passing: true,
    } as never)) as HealthEntry[];
    assert.deepEqual(
      passing.map((e) => e.Service.ID),
      ['api-2'],
    );
    assert.deepEqual(
      passing[0]?.Checks.map((c) => c.CheckID),
      ['node-ok', 'api-2-ok'],
    );
  });

  it('deregisters a service with its checks; a missing service is not an error', async () => {
    await consul.catalog.deregister({ node: 'node-c', serviceid: 'api-1' } as never);
    assert.deepEqual(
      await consul.catalog.service
        .nodes('api')
        .then((l) => (l as ServiceNode[]).map((s) => s.ServiceID)),
      ['api-2'],
    );
    const checks = (await consul.health.node('node-c')) as unknown[];
    assert.deepEqual(checks, []);
    const again = await put(emu, '/v1/catalog/deregister', { Node: 'node-c', ServiceID: 'api-1' });
    assert.equal(again.status, 200);
    assert.equal(again.text, 'true');
    const ghost = await put(emu, '/v1/catalog/deregister', { Node: 'ghost-node' });
    assert.equal(ghost.status, 200);
  });

  it('deregisters a whole node with its services', async () => {
    await consul.catalog.deregister('node-d');
    assert.deepEqual(await consul.catalog.service.nodes('api'), []);
    const services = (await consul.catalog.service.list()) as Record<string, string[]>;
    assert.equal(services.api, undefined);
  });

  it('SkipNodeUpdate keeps the registered node as it is', async () => {
    await put(emu, '/v1/catalog/register', {
      Node: 'node-e',
      Address: '10.1.0.5',
      NodeMeta: { rack: 'r1' },
    });
    const before = (await consul.catalog.node.services('node-e')) as {
      Node: { ModifyIndex: number };
    };
    const res = await put(emu, '/v1/catalog/register', {
      Node: 'node-e',
      Address: '10.9.9.9',
      SkipNodeUpdate: true,
      Service: { Service: 'cache', Port: 11211 },
    });
    assert.equal(res.status, 200);
    const node = (await consul.catalog.node.services('node-e')) as {
      Node: { Address: string; Meta: Record<string, string>; ModifyIndex: number };
      Services: Record<string, unknown>;
    };
    assert.equal(node.Node.Address, '10.1.0.5');
    assert.deepEqual(node.Node.Meta, { rack: 'r1' });
    assert.equal(node.Node.ModifyIndex, before.Node.ModifyIndex);
    assert.deepEqual(Object.keys(node.Services), ['cache']);
    // "if the parameter is enabled for a node that doesn't exist, it will still be created"
    const created = await put(emu, '/v1/catalog/register', {
      Node: 'node-f',
      SkipNodeUpdate: true,
    });
    assert.equal(created.status, 200);
    assert.notEqual((await get(emu, '/v1/catalog/node/node-f')).text, 'null');
  });

  it('rejects a register without node or address with Consul RPC errors (500)', async () => {
    const noNode = await put(emu, '/v1/catalog/register', { Address: '10.0.0.1' });
    assert.equal(noNode.status, 500);
    assert.equal(noNode.text, 'Must provide node');
    const noAddress = await put(emu, '/v1/catalog/register', { Node: 'x' });
    assert.equal(noAddress.status, 500);
    assert.equal(noAddress.text, 'Must provide address if SkipNodeUpdate is not set');
    const idOnly = await put(emu, '/v1/catalog/register', {
      Node: 'x',
      Address: '1.1.1.1',
      Service: { ID: 'only-id' },
    });
    assert.equal(idOnly.status, 500);
    assert.equal(idOnly.text, 'Must provide service name with ID');
    const badJson = await put(emu, '/v1/catalog/register', '{not json');
    assert.equal(badJson.status, 400);
    assert.match(badJson.text, /^Request decode failed: /);
  });

  it('validates service meta like structs.ValidateServiceMetadata', async () => {
    const prefix =
      'failed inserting service: Invalid Service Meta for node meta-node and serviceID m: ';
    const cases: [Record<string, string>, string][] = [
      [
        { 'consul-x': 'y' },
        "Couldn't load metadata pair ('consul-x', 'y'): Key prefix 'consul-' is reserved for internal use",
      ],
      [{ 'a.b': 'y' }, "Couldn't load metadata pair ('a.b', 'y'): Key contains invalid characters"],
      [
        { ['k'.repeat(129)]: 'y' },
        `Couldn't load metadata pair ('${'k'.repeat(129)}', 'y'): Key is too long (limit: 128 characters)`,
      ],
      [
        { k: 'v'.repeat(513) },
        `Couldn't load metadata pair ('k', '${'v'.repeat(513)}'): Value is too long (limit: 512 characters)`,
      ],
      [
        Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])),
        'Node metadata cannot contain more than 64 key/value pairs',
      ],
    ];
    for (const [meta, message] of cases) {
      const res = await put(emu, '/v1/catalog/register', {
        Node: 'meta-node',
        Address: '10.0.0.1',
        Service: { ID: 'm', Service: 'm', Meta: meta },
      });
      assert.equal(res.status, 500);
      assert.equal(res.text, prefix + message);
    }
    // limits are inclusive: 64 pairs, 128-char keys and 512-char values are fine
    const ok = await put(emu, '/v1/catalog/register', {
      Node: 'meta-node',
      Address: '10.0.0.1',
      Service: {
        ID: 'm',
        Service: 'm',
        Meta: {
          ...Object.fromEntries(Array.from({ length: 63 }, (_, i) => [`k${i}`, 'v'])),
          ['k'.repeat(128)]: 'v'.repeat(512),
        },
      },
    });
    assert.equal(ok.status, 200);
    // node meta is not validated by Catalog.Register (only agent config is)
    const nodeMeta = await put(emu, '/v1/catalog/register', {
      Node: 'meta-node-2',
      Address: '10.0.0.1',
      NodeMeta: { 'consul-network-segment': '' },
    });
    assert.equal(nodeMeta.status, 200);
  });

  it('filters catalog/service, catalog/services, node-services and health/service', async () => {
    await registerService(emu, 'k8s-sync', {
      ID: 'web-1',
      Service: 'web',
      Tags: ['k8s'],
      Port: 8080,
      Meta: { 'external-source': 'kubernetes' },
    });
    await registerService(emu, 'k8s-sync', { ID: 'other-1', Service: 'other', Tags: [], Port: 1 });
    const f = (expr: string): string => `filter=${encodeURIComponent(expr)}`;

    const nodes = await get(
      emu,
      `/v1/catalog/service/web?${f('ServiceMeta["external-source"] == "kubernetes"')}`,
    );
    assert.deepEqual(
      (nodes.json as ServiceNode[]).map((s) => s.ServiceID),
      ['web-1'],
    );
    const none = await get(emu, `/v1/catalog/service/web?${f('ServicePort != 8080')}`);
    assert.deepEqual(none.json, []);

    const services = await get(emu, `/v1/catalog/services?${f('"k8s" in ServiceTags')}`);
    assert.deepEqual(services.json, { web: ['k8s'] });

    const ns = await get(emu, `/v1/catalog/node-services/k8s-sync?${f('Service == "other"')}`);
    assert.deepEqual(
      (ns.json as { Services: { ID: string }[] }).Services.map((s) => s.ID),
      ['other-1'],
    );
    const viaClient = (await consul.catalog.service.nodes({
      service: 'web',
      filter: 'Node == "k8s-sync"',
    } as never)) as ServiceNode[];
    assert.equal(viaClient.length, 1);

    const health = await get(
      emu,
      `/v1/health/service/web?${f('Node.Node == "k8s-sync" and Service.Meta["external-source"] == "kubernetes"')}`,
    );
    assert.equal((health.json as unknown[]).length, 1);
  });

  it('never silently matches a bad filter: unknown selector or syntax is an error', async () => {
    // Consul returns the bexpr error from the RPC layer, which the HTTP layer maps to 500
    // (hashicorp/consul#7338, #9441: "Unexpected response code: 500 (Failed to create ...)")
    const badSelector = await get(
      emu,
      `/v1/catalog/service/web?filter=${encodeURIComponent('Nope == "x"')}`,
    );
    assert.equal(badSelector.status, 500);
    assert.equal(badSelector.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.match(
      badSelector.text,
      /^Failed to create boolean expression evaluator: Selector \["Nope"\] is not valid$/,
    );
    const badSyntax = await get(
      emu,
      `/v1/catalog/services?filter=${encodeURIComponent('ServiceName ==')}`,
    );
    assert.equal(badSyntax.status, 500);
    assert.match(
      badSyntax.text,
      /^Failed to create boolean expression evaluator: 1:\d+ \(\d+\): no match found/,
    );
    await assert.rejects(
      consul.catalog.service.nodes({ service: 'web', filter: 'bogus' } as never),
      (err: { statusCode?: number }) => {
        assert.equal(err.statusCode, 500);
        return true;
      },
    );
  });

  it('returns agent/self with the datacenter and node name clients read', async () => {
    const self = (await consul.agent.self()) as {
      Config: { Datacenter: string; NodeName: string; Version: string };
      Member: { Name: string };
    };
    assert.equal(self.Config.Datacenter, 'dc1');
    assert.equal(self.Config.NodeName, 'server-1');
    assert.match(self.Config.Version, /^1\.\d+\.\d+$/);
    assert.equal(self.Member.Name, 'server-1');
  });

  it('snapshot() returns plain copies of nodes, services and checks', () => {
    const snap = emu.snapshot();
    const web = snap.services.find((s) => s.ID === 'web-1');
    assert.equal(web?.Node, 'k8s-sync');
    assert.ok(snap.nodes.some((n) => n.Node === 'server-1'));
    assert.ok(snap.checks.some((c) => c.CheckID === 'serfHealth'));
    if (web) web.Port = 1; // mutation must not leak into the emulator
    assert.equal(emu.snapshot().services.find((s) => s.ID === 'web-1')?.Port, 8080);
  });
});
