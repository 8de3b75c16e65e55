import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  COMMANDS,
  ConfigError,
  FLAGS,
  HelpRequested,
  appliesTo,
  parseConfig,
  parseDuration,
  renderFlagTable,
  type Config,
} from '../../src/config/index.js';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}): Config =>
  parseConfig(['serve', ...argv], env);

/** A command `flag` applies to: serve when it does, else the first it names. */
const commandFor = (flag: string): string => {
  const def = FLAGS.find((f) => f.name === flag)!;
  return appliesTo(def, 'serve') ? 'serve' : def.commands![0]!;
};
const parseFor = (flag: string, argv: string[], env: NodeJS.ProcessEnv = {}): Config =>
  parseConfig([commandFor(flag), ...argv], env);

test('defaults follow docs/reference.md "Commands"', () => {
  const c = parse([]);
  assert.equal(c.command, 'serve');
  assert.equal(c.toConsul, true);
  assert.equal(c.toK8s, true);
  assert.equal(c.k8sDefaultSync, true);
  assert.deepEqual(c.allowK8sNamespaces, ['*']);
  assert.deepEqual(c.denyK8sNamespaces, ['kube-system', 'kube-public']);
  assert.equal(c.consulServicePrefix, '');
  assert.equal(c.addK8sNamespaceSuffix, false);
  assert.equal(c.consulK8sTag, 'k8s');
  assert.equal(c.consulNodeName, 'k8s-sync');
  assert.equal(c.syncId, '');
  assert.equal(c.syncClusterIPServices, false);
  assert.equal(c.syncLBServicesEndpoints, false);
  assert.equal(c.nodePortSyncType, 'ExternalFirst');
  assert.equal(c.k8sServicePrefix, '');
  assert.equal(c.k8sWriteNamespace, 'default');
  assert.equal(c.consulDomain, 'consul');
  assert.equal(c.dryRun, false);
  assert.equal(c.server.host, '0.0.0.0');
  assert.equal(c.server.port, 8443);
  assert.equal(c.server.insecureHttp, false);
  assert.equal(c.server.maxBodyBytes, 16777216);
  assert.equal(c.server.writeTimeoutMs, 3000);
  assert.equal(c.server.reconcileIntervalMs, 0);
  // not in docs/reference.md: ours (README, Configuration)
  assert.equal(c.server.nodeCacheTtlMs, 10000);
  assert.equal(c.server.registrationViewIntervalMs, 30000);
  // issue 14: confirmations after about 1 s and 5 s, breaker after 3 outages, guard above 10
  assert.deepEqual(c.server.confirmAfterMs, [1000, 5000]);
  assert.equal(c.server.breakerFailures, 3);
  assert.equal(c.server.breakerProbeIntervalMs, 1000);
  // issue 17: one bound on requests in flight, for every bulk write and read
  assert.equal(c.server.concurrency, 8);
  assert.equal(c.reconcile.deleteGuardMin, 10);
  // issue 20: a legal Service can list 100,000 externalIPs
  assert.equal(c.maxInstancesPerService, 1000);
  assert.equal(c.auth.issuer, 'k8s-consul-sync');
  assert.equal(c.auth.audience, 'k8s-consul-sync');
  assert.equal(c.auth.disabled, false);
  assert.deepEqual(c.auth.jwtPublicKeyFiles, []);
  assert.equal(c.consul.url, 'http://127.0.0.1:8500');
  assert.equal(c.consul.token, undefined);
  assert.equal(c.reconcile.maxDeleteRatio, 0.5);
  assert.equal(c.reconcile.output, 'table');
});

