// Structure of the Dockerfile (read as text): multi-stage, pinned bases, no dependencies
// installed at runtime (the bundle carries them), a non-root final user, and an ENTRYPOINT that
// is where the build puts the bundled src/cli.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, posix } from 'node:path';
import { FLAGS } from '../../src/config/index.js';
import { REPO_ROOT, loadDockerfile, readRepoFile, type DockerStage } from './load.js';

const stages = loadDockerfile();
const final = stages.at(-1)!;

function lastArgs(stage: DockerStage, op: string): string | undefined {
  return stage.instructions.filter((i) => i.op === op).at(-1)?.args;
}

/** Resolves a path given in a stage against its WORKDIR at that point. */
function workdirOf(stage: DockerStage, beforeIndex = stage.instructions.length): string {
  let dir = '/';
  for (const i of stage.instructions.slice(0, beforeIndex)) {
    if (i.op === 'WORKDIR') dir = posix.resolve(dir, i.args.trim());
  }
  return dir;
}

test('multi-stage: a build stage and a runtime stage that copies its output', () => {
  assert.ok(stages.length >= 2, 'at least two FROM stages');
  const copies = final.instructions.filter((i) => i.op === 'COPY' && /--from=/.test(i.args));
  assert.ok(copies.length > 0, 'the final stage copies from an earlier stage');
  const aliases = new Set(stages.slice(0, -1).map((s) => s.alias));
  for (const c of copies) {
    const from = /--from=(\S+)/.exec(c.args)![1]!;
    assert.ok(aliases.has(from), `COPY --from=${from} names an earlier stage`);
  }
});

test('base images are pinned by version (or digest), and the Node version meets engines', () => {
  const pkg = JSON.parse(readRepoFile('package.json')) as { engines: { node: string } };
  const min = /^>=\s*(\d+)\.(\d+)/.exec(pkg.engines.node);
  assert.ok(min, 'package.json engines.node is >=X.Y');
  const aliases = new Set(stages.map((s) => s.alias));
  for (const stage of stages) {
    if (aliases.has(stage.image)) continue; // FROM an earlier stage
    const digest = /@sha256:[0-9a-f]{64}$/.test(stage.image);
    const tag = /^[^@]+:([^:/@]+)$/.exec(stage.image)?.[1];
    assert.ok(
      digest || (tag && tag !== 'latest' && /^v?\d+\.\d+/.test(tag)),
      `${stage.image} is pinned`,
    );
    const nodeTag = /^(?:docker\.io\/(?:library\/)?)?node:(\d+)\.(\d+)/.exec(stage.image);
    if (nodeTag) {
      const [major, minor] = [Number(nodeTag[1]), Number(nodeTag[2])];
      const [wantMajor, wantMinor] = [Number(min[1]), Number(min[2])];
      assert.ok(
        major > wantMajor || (major === wantMajor && minor >= wantMinor),
        `${stage.image} satisfies engines ${pkg.engines.node}`,
      );
    }
  }
});

test('the runtime stage installs nothing: the bundle carries its dependencies', () => {
  const installs = final.instructions.filter(
    (i) => i.op === 'RUN' && /\bnpm (ci|install|i)\b/.test(i.args),
  );
  assert.deepEqual(installs, [], 'no npm install in the runtime stage');
  const copied = final.instructions.filter((i) => i.op === 'COPY').map((i) => i.args);
  assert.ok(
    !copied.some((c) => /node_modules/.test(c)),
    `no node_modules copied: ${copied.join('; ')}`,
  );
  const env = final.instructions
    .filter((i) => i.op === 'ENV')
    .map((i) => i.args)
    .join(' ');
  assert.match(env, /NODE_ENV[= ]production/);
});

test('the final stage runs as a non-root user', () => {
  const user = lastArgs(final, 'USER');
  assert.ok(user, 'USER is set in the final stage');
  const name = user.split(':')[0]!.trim();
  assert.notEqual(name, 'root');
  assert.notEqual(name, '0');
  assert.match(name, /^[1-9]\d*$/, 'a numeric uid, so runAsNonRoot can verify it');
});

test('ENTRYPOINT runs the bundled src/cli.ts where the build writes it', () => {
  const entry = JSON.parse(lastArgs(final, 'ENTRYPOINT') ?? 'null') as string[] | null;
  assert.ok(Array.isArray(entry), 'ENTRYPOINT is in exec (JSON) form, so signals reach node');
  assert.equal(entry[0], 'node');
  const script = entry[1]!;

  // Where `npm run build` puts the bundle: bundle.mjs's entry, outdir, entry names and extension.
  const pkg = JSON.parse(readRepoFile('package.json')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts.build ?? '', /npm run -s bundle/, 'the build script bundles');
  assert.equal(pkg.scripts.bundle, 'node bundle.mjs', 'the bundle script runs bundle.mjs');
  const bundler = readRepoFile('bundle.mjs');
  const constant = (name: string): string | undefined =>
    new RegExp(`export const ${name} = '([^']+)';`).exec(bundler)?.[1];
  assert.equal(constant('ENTRY'), 'src/cli.ts', 'bundle.mjs bundles src/cli.ts');
  const outdir = constant('OUTDIR');
  const name = constant('ENTRY_NAMES');
  const ext = constant('OUT_EXTENSION') ?? '.js';
  assert.ok(outdir && name, 'bundle.mjs names its outdir and entry names');
  assert.ok(existsSync(join(REPO_ROOT, 'src/cli.ts')));
  const built = posix.join(outdir, `${name}${ext}`);

  // The build stage builds in its WORKDIR; the runtime stage copies that outdir somewhere.
  const build = stages.find((s) =>
    s.instructions.some((i) => i.op === 'RUN' && /npm run build/.test(i.args)),
  );
  assert.ok(build, 'a stage runs npm run build');
  assert.ok(
    build.instructions.some((i) => i.op === 'COPY' && /(^|\s)bundle\.mjs(\s|$)/.test(i.args)),
    'the build stage copies bundle.mjs, which npm run build runs',
  );
  const copyIndex = final.instructions.findIndex(
    (i) => i.op === 'COPY' && new RegExp(`--from=${build.alias ?? ''}\\b`).test(i.args),
  );
  assert.ok(copyIndex >= 0, 'the runtime stage copies from the build stage');
  const [src, dest] = final.instructions[copyIndex]!.args.split(/\s+/).filter(
    (w) => !w.startsWith('--'),
  );
  const builtOutDir = posix.resolve(workdirOf(build), outdir);
  assert.equal(posix.resolve(workdirOf(build), src!), builtOutDir, 'it copies the bundle outdir');
  const runtimeOutDir = posix.resolve(workdirOf(final, copyIndex), dest!);
  const runtimeScript = posix.resolve(workdirOf(final), script);
  assert.equal(
    runtimeScript,
    posix.join(runtimeOutDir, posix.relative(outdir, built)),
    `ENTRYPOINT ${script} is the bundled ${built}`,
  );
});

test('CMD defaults to serve, and EXPOSE is the default listen port', () => {
  assert.deepEqual(JSON.parse(lastArgs(final, 'CMD') ?? 'null'), ['serve']);
  const listen = FLAGS.find((f) => f.name === 'listen')!.default as string;
  assert.equal(lastArgs(final, 'EXPOSE'), listen.slice(listen.lastIndexOf(':') + 1));
});
