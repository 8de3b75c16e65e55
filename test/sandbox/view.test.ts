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
  CURSOR_HOME,
  cursorUp,
  HIDE_CURSOR,
  PlainView,
  ScreenView,
  SHOW_CURSOR,
} from '../../dev/sandbox/view.js';
import {
  renderCatalogs,
  renderEvents,
  SIDE_BY_SIDE_MIN_WIDTH,
  terminalWidth,
  TO_CONSUL_TITLE,
  TO_K8S_TITLE,
} from '../../dev/sandbox/render.js';
import {
  EventLog,
  eventFromLogLine,
  recordHandlers,
  type SandboxEvent,
} from '../../dev/sandbox/events.js';
import {
  displayPath,
  exitText,
  shellWord,
  startLiveView,
  startText,
} from '../../dev/sandbox/live.js';
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

test('catalogs at a given width: the whole width used, a line cut only where it does not fit', () => {
  const long: Catalogs = {
    ...catalogs,
    toConsul: [{ ...catalogs.toConsul[1]!, note: `not synced: ${'n'.repeat(90)}` }],
  };
  const wide = renderCatalogs(long, 200);
  assert.ok(wide.every((l) => [...l].length <= 200));
  assert.ok(
    wide.includes(
      `  not synced: ${'n'.repeat(90)} │   → default/billing-db  ExternalName billing-db.service.consul`,
    ),
    'the left column as wide as its longest line (104), the right one beside it',
  );
  assert.ok(!wide.some((l) => l.includes('…')), 'nothing cut at 200 columns (more than 120)');
  assert.ok(
    wide.some((l) => l.includes('→ default/billing-db  ExternalName billing-db.service.consul')),
  );

  const mid = renderCatalogs(long, 130);
  assert.ok(
    mid.every((l) => [...l].length <= 130),
    'never wider than asked',
  );
  const cut = mid.find((l) => l.startsWith('  not synced:'))!;
  assert.ok(cut.includes('… │'), `the long left line is cut at its column: ${cut}`);
  assert.ok(
    mid.some((l) => l.endsWith('│   → default/billing-db  ExternalName billing-db.service.consul')),
    'the right column keeps what fits',
  );
});

test('TTY: header printed once above the frame, the frame redrawn in place only on change', () => {
  const { writes, out } = terminal(true, 100, 30);
  const view = new ScreenView(out, ['title', 'export TOKEN=x']);
  assert.deepEqual(writes, [`${HIDE_CURSOR}title\nexport TOKEN=x\n\n`], 'the header, at once');
  const frame = { catalogs: ['a', 'b'], events: ['Recent events'] };
  assert.equal(view.draw(frame), true);
  assert.equal(
    writes[1],
    [
      `${CLEAR_LINE_END}a`,
      `${CLEAR_LINE_END}b`,
      CLEAR_LINE_END,
      `${CLEAR_LINE_END}Recent events`,
    ].join('\n'),
  );
  assert.ok(
    !writes[1].includes(CLEAR_SCREEN) && !writes[1].includes(CURSOR_HOME),
    'the header stays',
  );

  assert.equal(view.draw(frame), false, 'same text: nothing written');
  assert.equal(writes.length, 2);

  assert.equal(view.draw({ ...frame, catalogs: ['a', 'c'] }), true);
  assert.ok(
    writes[2]!.startsWith(`\r${cursorUp(3)}${CLEAR_LINE_END}a\n`),
    'back to the first line',
  );
  assert.ok(!writes[2]!.includes('title'), 'the header is not redrawn');
  assert.ok(!writes[2]!.includes(CLEAR_SCREEN), 'no full-screen clear (no flicker)');

  // A shorter frame blanks the lines the longer one left.
  view.draw({ catalogs: ['a'], events: ['Recent events'] });
  assert.equal(writes[3]!.split('\n').length, 4);
  assert.ok(writes[3]!.endsWith(`\n${CLEAR_LINE_END}`));

  view.invalidate();
  assert.equal(view.draw({ catalogs: ['a'], events: ['Recent events'] }), true, 'after a resize');
  assert.ok(
    writes[4]!.startsWith(`${CLEAR_SCREEN}${CURSOR_HOME}title\nexport TOKEN=x\n\n`),
    'a resize reprints the header and the frame',
  );
  view.close();
  assert.equal(
    writes.at(-1),
    `\r${CLEAR_LINE_END}Recent events\n${SHOW_CURSOR}`,
    'the last line rewritten (no ^C left on it), the cursor below it and shown',
  );
  view.close();
  assert.equal(writes.length, 6, 'closed once');
});