// flag, value given as flag, expected (path into Config, value)
const cases: [string, string, (c: Config) => unknown, unknown][] = [
  ['to-consul', 'false', (c) => c.toConsul, false],
  ['to-k8s', 'F', (c) => c.toK8s, false],
  ['k8s-default-sync', '0', (c) => c.k8sDefaultSync, false],
  ['allow-k8s-namespace', 'shop', (c) => c.allowK8sNamespaces, ['shop']],
  ['deny-k8s-namespace', 'legacy', (c) => c.denyK8sNamespaces, ['legacy']],
  ['consul-service-prefix', 'k8s-', (c) => c.consulServicePrefix, 'k8s-'],
  ['add-k8s-namespace-suffix', 'true', (c) => c.addK8sNamespaceSuffix, true],
  ['consul-k8s-tag', 'kube', (c) => c.consulK8sTag, 'kube'],
  ['consul-node-name', 'cluster-a', (c) => c.consulNodeName, 'cluster-a'],
  ['sync-id', 'cluster-a', (c) => c.syncId, 'cluster-a'],
  ['sync-clusterip-services', 'TRUE', (c) => c.syncClusterIPServices, true],
  ['sync-lb-services-endpoints', 't', (c) => c.syncLBServicesEndpoints, true],
  ['enable-ingress', 'true', (c) => c.enableIngress, true],
  // consul-k8s's spelling; the variable is SYNC_LOADBALANCER_IPS.
  ['loadBalancer-ips', 'True', (c) => c.loadBalancerIPs, true],
  ['enable-namespaces', 'true', (c) => c.enableNamespaces, true],
  ['port-meta', 'service-port', (c) => c.portMeta, 'service-port'],
  ['consul-destination-namespace', 'team-a', (c) => c.consulDestinationNamespace, 'team-a'],
  ['enable-k8s-namespace-mirroring', '1', (c) => c.enableK8sNamespaceMirroring, true],
  ['k8s-namespace-mirroring-prefix', 'k8s-', (c) => c.k8sNamespaceMirroringPrefix, 'k8s-'],
  [
    'consul-cross-namespace-acl-policy',
    'cross-namespace-read',
    (c) => c.consulCrossNamespaceAclPolicy,
    'cross-namespace-read',
  ],
  ['node-port-sync-type', 'InternalOnly', (c) => c.nodePortSyncType, 'InternalOnly'],
  ['k8s-service-prefix', 'consul-', (c) => c.k8sServicePrefix, 'consul-'],
  ['k8s-write-namespace', 'consul-services', (c) => c.k8sWriteNamespace, 'consul-services'],
  ['consul-domain', 'dc1.consul', (c) => c.consulDomain, 'dc1.consul'],
  ['dry-run', 'true', (c) => c.dryRun, true],
  [
    'consul-http-addr',
    'https://consul.example:8501',
    (c) => c.consul.url,
    'https://consul.example:8501',
  ],
  ['token', 's3cret', (c) => c.consul.token, 's3cret'],
  ['kubeconfig', '/tmp/kc', (c) => c.kube.kubeconfig, '/tmp/kc'],
  ['kube-context', 'prod', (c) => c.kube.context, 'prod'],
  ['listen', '127.0.0.1:9443', (c) => [c.server.host, c.server.port], ['127.0.0.1', 9443]],
  ['tls-client-ca-file', '/ca.pem', (c) => c.server.tlsClientCaFile, '/ca.pem'],
  ['insecure-http', 'true', (c) => c.server.insecureHttp, true],
  ['auth-jwt-secret-file', '/s', (c) => c.auth.jwtSecretFile, '/s'],
  ['auth-jwt-public-key-file', '/a.pem', (c) => c.auth.jwtPublicKeyFiles, ['/a.pem']],
  ['auth-jwt-issuer', 'me', (c) => c.auth.issuer, 'me'],
  ['auth-jwt-audience', 'you', (c) => c.auth.audience, 'you'],
  ['auth-disabled', 'true', (c) => c.auth.disabled, true],
  ['max-body-bytes', '2048', (c) => c.server.maxBodyBytes, 2048],
  ['write-timeout', '500ms', (c) => c.server.writeTimeoutMs, 500],
  ['reconcile-interval', '5m', (c) => c.server.reconcileIntervalMs, 300000],
  ['node-cache-ttl', '0', (c) => c.server.nodeCacheTtlMs, 0],
  ['registration-view-interval', '0', (c) => c.server.registrationViewIntervalMs, 0],
  ['max-instances-per-service', '0', (c) => c.maxInstancesPerService, 0],
  // Sorted ascending whatever the order given.
  ['confirm-after', '5s,200ms', (c) => c.server.confirmAfterMs, [200, 5000]],
  ['breaker-failures', '5', (c) => c.server.breakerFailures, 5],
  ['audit-deadline', '2s', (c) => c.server.auditDeadlineMs, 2000],
  ['breaker-probe-interval', '250ms', (c) => c.server.breakerProbeIntervalMs, 250],
  ['concurrency', '2', (c) => c.server.concurrency, 2],
  ['log-level', 'debug', (c) => c.logLevel, 'debug'],
  ['max-delete-ratio', '0.25', (c) => c.reconcile.maxDeleteRatio, 0.25],
  ['delete-guard-min', '0', (c) => c.reconcile.deleteGuardMin, 0],
  ['force', 'true', (c) => c.reconcile.force, true],
  ['output', 'json', (c) => c.reconcile.output, 'json'],
  ['direction', 'to-k8s', (c) => c.reconcile.direction, 'to-k8s'],
  ['subject', 'apiserver', (c) => c.token.subject, 'apiserver'],
  ['scope', 'k8s:audit', (c) => c.token.scopes, ['k8s:audit']],
  ['ttl', '1h', (c) => c.token.ttlMs, 3600000],
  ['private-key-file', '/k.pem', (c) => c.token.privateKeyFile, '/k.pem'],
  // Config.token.format is read through the token command's accessor (src/commands/token.ts).
  ['format', 'path', (c) => c.token.format, 'path'],
  ['detailed-exitcode', 'true', (c) => c.reconcile.detailedExitCode, true],
  ['emit-events', 'false', (c) => c.emitEvents, false],
  ['consul-to-k8s-mode', 'endpoints', (c) => c.consulToK8sMode, 'endpoints'],
  ['consul-to-k8s-service-type', 'ClusterIP', (c) => c.consulToK8sServiceType, 'ClusterIP'],
  ['allow-consul-service', 'db-*,web', (c) => c.allowConsulServices, ['db-*', 'web']],
  ['deny-consul-service', 'consul', (c) => c.denyConsulServices, ['consul']],
  ['purge', 'true', (c) => c.reconcile.purge, true],
  ['adopt-consul-k8s', 'true', (c) => c.reconcile.adoptConsulK8s, true],
  ['partition', 'team-a', (c) => c.consul.partition, 'team-a'],
];

