// RegistrationView without I/O: what it answers before and after a refresh, and which of a
// refresh and a write wins (the newer stamp), and its refresh loop against a fake catalog.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistrationView } from '../../src/sync/registration-view.js';
import type { RegistrationsRead } from '../../src/consul/catalog.js';
import type { Registration } from '../../src/translate/types.js';
import { createLogger } from '../../src/telemetry/logger.js';

const logger = createLogger({ level: 'silent' });
const web = { namespace: 'shop', name: 'web' };
const api = { namespace: 'shop', name: 'api' };

function reg(name: string, ip: string, modifyIndex: number): Registration {
  return {
    node: 'k8s-sync',
    id: `${name}-${ip}`,
    service: name,
    address: ip,
    port: 80,
    tags: [],
    meta: { 'external-k8s-ns': 'shop', 'external-k8s-name': name },
    weights: { passing: 1, warning: 1 },
    modifyIndex,
  };
}

const none = { readAll: async () => ({ registrations: [], filtered: false, index: 1 }) };
const read = (registrations: Registration[], filtered = false): RegistrationsRead => ({
  registrations,
  filtered,
});

test('nothing is known before the first refresh; after it, a service it does not hold has no registration', () => {
  const view = new RegistrationView(none, logger, { intervalMs: 1000, timeoutMs: 1000 });
  assert.equal(view.get(web), undefined);
  view.replace(read([reg('web', '10.0.0.1', 5), reg('web', '10.0.0.2', 6)]), view.stamp());
  assert.deepEqual(
    view.get(web)?.registrations.map((r) => r.modifyIndex),
    [5, 6],
  );
  assert.deepEqual(view.get(api), { registrations: [], filtered: false });
});

test('a registration that names no Kubernetes service is not kept', () => {
  const view = new RegistrationView(none, logger, { intervalMs: 1000, timeoutMs: 1000 });
  const foreign = { ...reg('vm', '10.0.0.9', 3), meta: {} };
  view.replace(read([foreign]), view.stamp());
  assert.deepEqual(view.get({ namespace: '', name: '' }), { registrations: [], filtered: false });
});

test('a write answered after a refresh was sent outlives that refresh; an older one does not', () => {
  const view = new RegistrationView(none, logger, { intervalMs: 1000, timeoutMs: 1000 });
  view.replace(read([reg('web', '10.0.0.1', 5)]), view.stamp());
  const refreshSent = view.stamp();
  view.record(web, [reg('web', '10.0.0.1', 9)], view.stamp());
  view.replace(read([reg('web', '10.0.0.1', 5)]), refreshSent);
  assert.equal(view.get(web)?.registrations[0]?.modifyIndex, 9, 'the write is newer');
  view.replace(read([reg('web', '10.0.0.1', 12)]), view.stamp());
  assert.equal(view.get(web)?.registrations[0]?.modifyIndex, 12, 'a refresh sent after it wins');
  // A record older than what the entry holds is ignored.
  view.record(web, [], refreshSent);
  assert.equal(view.get(web)?.registrations.length, 1);
});

test('a forgotten service is read again, also after a refresh sent before it was forgotten', () => {
  const view = new RegistrationView(none, logger, { intervalMs: 1000, timeoutMs: 1000 });
  view.replace(read([reg('web', '10.0.0.1', 5)]), view.stamp());
  const refreshSent = view.stamp();
  view.forget(web);
  assert.equal(view.get(web), undefined);
  view.replace(read([reg('web', '10.0.0.1', 5)]), refreshSent);
  assert.equal(view.get(web), undefined);
  view.replace(read([reg('web', '10.0.0.1', 5)]), view.stamp());
  assert.equal(view.get(web)?.registrations.length, 1);
});

test('a refresh Consul filtered by ACLs makes the whole view unusable', () => {
  const view = new RegistrationView(none, logger, { intervalMs: 1000, timeoutMs: 1000 });
  view.replace(read([reg('web', '10.0.0.1', 5)]), view.stamp());
  view.replace(read([], true), view.stamp());
  assert.equal(view.get(web), undefined);
  assert.equal(view.get(api), undefined);
});

