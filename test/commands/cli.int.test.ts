// The command line as an operator meets it (issue 19): the built command in its own process, its
// output and exit code. Help per command, the version, "did you mean", refused arguments, a
// missing kubeconfig named with what to pass, and plan --detailed-exitcode against the emulators.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startConsulEmulator, type ConsulEmulator } from '../../dev/emulators/consul/index.js';
import { startKubeEmulator, type KubeEmulator } from '../../dev/emulators/kube/index.js';
import { service } from '../fixtures/reviews.js';
import { FLAGS, appliesTo } from '../../src/config/index.js';
import { REPO_ROOT, cleanEnv, runCli } from './run-cli.js';

const version = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

/** The flags a help text lists: the `--name` at the start of its flag lines. */
const listedFlags = (help: string): string[] =>
  [...help.matchAll(/^ {2}--([A-Za-z0-9-]+)/gm)].map((m) => m[1]!).sort();

/** A home directory without ~/.kube/config, and no KUBECONFIG: a machine kubectl is not set up on. */
const bareEnv = (): NodeJS.ProcessEnv => cleanEnv({ HOME: mkdtempSync(join(tmpdir(), 'home-')) });

const CLIENTS = /node_modules\/(@kubernetes\/client-node|consul)\//;

test('--help is an overview: the commands and how to get one command’s help, no flags', async () => {
  for (const args of [['--help'], ['help'], ['-h'], []]) {
    const r = await runCli(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.equal(r.stderr, '');
    for (const command of ['serve', 'reconcile', 'plan', 'token', 'version', 'help'])
      assert.match(r.stdout, new RegExp(`^ {2}${command} +\\S`, 'm'), `${command} listed`);
    assert.match(r.stdout, /k8s-consul-sync <command> --help/);
    assert.deepEqual(listedFlags(r.stdout), [], 'no flag list in the overview');
  }
});

test('<command> --help, help <command> and <command> -h: usage, example, only that command’s flags', async () => {
  for (const command of ['serve', 'reconcile', 'plan', 'token']) {
    const r = await runCli([command, '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^Usage: k8s-consul-sync ${command}\\b`));
    assert.match(r.stdout, new RegExp(`Examples:\\n {2}k8s-consul-sync ${command} `));
    assert.match(r.stdout, /^Exit codes: /m);
    const expected = FLAGS.filter((f) => appliesTo(f, command)).map((f) => f.name);
    assert.deepEqual(listedFlags(r.stdout), [...expected].sort(), `${command}: its flags`);
    assert.ok(r.stdout.split('\n').length < 120, `${command} --help is not a wall of text`);
  }
  const plan = await runCli(['plan', '--help']);
  for (const args of [
    ['help', 'plan'],
    ['plan', '-h'],
    ['-help', 'plan'],
  ]) {
    const r = await runCli(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.equal(r.stdout, plan.stdout, `${args.join(' ')} = plan --help`);
  }
  assert.match(plan.stdout, /--detailed-exitcode/);
  assert.doesNotMatch(plan.stdout, /--listen|--subject|--tls-cert-file/);
  // Grouped: the command's own flags first.
  assert.match(plan.stdout, /Examples:[\s\S]*\n\nPlan and reconcile flags:\n {2}--/);
  assert.match(plan.stdout, /\nConnection flags:\n[\s\S]*\nSync flags/);
});

test('--version and `version` print the package version', async () => {
  for (const args of [['--version'], ['version'], ['-version'], ['plan', '--version']]) {
    const r = await runCli(args);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `k8s-consul-sync ${version}\n`, args.join(' '));
  }
});

test('help and --version load neither the Kubernetes nor the Consul client', async () => {
  for (const args of [['--help'], ['plan', '--help'], ['--version']]) {
    const r = await runCli(args, { traceModules: true });
    assert.equal(r.code, 0);
    assert.ok(r.modules.length > 0, 'the module trace works');
    assert.deepEqual(
      r.modules.filter((m) => CLIENTS.test(m)),
      [],
      `${args.join(' ')} loads no client`,
    );
  }
});

// args, the one line on stderr
const usageErrors: [string[], string][] = [
  [['plan', '--k8s-tag=foo'], 'unknown flag --k8s-tag; did you mean --consul-k8s-tag?'],
  [['--k8s-tag=foo'], 'unknown flag --k8s-tag; did you mean --consul-k8s-tag?'],
  [['plan', '-k8s-tag', 'foo'], 'unknown flag -k8s-tag; did you mean --consul-k8s-tag?'],
  [['pln'], 'unknown command "pln"; did you mean plan? (see k8s-consul-sync --help)'],
  [['help', 'pln'], 'unknown command "pln"; did you mean plan? (see k8s-consul-sync --help)'],
  [
    ['plan', 'foo'],
    'unexpected argument "foo": plan takes no arguments (see k8s-consul-sync plan --help)',
  ],
  [
    ['plan', '--to-k8s', 'false'],
    'unexpected argument "false": plan takes no arguments; a boolean flag takes its value after =: --to-k8s=false',
  ],
  [
    ['plan', '--to-consul=false', '--to-k8s=false'],
    'plan has nothing to do: --to-consul and --to-k8s are both false (flags or SYNC_TO_CONSUL/SYNC_TO_K8S); turn one direction on',
  ],
  [
    ['reconcile', '-to-consul=false', '-to-k8s=false'],
    'reconcile has nothing to do: --to-consul and --to-k8s are both false (flags or SYNC_TO_CONSUL/SYNC_TO_K8S); turn one direction on',
  ],
  [
    ['plan', '--listen=:1'],
    '--listen does not apply to plan: it is a flag of serve, emulate (see k8s-consul-sync plan --help)',
  ],
  [
    ['plan', '--detailed-exitcode', '--k8s-tag=foo'],
    'unknown flag --k8s-tag; did you mean --consul-k8s-tag?',
  ],
];

test('usage errors: one line naming the fix, nothing on stdout, exit 2 (1 with --detailed-exitcode)', async () => {
  for (const [args, message] of usageErrors) {
    const r = await runCli(args, { traceModules: true });
    assert.equal(r.stderr, `k8s-consul-sync: ${message}\n`, args.join(' '));
    assert.equal(r.stdout, '');
    assert.equal(r.code, args.includes('--detailed-exitcode') ? 1 : 2, args.join(' '));
    assert.deepEqual(
      r.modules.filter((m) => CLIENTS.test(m)),
      [],
      'a usage error loads no client',
    );
  }
});

test('no kubeconfig anywhere: what was looked for and what to pass, one line, exit 2', async () => {
  for (const command of ['plan', 'reconcile']) {
    const r = await runCli([command], { env: bareEnv(), traceModules: true });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.split('\n').filter((l) => l.length > 0);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0]!,
      /^k8s-consul-sync: no Kubernetes credentials: no --kubeconfig, KUBECONFIG not set, \/\S+\/\.kube\/config not found, not in a pod \(no \/var\/run\/secrets\/kubernetes\.io\/serviceaccount\/token\); pass --kubeconfig FILE or set KUBECONFIG=FILE/,
    );
    assert.doesNotMatch(r.stderr, /skipTLSVerify|"level"/);
    assert.deepEqual(
      r.modules.filter((m) => CLIENTS.test(m)),
      [],
      `${command}: answered before loading the clients`,
    );
  }
  const missing = await runCli(['plan', '--kubeconfig=/nonexistent/kubeconfig'], {
    env: bareEnv(),
  });
  assert.equal(missing.code, 2);
  assert.equal(
    missing.stderr,
    'k8s-consul-sync: --kubeconfig /nonexistent/kubeconfig: no such file; pass --kubeconfig FILE or set KUBECONFIG=FILE (the file kubectl uses)\n',
  );
  const detailed = await runCli(['plan', '--detailed-exitcode'], { env: bareEnv() });
  assert.equal(detailed.code, 1, 'with --detailed-exitcode every error is 1');
  const serve = await runCli(['serve', '--insecure-http', '--auth-disabled'], { env: bareEnv() });
  assert.equal(serve.code, 2);
  assert.match(serve.stderr, /^k8s-consul-sync: no Kubernetes credentials: .*--kubeconfig FILE/);
});

describe('against the emulators', () => {
  let consul: ConsulEmulator;
  let kube: KubeEmulator;
  let kubeconfig: string;

  before(async () => {
    [consul, kube] = await Promise.all([startConsulEmulator(), startKubeEmulator()]);
    kubeconfig = join(mkdtempSync(join(tmpdir(), 'cli-')), 'kubeconfig');
    writeFileSync(kubeconfig, kube.kubeconfig);
    kube.seed([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      service('shop', 'web', {
        type: 'ClusterIP',
        externalIPs: ['192.0.2.7'],
        ports: [{ port: 80 }],
      }),
      // Not ours: Consul's billing-db is left alone rather than written over it.
      service('default', 'billing-db', { type: 'ClusterIP', ports: [{ port: 5432 }] }),
    ]);
    await fetch(`${consul.url}/v1/catalog/register`, {
      method: 'PUT',
      body: JSON.stringify({
        Node: 'legacy',
        Address: '10.9.0.1',
        Service: { Service: 'billing-db', Port: 5432 },
      }),
    });
  });
  after(async () => {
    await Promise.all([consul.close(), kube.close()]);
  });

  const cli = (args: string[]) =>
    runCli([...args, `--kubeconfig=${kubeconfig}`], {
      env: cleanEnv({ CONSUL_HTTP_ADDR: consul.address }),
    });

  test('plan --detailed-exitcode: 2 with changes, 0 once reconciled, 1 on an error', async () => {
    const pending = await cli(['plan', '--detailed-exitcode']);
    assert.equal(pending.code, 2, pending.stderr);
    assert.match(
      pending.stdout,
      /^create\s+consul\s+web-[0-9a-f]{12}\s+new instance 192\.0\.2\.7:80/m,
    );
    // The conflict is a row of the table, not hidden.
    assert.match(
      pending.stdout,
      /^skip\s+kubernetes\s+default\/billing-db\s+service default\/billing-db exists without label consul=true/m,
    );
    assert.match(
      pending.stdout,
      /^Plan: 2 to create, 0 to update, 0 to delete\. 1 object left alone\. Nothing was written \(dry run\)/m,
    );
    assert.equal(pending.stderr, '', 'the conflict is in the table, not logged again');
    assert.equal(consul.requestCounts()['PUT /v1/txn'] ?? 0, 0, 'plan writes nothing');
    const plain = await cli(['plan']);
    assert.equal(plain.code, 0, 'without the flag, pending changes are not an error');

    const applied = await cli(['reconcile']);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(
      applied.stdout,
      /^to-consul: 1 created, 0 updated, 0 deleted, 0 unchanged, 0 skipped$/m,
    );
    assert.match(
      applied.stdout,
      /^Applied: 2 created, 0 updated, 0 deleted\. 1 object left alone\.$/m,
    );

    for (const args of [['plan', '--detailed-exitcode=true'], ['reconcile']]) {
      const clean = await cli(args);
      assert.equal(clean.code, 0, clean.stderr);
      assert.match(
        clean.stdout,
        /^No changes\. 1 object left alone\.$/m,
        `${args[0]!} says No changes.`,
      );
    }

    consul.faults.add({ path: /\/v1\/catalog/, status: 500, body: 'no leader' });
    try {
      const failed = await cli(['plan', '--detailed-exitcode']);
      assert.equal(failed.code, 1, failed.stderr);
      assert.match(failed.stdout, /ERROR: consul/);
      assert.match(failed.stdout, /^Failed: /m);
      const without = await cli(['plan']);
      assert.equal(without.code, 1, 'the exit code table without the flag (Consul 500: 1)');
    } finally {
      consul.faults.clear();
    }
  });
});