test('every flag is covered by the table below', () => {
  const covered = new Set(cases.map(([f]) => f));
  for (const tls of ['tls-cert-file', 'tls-key-file']) covered.add(tls);
  assert.deepEqual(
    FLAGS.map((f) => f.name).filter((n) => !covered.has(n)),
    [],
  );
});

for (const [flag, value, get, expected] of cases) {
  const env = 'SYNC_' + flag.toUpperCase().replaceAll('-', '_');
  test(`--${flag}: flag, ${env}, and flag over environment`, () => {
    const parse = (argv: string[], env: NodeJS.ProcessEnv = {}): Config =>
      parseFor(flag, argv, env);
    assert.deepEqual(get(parse([`--${flag}=${value}`])), expected, 'flag with =');
    assert.deepEqual(get(parse([`-${flag}=${value}`])), expected, "Go's -flag=value");
    assert.deepEqual(get(parse([], { [env]: value })), expected, 'environment');
    const other = parse([]);
    // Booleans take `--flag` or `--flag=value` only (Go flag semantics); others also `--flag value`.
    const isBool = FLAGS.find((f) => f.name === flag)!.kind === 'bool';
    const argv = isBool ? [`--${flag}=${value}`] : [`--${flag}`, value];
    const fromBoth = parse(argv, { [env]: 'this-is-not-used' });
    assert.deepEqual(get(fromBoth), expected, 'flag wins over environment');
    assert.notDeepEqual(get(other), expected, 'the case differs from the default');
  });
}

