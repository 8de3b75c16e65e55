// The shipped build (`npm run bundle`, part of `npm run build`): src/cli.ts bundled by esbuild
// into dist/bundle/, its commands split into chunks loaded when first needed, every dependency
// inside and tree-shaken, so the image runs it with no node_modules (README, "Performance").
//
//   node bundle.mjs [--entry=src/cli.ts] [--entry-names=k8s-consul-sync] [--outdir=dist/bundle]
//
// One thing the esbuild command line cannot say: client-node's KubeConfig module imports two
// names from the index of its generated client, and that index re-exports every model class
// (each with a static initializer, so none can be shaken off). The sync uses KubeConfig for
// configuration and credentials only (src/kube/rest.ts), so that import is pointed at the two
// modules that define those names. Should a later client-node import more from it, the build
// fails on the missing export instead of shipping something different.
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export const ENTRY = 'src/cli.ts';
export const ENTRY_NAMES = 'k8s-consul-sync';
export const OUTDIR = 'dist/bundle';
export const OUT_EXTENSION = '.mjs';

const ROOT = dirname(fileURLToPath(import.meta.url));

const KUBE_CONFIG_MODULE = /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]config\.js$/;

/** client-node's dist/config.js gets only what it imports from ./gen/index.js. */
const kubeConfigAlone = {
  name: 'kube-config-alone',
  setup(b) {
    b.onResolve({ filter: /^\.\/gen\/index\.js$/ }, (args) =>
      KUBE_CONFIG_MODULE.test(args.importer)
        ? { path: args.importer, namespace: 'kube-config-gen' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'kube-config-gen' }, (args) => ({
      contents:
        "export { createConfiguration } from './gen/configuration.js';\n" +
        "export { ServerConfiguration } from './gen/servers.js';\n",
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

/** esbuild's options for one entry (the CLI, or the bench's reconcile child built the same way). */
export function bundleOptions({ entry = ENTRY, entryNames = ENTRY_NAMES, outdir = OUTDIR } = {}) {
  return {
    absWorkingDir: ROOT,
    entryPoints: [entry],
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir,
    entryNames,
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': OUT_EXTENSION },
    minifySyntax: true,
    minifyWhitespace: true,
    keepNames: true,
    // node-fetch 2 (client-node's Watch) falls back to whatwg-url only for a URL class Node has.
    alias: { 'whatwg-url': './src/kube/whatwg-url.ts' },
    sourcemap: true,
    legalComments: 'linked',
    logLevel: 'warning',
    // Bundled CommonJS dependencies call require(): give the ESM bundle one.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    plugins: [kubeConfigAlone],
  };
}

function parseArgs(argv) {
  const out = {};
  const names = { '--entry': 'entry', '--entry-names': 'entryNames', '--outdir': 'outdir' };
  for (const arg of argv) {
    const [flag, ...rest] = arg.split('=');
    const key = names[flag];
    if (!key || rest.length === 0) throw new Error(`bundle.mjs: unknown argument ${arg}`);
    out[key] = key === 'outdir' ? resolve(rest.join('=')) : rest.join('=');
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await build(bundleOptions(parseArgs(process.argv.slice(2))));
}