test('the loop: a first read, then blocking reads from the index answered; a failure makes the view unusable until a read succeeds', async () => {
  const calls: (number | undefined)[] = [];
  /** What the view answered for shop/web when each read was sent. */
  const known: (number | undefined)[] = [];
  const answers: (() => RegistrationsRead & { index: number | undefined })[] = [
    () => ({ registrations: [reg('web', '10.0.0.1', 5)], filtered: false, index: 7 }),
    () => {
      throw new Error('connection refused');
    },
    () => ({ registrations: [], filtered: false, index: 9 }),
    () => ({ registrations: [], filtered: false, index: 9 }),
  ];
  let seen: ((value: unknown) => void) | undefined;
  const catalog = {
    readAll: async (_timeout?: number, block?: { index: number; waitMs: number }) => {
      calls.push(block?.index);
      known.push(view.get(web)?.registrations.length);
      const answer = answers.shift();
      if (!answer) return new Promise<never>(() => seen?.(undefined));
      return answer();
    },
  };
  const view = new RegistrationView(catalog, logger, {
    intervalMs: 1,
    retryMs: 1,
    timeoutMs: 1000,
  });
  const done = new Promise((resolve) => (seen = resolve));
  view.start();
  await done;
  // Start, then from index 7; after the failure from the start again, then from 9 (twice).
  assert.deepEqual(calls, [undefined, 7, undefined, 9, 9]);
  // Unknown, one instance, unknown after the failure, then none.
  assert.deepEqual(known, [undefined, 1, undefined, 0, 0]);
  assert.equal(view.get(web)?.registrations.length, 0);
  void view.stop();
});

test('a sync node holding more registrations than the bound keeps no view and is not read again', async () => {
  let reads = 0;
  const catalog = {
    readAll: async () => {
      reads++;
      return {
        registrations: [
          reg('web', '10.0.0.1', 5),
          reg('web', '10.0.0.2', 6),
          reg('api', '10.0.0.3', 7),
        ],
        filtered: false,
        index: 3,
      };
    },
  };
  /** A view bounded at `max`, started, after 30 ms. */
  const started = async (max: number): Promise<RegistrationView> => {
    const view = new RegistrationView(catalog, logger, {
      intervalMs: 1,
      timeoutMs: 1000,
      maxRegistrations: max,
    });
    view.start();
    await new Promise((r) => setTimeout(r, 30));
    return view;
  };
  const bounded = await started(2);
  assert.equal(reads, 1, 'not read again');
  assert.equal(bounded.get(web), undefined);
  await bounded.stop();
  const fits = await started(3);
  assert.ok(reads > 2, 'refreshed');
  assert.equal(fits.get(web)?.registrations.length, 2);
  await fits.stop();
});

test('a view that grows past the bound with our own writes turns off for good', () => {
  const view = new RegistrationView(none, logger, {
    intervalMs: 1000,
    timeoutMs: 1000,
    maxRegistrations: 3,
  });
  view.replace(read([reg('web', '10.0.0.1', 5), reg('web', '10.0.0.2', 6)]), view.stamp());
  view.record(api, [reg('api', '10.0.0.3', 7)], view.stamp());
  assert.equal(view.get(api)?.registrations.length, 1, 'three: within the bound');
  view.record(web, [reg('web', '10.0.0.1', 8)], view.stamp());
  view.record(api, [reg('api', '10.0.0.3', 9), reg('api', '10.0.0.4', 9)], view.stamp());
  assert.equal(view.get(api)?.registrations.length, 2, 'a replaced entry counts once');
  view.record(
    api,
    [reg('api', '10.0.0.3', 9), reg('api', '10.0.0.4', 9), reg('api', '10.0.0.5', 9)],
    view.stamp(),
  );
  assert.equal(view.get(api), undefined, 'four: off');
  view.replace(read([reg('web', '10.0.0.1', 5)]), view.stamp());
  assert.equal(view.get(web), undefined, 'and it stays off');
});