test('tls cert and key files go together', () => {
  const c = parse(['--tls-cert-file=/c.pem', '--tls-key-file=/k.pem']);
  assert.equal(c.server.tlsCertFile, '/c.pem');
  assert.equal(c.server.tlsKeyFile, '/k.pem');
  assert.throws(() => parse(['--tls-cert-file=/c.pem']), /--tls-key-file/);
});

test('repeatable flags accumulate and replace the default', () => {
  const c = parse(['--deny-k8s-namespace', 'a', '--deny-k8s-namespace=b,c']);
  assert.deepEqual(c.denyK8sNamespaces, ['a', 'b', 'c']);
  const e = parse([], { SYNC_ALLOW_K8S_NAMESPACE: 'x, y' });
  assert.deepEqual(e.allowK8sNamespaces, ['x', 'y']);
});

test('Consul standard variables', () => {
  const c = parse([], {
    CONSUL_HTTP_ADDR: 'consul.internal:8501',
    CONSUL_HTTP_SSL: 'true',
    CONSUL_HTTP_TOKEN: 'tok',
    CONSUL_CACERT: '/ca',
    CONSUL_CLIENT_CERT: '/cert',
    CONSUL_CLIENT_KEY: '/key',
    CONSUL_TLS_SERVER_NAME: 'server.dc1.consul',
    CONSUL_HTTP_SSL_VERIFY: 'false',
  });
  assert.equal(c.consul.url, 'https://consul.internal:8501');
  assert.equal(c.consul.token, 'tok');
  assert.equal(c.consul.caCert, '/ca');
  assert.equal(c.consul.clientCert, '/cert');
  assert.equal(c.consul.clientKey, '/key');
  assert.equal(c.consul.tlsServerName, 'server.dc1.consul');
  assert.equal(c.consul.sslVerify, false);
  const f = parse(['--consul-http-addr=10.0.0.1:8500', '--token=flagtok'], {
    CONSUL_HTTP_ADDR: 'ignored:1',
    CONSUL_HTTP_TOKEN: 'ignored',
  });
  assert.equal(f.consul.url, 'http://10.0.0.1:8500');
  assert.equal(f.consul.token, 'flagtok');
  const file = parse([], { CONSUL_HTTP_TOKEN_FILE: '/run/token' });
  assert.equal(file.consul.tokenFile, '/run/token');
  assert.equal(file.consul.token, undefined);
});

// flag, bad value, fragment of what is allowed
const invalid: [string, string, string][] = [
  ['to-consul', 'yes', 'true or false'],
  ['to-k8s', 'on', 'true or false'],
  ['k8s-default-sync', 'tRuE', 'true or false'],
  ['allow-k8s-namespace', 'Bad_NS', 'DNS-1123'],
  ['deny-k8s-namespace', '-x', 'DNS-1123'],
  ['consul-service-prefix', 'a b', 'letters, digits'],
  ['consul-k8s-tag', 'a,b', 'non-empty tag'],
  ['consul-node-name', 'k8s_sync', '[A-Za-z0-9-]{1,63}'],
  ['consul-node-name', 'x'.repeat(64), '[A-Za-z0-9-]{1,63}'],
  ['sync-id', 'a b', '[A-Za-z0-9_.:-]'],
  ['node-port-sync-type', 'External', 'ExternalOnly, ExternalFirst, InternalOnly'],
  ['k8s-service-prefix', 'a_b', 'letters, digits'],
  ['k8s-write-namespace', 'Default', 'DNS-1123'],
  ['consul-domain', 'bad..domain', 'DNS domain'],
  ['consul-http-addr', 'ftp://x y', 'host[:port]'],
  ['listen', '8443', 'host:port'],
  ['listen', '0.0.0.0:99999', 'host:port'],
  ['auth-jwt-issuer', '', 'non-empty'],
  ['max-body-bytes', '12abc', 'whole number'],
  ['max-body-bytes', '10', '1024'],
  ['write-timeout', '3', 'duration'],
  ['write-timeout', '0', 'positive duration'],
  ['reconcile-interval', 'soon', 'duration'],
  ['node-cache-ttl', '10', 'duration'],
  ['registration-view-interval', '5', 'duration'],
  ['log-level', 'loud', 'one of'],
  ['max-delete-ratio', '1.5', 'from 0 to 1'],
  ['delete-guard-min', '-1', 'whole number'],
  ['confirm-after', 'soon', 'positive durations'],
  ['confirm-after', '0s', 'positive durations'],
  ['breaker-failures', 'three', 'whole number'],
  ['breaker-probe-interval', '0', 'positive duration'],
  ['concurrency', 'many', 'whole number'],
  ['concurrency', '0', 'from 1 to 1024'],
  ['output', 'yaml', 'table, json'],
  ['direction', 'sideways', 'both, to-consul, to-k8s'],
  ['scope', 'admin', 'k8s:admission'],
  ['ttl', '1y', 'duration'],
];

