// The sandbox's terminal output: on a TTY the frame is redrawn in place (cursor home, lines
// cleared to their end, rest of the screen cleared; the screen is cleared once only) and only
// when its text changed; elsewhere plain lines without escape codes. Also the event feed: what
// the handler wrapper and the log-line reader record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import request from 'supertest';
import {
  CLEAR_LINE_END,
  CLEAR_SCREEN,
  CLEAR_SCREEN_END,
  CURSOR_HOME,
  PlainView,
  ScreenView,
  SHOW_CURSOR,
} from '../../dev/sandbox/view.js';
import {
  renderCatalogs,
  renderEvents,
  SIDE_BY_SIDE_MIN_WIDTH,
  TO_CONSUL_TITLE,
  TO_K8S_TITLE,
} from '../../dev/sandbox/render.js';
import {
  EventLog,
  eventFromLogLine,
  recordHandlers,
  type SandboxEvent,
} from '../../dev/sandbox/events.js';
import { displayPath, startLiveView } from '../../dev/sandbox/live.js';
import type { Catalogs } from '../../dev/sandbox/catalogs.js';

// eslint-disable-next-line no-control-regex
const ESCAPE = /\u001b\[/;

function terminal(isTTY: boolean, columns = 100, rows = 30) {
  const writes: string[] = [];
  return { writes, out: { write: (t: string) => writes.push(t), isTTY, columns, rows } };
}

const catalogs: Catalogs = {
  toConsul: [
    {
      namespace: 'shop',
      name: 'web',
      type: 'NodePort',
      externalIPs: [],
      instances: [
        {
          id: 'web-1',
          service: 'web',
          address: '192.0.2.11',
          port: 30080,
          tags: ['k8s'],
          meta: {},
          weights: { Passing: 1, Warning: 1 },
          checks: [{ id: 'shop/web-1', name: 'Kubernetes Readiness Check', status: 'passing' }],
          health: 'passing',
          k8sNode: 'node-a',
        },
      ],
    },
    {
      namespace: 'shop',
      name: 'admin',
      type: 'NodePort',
      externalIPs: [],
      instances: [],
      note: 'not synced: opted out',
    },
  ],
  toK8s: [
    {
      name: 'billing-db',
      tags: [],
      instances: 1,
      addresses: ['10.1.0.5:5432'],
      mirror: {
        namespace: 'default',
        name: 'billing-db',
        type: 'ExternalName',
        externalName: 'billing-db.service.consul',
        labels: {},
        annotations: {},
      },
    },
  ],
  owned: { registrations: [], k8sServices: [] },
};

test('catalogs: side by side on a wide terminal, stacked on a narrow one or a pipe', () => {
  const wide = renderCatalogs(catalogs, 140);
  assert.ok(wide[0]!.startsWith(TO_CONSUL_TITLE));
  assert.ok(wide[0]!.includes(` │ ${TO_K8S_TITLE}`));
  assert.ok(wide.every((l) => [...l].length <= 140));
  assert.ok(wide.some((l) => l.includes('→ web  192.0.2.11:30080  passing  node node-a')));
  const narrow = renderCatalogs(catalogs, SIDE_BY_SIDE_MIN_WIDTH - 1);
  assert.equal(narrow[0], TO_CONSUL_TITLE);
  assert.ok(!narrow.some((l) => l.includes('│')));
  const k8sTitle = narrow.indexOf(TO_K8S_TITLE);
  assert.ok(k8sTitle > 0 && narrow[k8sTitle - 1] === '', 'the Consul side follows a blank line');
  assert.deepEqual(narrow.slice(k8sTitle + 1), [
    'billing-db  1 instance',
    '  → default/billing-db  ExternalName billing-db.service.consul',
  ]);
  assert.deepEqual(renderCatalogs(catalogs), narrow, 'no width = stacked');
});

test('TTY: cursor home + clear to end, the screen cleared once, redrawn only on change', () => {
  const { writes, out } = terminal(true, 100, 30);
  const view = new ScreenView(out);
  const frame = { header: ['title'], catalogs: ['a', 'b'], events: ['Recent events'] };
  assert.equal(view.draw(frame), true);
  assert.equal(writes.length, 1);
  assert.ok(writes[0]!.includes(CLEAR_SCREEN), 'the first frame clears the screen');
  assert.ok(writes[0]!.endsWith(CLEAR_SCREEN_END));
  assert.ok(writes[0]!.includes(`${CURSOR_HOME}title${CLEAR_LINE_END}\n`));

  assert.equal(view.draw(frame), false, 'same text: nothing written');
  assert.equal(writes.length, 1);

  assert.equal(view.draw({ ...frame, catalogs: ['a', 'c'] }), true);
  assert.equal(writes.length, 2);
  assert.ok(writes[1]!.startsWith(CURSOR_HOME), 'redrawn from the top left');
  assert.ok(!writes[1]!.includes(CLEAR_SCREEN), 'no full-screen clear (no flicker)');
  assert.ok(writes[1]!.includes(`c${CLEAR_LINE_END}`));

  view.invalidate();
  assert.equal(view.draw({ ...frame, catalogs: ['a', 'c'] }), true, 'redrawn after a resize');
  view.close();
  assert.ok(writes.at(-1)!.startsWith(SHOW_CURSOR));
});

test('TTY: lines cut to the width, the frame to the height, events kept', () => {
  const { writes, out } = terminal(true, 30, 12);
  const view = new ScreenView(out);
  const many = Array.from({ length: 40 }, (_, i) => `catalog line ${i} ${'x'.repeat(40)}`);
  view.draw({ header: ['title'], catalogs: many, events: ['Recent events', '  e1'] });
  const lines = writes[0]!.split('\n');
  assert.ok(lines.length <= 11, `${lines.length} lines for 12 rows`);
  for (const l of lines) {
    // eslint-disable-next-line no-control-regex
    const visible = l.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
    assert.ok([...visible].length <= 30, visible);
  }
  assert.ok(writes[0]!.includes(`  e1${CLEAR_LINE_END}`), 'the events stay visible');
  assert.ok(writes[0]!.includes('more lines'));
});

test('not a TTY: header once, catalogs as a block when they change, events as lines, no escapes', () => {
  const { writes, out } = terminal(false);
  const view = new PlainView(out, ['title', 'how to']);
  assert.deepEqual(writes, ['title\nhow to\n\n']);
  view.draw({ catalogs: ['a', 'b'] });
  view.draw({ catalogs: ['a', 'b'] });
  view.draw({ catalogs: ['a', 'c'] });
  view.event({
    at: new Date(2026, 0, 1, 12, 1, 2, 3),
    source: 'admission',
    subject: 'shop/web',
    detail: 'UPDATE services',
    status: 200,
    durationMs: 2.14,
  });
  view.close();
  assert.deepEqual(writes.slice(1), [
    'a\nb\n\n',
    'a\nc\n\n',
    'event 12:01:02.003  admission     shop/web  UPDATE services  2.1 ms\n',
  ]);
  assert.ok(!writes.some((w) => ESCAPE.test(w)));
});

test('the live view redraws when an event arrives and stops cleanly', async () => {
  const { writes, out } = terminal(false);
  const events = new EventLog();
  let reads = 0;
  const live = startLiveView(
    {
      events,
      catalogs: () => {
        reads++;
        return Promise.resolve(catalogs);
      },
    },
    out,
    ['title'],
    { intervalMs: 10_000 },
  );
  await new Promise((r) => setTimeout(r, 20));
  const before = reads;
  events.add({
    at: new Date(),
    source: 'consul-watch',
    subject: '2 services',
    detail: 'index 7',
    status: 200,
    durationMs: 1,
  });
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(reads > before, 'catalogs re-read after the event');
  assert.ok(writes.some((w) => w.startsWith('event ') && w.includes('consul-watch  2 services')));
  assert.equal(writes.filter((w) => w.includes(TO_CONSUL_TITLE)).length, 1, 'unchanged: one block');
  await live.stop();
});

test('recent events: the last n, with status when it is not 200', () => {
  const log = new EventLog(3);
  for (let i = 0; i < 5; i++) {
    log.add({
      at: new Date(),
      source: 'auth',
      subject: `/p${i}`,
      detail: 'refused: missing',
      status: 401,
      durationMs: 0,
    });
  }
  assert.equal(log.count(), 5);
  assert.deepEqual(
    log.recent(2).map((e) => e.subject),
    ['/p3', '/p4'],
  );
  const lines = renderEvents(log.recent(8));
  assert.equal(lines.length, 4);
  assert.match(lines[1]!, /auth {10}\/p2 {2}refused: missing {2}→ 401$/);
});

test('the handler wrapper records what each call was about and how long it took', async () => {
  const log = new EventLog();
  const seen: SandboxEvent[] = [];
  log.onEvent((e) => seen.push(e));
  const handlers = recordHandlers(
    {
      admission: async (req, res) => {
        res.json({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: { uid: 'u', allowed: true, warnings: ['w'] },
        });
      },
      consulServices: async (_req, res) => {
        res.json({
          created: 1,
          updated: 0,
          deleted: 2,
          unchanged: 3,
          skipped: 0,
          failed: 0,
          warnings: [],
        });
      },
      audit: async (_req, res) => {
        res.status(503).json({ error: { code: 'WRITE_FAILED', message: 'x' } });
      },
      reconcile: async (_req, res) => {
        res.json({});
      },
    },
    log,
  );
  const app = express();
  app.use(express.json());
  app.post('/k8s/admission', handlers.admission);
  app.post('/consul/services', handlers.consulServices);
  app.post('/k8s/audit', handlers.audit);
  await request(app)
    .post('/k8s/admission')
    .send({
      request: {
        uid: 'u',
        operation: 'UPDATE',
        namespace: 'shop',
        name: 'web-x7k2p',
        resource: { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' },
        object: {
          metadata: { name: 'web-x7k2p', labels: { 'kubernetes.io/service-name': 'web' } },
        },
      },
    })
    .expect(200);
  await request(app)
    .post('/consul/services')
    .set('X-Consul-Index', '42')
    .send({ a: [], b: ['x'] })
    .expect(200);
  await request(app)
    .post('/k8s/audit')
    .send({
      items: [
        { objectRef: { namespace: 'shop', name: 'web' } },
        { objectRef: { namespace: 'shop', name: 'web' } },
      ],
    })
    .expect(503);
  assert.deepEqual(
    seen.map((e) => [e.source, e.subject, e.detail, e.status]),
    [
      ['admission', 'shop/web', 'UPDATE endpointslices: 1 warning(s)', 200],
      ['consul-watch', '2 services', 'index 42: created 1, deleted 2', 200],
      ['audit', 'shop/web', '2 events', 503],
    ],
  );
  assert.ok(seen.every((e) => e.durationMs >= 0 && e.durationMs < 1000));
});

test('refused calls come from the auth-failure log line', () => {
  const line = JSON.stringify({
    level: 'warn',
    event: 'auth-failure',
    reason: 'wrong-scope',
    path: '/consul/services',
  });
  const e = eventFromLogLine(line + '\n');
  assert.deepEqual([e?.source, e?.subject, e?.status], ['auth', '/consul/services', 403]);
  assert.equal(
    eventFromLogLine(
      JSON.stringify({ event: 'auth-failure', reason: 'missing', path: '/k8s/audit' }),
    )?.status,
    401,
  );
  assert.equal(
    eventFromLogLine(JSON.stringify({ event: 'http-request', path: '/k8s/audit' })),
    undefined,
  );
  assert.equal(eventFromLogLine('not json "auth-failure"'), undefined);
});

test('example paths are shown relative to the working directory when inside it', () => {
  assert.equal(displayPath('/repo/examples/a.yaml', '/repo'), 'examples/a.yaml');
  assert.equal(displayPath('/repo/examples/a.yaml', '/elsewhere'), '/repo/examples/a.yaml');
});
