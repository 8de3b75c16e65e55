// The package version for --version: read from package.json next to the sources or the build
// (src/config/ in a clone, dist/src/config/ when compiled), never by importing anything heavy.
import { readFileSync } from 'node:fs';

export const PACKAGE_NAME = 'k8s-consul-sync';

/** The version in the nearest package.json of this package above this file, or 'unknown'. */
export function packageVersion(from: URL = new URL('.', import.meta.url)): string {
  for (let up = 1; up <= 4; up++) {
    try {
      const pkg = JSON.parse(
        readFileSync(new URL(`${'../'.repeat(up)}package.json`, from), 'utf8'),
      ) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not here (or not readable): one directory up.
    }
  }
  return 'unknown';
}