for (const [flag, value, allowed] of invalid) {
  test(`--${flag}=${JSON.stringify(value).slice(0, 20)} is refused naming flag, value and what is allowed`, () => {
    for (const attempt of [
      () => parseFor(flag, [`--${flag}=${value}`]),
      () => parseFor(flag, [], { ['SYNC_' + flag.toUpperCase().replaceAll('-', '_')]: value }),
    ]) {
      assert.throws(attempt, (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.flag, flag);
        assert.match(err.message, new RegExp(`--${flag}`));
        assert.ok(err.message.includes(JSON.stringify(value)), err.message);
        assert.ok(err.message.includes(allowed), `${err.message} should say ${allowed}`);
        assert.ok(!err.message.includes('\n'));
        return true;
      });
    }
  });
}

test('the namespace flags take consul-k8s defaults and refuse names Consul would refuse', () => {
  const c = parse([]);
  assert.equal(c.enableNamespaces, false);
  assert.equal(c.consulDestinationNamespace, 'default');
  assert.equal(c.enableK8sNamespaceMirroring, false);
  assert.equal(c.k8sNamespaceMirroringPrefix, '');
  assert.equal(c.consulCrossNamespaceAclPolicy, '');
  assert.throws(() => parse(['--consul-destination-namespace=team_a']), /Consul namespace name/);
  assert.throws(() => parse(['--consul-destination-namespace=-a']), /Consul namespace name/);
  assert.throws(() => parse(['--k8s-namespace-mirroring-prefix=k8s_']), /letters, digits and -/);
});

test('unknown flags and missing values are refused', () => {
  assert.throws(() => parse(['--no-such-flag']), /unknown flag/);
  assert.throws(() => parse(['--listen']), /needs a value/);
});

test('consul-k8s sync-catalog flags without a counterpart are refused by name, with what to do', () => {
  assert.throws(
    () => parse(['-log-json=true']),
    /^ConfigError: -log-json is a consul-k8s sync-catalog flag not needed here: logs are always JSON lines/,
  );
  assert.throws(
    () => parse(['--k8s-source-namespace=shop']),
    /not needed here: use --allow-k8s-namespace=<namespace>/,
  );
  assert.throws(
    () => parse(['--consul-write-interval=30s']),
    /every event is written when it arrives/,
  );
});

test('the config is frozen', () => {
  const c = parse([]);
  assert.ok(Object.isFrozen(c));
  assert.ok(Object.isFrozen(c.server));
  assert.ok(Object.isFrozen(c.denyK8sNamespaces));
});

/** The help text a parse asks to print. */
function helpOf(argv: string[]): string {
  try {
    parseConfig(argv, {});
  } catch (err) {
    if (err instanceof HelpRequested) return err.text;
    throw err;
  }
  throw new Error(`${argv.join(' ')}: no help`);
}