test('TTY: lines cut to the width, the frame to the height, events kept', () => {
  const { writes, out } = terminal(true, 30, 12);
  const view = new ScreenView(out, ['title']);
  const many = Array.from({ length: 40 }, (_, i) => `catalog line ${i} ${'x'.repeat(40)}`);
  view.draw({ catalogs: many, events: ['Recent events', '  e1'] });
  const lines = writes[1]!.split('\n');
  assert.ok(lines.length <= 11, `${lines.length} lines for 12 rows`);
  for (const l of lines) {
    // eslint-disable-next-line no-control-regex
    const visible = l.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
    assert.ok([...visible].length <= 30, visible);
  }
  assert.ok(writes[1]!.includes(`${CLEAR_LINE_END}  e1`), 'the events stay visible');
  assert.ok(writes[1]!.includes('more lines'));
});

test('TTY: the terminal width is used, not a fixed one; a sane width when it is unknown', () => {
  const long = `${'w'.repeat(150)}|end`;
  const { writes, out } = terminal(true, 200, 30);
  new ScreenView(out, []).draw({ catalogs: [long], events: [] });
  assert.ok(writes[1]!.includes('|end'), 'a 154-column line is whole on a 200-column terminal');
  const narrow = terminal(true, 100, 30);
  new ScreenView(narrow.out, []).draw({ catalogs: [long], events: [] });
  assert.ok(narrow.writes[1]!.includes(`${'w'.repeat(99)}…`), 'cut at 100 with an ellipsis');
  assert.equal(terminalWidth({ columns: 173 }, {}), 173);
  assert.equal(terminalWidth({ columns: 0 }, { COLUMNS: '132' }), 132, '$COLUMNS when 0');
  assert.equal(terminalWidth({}, {}), 80, '80 when nothing says');
});

test('not a TTY: header once, catalogs as a block when they change, events as lines, no escapes', () => {
  const { writes, out } = terminal(false);
  const view = new PlainView(out, ['title', 'how to']);
  assert.deepEqual(writes, ['title\nhow to\n\n']);
  view.draw({ catalogs: ['a', 'b'], events: [] });
  view.draw({ catalogs: ['a', 'b'], events: [] });
  view.draw({ catalogs: ['a', 'c'], events: [] });
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
      consulChecks: async (_req, res) => {
        res.json({});
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

test('start text: the exports, the token, a curl line that quotes its URL, where the log is', () => {
  const info = {
    serverUrl: 'http://127.0.0.1:4000',
    kubeUrl: 'http://127.0.0.1:4001',
    consulUrl: 'http://127.0.0.1:4002',
    consulAddress: '127.0.0.1:4002',
    kubeconfigPath: '/tmp/k8s-consul-sync-sandbox/kubeconfig',
    logFile: '/tmp/k8s-consul-sync-sandbox/server.log',
    secretFile: '/tmp/k8s-consul-sync-sandbox/jwt-hmac-secret',
    operator: {
      token: 'aaa.bbb.ccc',
      subject: 'sandbox-operator',
      scopes: ['reconcile'] as const,
      tokenArgs: [],
    },
    keeps: { logFile: true, kubeconfig: false },
    root: '/repo',
    cwd: '/repo',
  };
  const lines = startText(info);
  for (const expected of [
    '  export KUBECONFIG=/tmp/k8s-consul-sync-sandbox/kubeconfig',
    '  export CONSUL_HTTP_ADDR=127.0.0.1:4002',
    '  export TOKEN=aaa.bbb.ccc',
    `  curl -H "Authorization: Bearer $TOKEN" -X POST 'http://127.0.0.1:4000/reconcile?dryRun=true'`,
    '  server log  /tmp/k8s-consul-sync-sandbox/server.log  (kept after exit)',
    '  kubeconfig  /tmp/k8s-consul-sync-sandbox/kubeconfig  (removed on exit)',
    '  kubectl create -f examples/web-admin-nodeport.yaml',
  ]) {
    assert.ok(lines.includes(expected), `${expected}\nin\n${lines.join('\n')}`);
  }
  assert.ok(
    lines.some((l) =>
      l.includes(
        'npx k8s-consul-sync token --auth-jwt-secret-file=/tmp/k8s-consul-sync-sandbox/jwt-hmac-secret',
      ),
    ),
    'how to mint another token',
  );
  assert.deepEqual(exitText(info), [
    '  server log  /tmp/k8s-consul-sync-sandbox/server.log  (kept)',
    '  kubeconfig  /tmp/k8s-consul-sync-sandbox/kubeconfig  (removed with the emulator)',
  ]);
  assert.equal(shellWord("/tmp/a b/it's"), `'/tmp/a b/it'\\''s'`);
});