test("each command's --help lists exactly its flags, with meaning and default, grouped", () => {
  for (const { name } of COMMANDS.filter((c) => !c.dev)) {
    const text = helpOf([name, '--help']);
    assert.equal(helpOf(['help', name]), text, `help ${name}`);
    assert.equal(helpOf([name, '-h']), text, `${name} -h`);
    assert.match(text, new RegExp(`^Usage: k8s-consul-sync ${name}`));
    assert.match(text, /\nExamples:\n {2}(k8s-consul-sync|npm) /);
    const flat = text.replace(/\s+/g, ' ');
    const listed = [...text.matchAll(/^ {2}--([A-Za-z0-9-]+)/gm)].map((m) => m[1]!);
    const applying = FLAGS.filter((f) => appliesTo(f, name));
    assert.deepEqual([...listed].sort(), applying.map((f) => f.name).sort(), name);
    for (const def of applying) {
      const meaning = def.description.replace(/^[a-z]+: /, '').replace(/\s+/g, ' ');
      assert.ok(flat.includes(meaning), `${name} --help explains --${def.name}`);
      if (def.kind !== 'bool' && typeof def.default === 'string' && def.default !== '')
        assert.ok(flat.includes(`[default: ${def.default}]`), `${name}: default of --${def.name}`);
    }
  }
});

test('--help is an overview of the commands; --version the version', () => {
  const overview = helpOf(['--help']);
  assert.equal(helpOf([]), overview);
  assert.equal(helpOf(['help']), overview);
  for (const c of COMMANDS) assert.match(overview, new RegExp(`^ {2}${c.name} `, 'm'));
  assert.doesNotMatch(overview, /^ {2}--/m, 'no flags in the overview');
  assert.match(helpOf(['--version']), /^k8s-consul-sync \d+\.\d+\.\d+/);
  assert.equal(helpOf(['version']), helpOf(['--version']));
  assert.equal(helpOf(['plan', '-version']), helpOf(['--version']));
});

/** The message of the ConfigError a parse throws. */
function refusal(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(argv, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.ok(!err.message.includes('\n'), 'one line');
    return err.message;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}

test('unknown flags and commands get the nearest names; nothing is accepted silently', () => {
  assert.equal(
    refusal(['plan', '--k8s-tag=foo']),
    'unknown flag --k8s-tag; did you mean --consul-k8s-tag?',
  );
  assert.equal(refusal(['serve', '--lisen', ':1']), 'unknown flag --lisen; did you mean --listen?');
  assert.match(
    refusal(['serve', '--zzzz']),
    /^unknown flag --zzzz \(see k8s-consul-sync serve --help\)$/,
  );
  assert.equal(
    refusal(['reconcile', '--subject=x']),
    '--subject does not apply to reconcile: it is a flag of token (see k8s-consul-sync reconcile --help)',
  );
  assert.match(refusal(['recncile']), /^unknown command "recncile"; did you mean reconcile\?/);
  assert.match(refusal(['frobnicate']), /^unknown command "frobnicate"; the commands are serve, /);
  assert.match(refusal(['--to-k8s=false']), /^no command given: put one of serve, reconcile/);
  assert.match(refusal(['plan', 'extra']), /^unexpected argument "extra": plan takes no arguments/);
  assert.match(refusal(['plan', 'force']), /plan takes no arguments; did you mean --force\?$/);
  assert.match(refusal(['plan', 'reconcile']), /give one command at a time$/);
  assert.match(refusal(['plan', '--', '--force']), /^unexpected argument "--force"/);
  assert.match(refusal(['plan', '--output']), /^--output needs a value \(table, json\)/);
  assert.match(refusal(['plan', '--output', '--force']), /^--output needs a value/);
  assert.equal(
    refusal(['plan', '--dry-run', 'false']),
    'unexpected argument "false": plan takes no arguments; a boolean flag takes its value after =: --dry-run=false',
  );
});

test('emulate takes consul or kube; no other command takes an argument', () => {
  assert.deepEqual(parseConfig(['emulate', 'kube'], {}).args, ['kube']);
  assert.match(refusal(['emulate']), /^emulate needs consul or kube/);
  assert.match(
    refusal(['emulate', 'consl']),
    /^emulate takes consul or kube, not "consl"; did you mean consul\?$/,
  );
  assert.match(
    refusal(['emulate', 'kube', 'consul']),
    /^unexpected argument "consul": emulate takes only consul\|kube/,
  );
  assert.deepEqual(parseConfig(['serve'], {}).args, []);
});

test('plan and reconcile refuse to run with both directions off', () => {
  for (const command of ['plan', 'reconcile']) {
    assert.match(
      refusal([command, '--to-consul=false', '--to-k8s=false']),
      new RegExp(`^${command} has nothing to do: --to-consul and --to-k8s are both false`),
    );
    assert.match(
      refusal([command], { SYNC_TO_CONSUL: 'false', SYNC_TO_K8S: 'false' }),
      /both false/,
    );
    assert.match(
      refusal([command, '--direction=to-k8s', '--to-k8s=false']),
      /--direction=to-k8s but --to-k8s=false/,
    );
    assert.equal(parseConfig([command, '--to-k8s=false'], {}).toConsul, true);
  }
  // serve keeps both off possible (dry-run handlers, health only).
  assert.equal(parse(['--to-consul=false', '--to-k8s=false']).toK8s, false);
});

test("a flag's environment variable is ignored by the commands it does not apply to", () => {
  // One environment for the server and the reconcile CronJob: SYNC_LISTEN is the server's.
  const env = { SYNC_LISTEN: 'nonsense', SYNC_OUTPUT: 'json', SYNC_SUBJECT: 'x' };
  const reconcile = parseConfig(['reconcile'], env);
  assert.equal(reconcile.server.port, 8443, 'SYNC_LISTEN not read (nor checked) by reconcile');
  assert.equal(reconcile.reconcile.output, 'json');
  assert.equal(reconcile.token.subject, '');
  assert.throws(() => parseConfig(['serve'], env), /--listen/);
});

test('Go-style single-dash flags, -h and --', () => {
  const c = parseConfig(['plan', '-to-k8s=false', '-output', 'json', '-direction=to-consul'], {});
  assert.equal(c.toK8s, false);
  assert.equal(c.reconcile.output, 'json');
  assert.equal(c.reconcile.direction, 'to-consul');
  assert.equal(helpOf(['plan', '-h']), helpOf(['plan', '--help']));
  assert.equal(helpOf(['-help', 'plan']), helpOf(['plan', '--help']));
});

test('the kube settings carry KUBECONFIG as read with the rest of the environment', () => {
  assert.deepEqual(parseConfig(['plan'], { KUBECONFIG: '/a:/b' }).kube, {
    kubeconfig: undefined,
    kubeconfigEnv: '/a:/b',
    context: undefined,
  });
  assert.equal(
    parseConfig(['plan', '--kubeconfig=/k'], { KUBECONFIG: '/a' }).kube.kubeconfig,
    '/k',
  );
});

test('Go durations', () => {
  assert.equal(parseDuration('3s'), 3000);
  assert.equal(parseDuration('1m30s'), 90000);
  assert.equal(parseDuration('8760h'), 8760 * 3600 * 1000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('5'), undefined);
  assert.equal(parseDuration(''), undefined);
  assert.equal(parseDuration('3x'), undefined);
});

test('README configuration table matches the config module', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  assert.ok(
    readme.includes(renderFlagTable()),
    'README.md is out of date: run `npm run docs:flags` to regenerate the configuration table',
  );
});

test("the development tools' flags are not the product's", () => {
  for (const flag of ['--once', '--kubeconfig-out=/tmp/kc'])
    assert.throws(() => parseConfig(['serve', flag], {}), /unknown flag/);
});
