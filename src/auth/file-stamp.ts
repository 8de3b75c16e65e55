// A cheap change detector for files that are rotated in place or by symlink swap (cert-manager,
// Kubernetes Secret volumes): stat follows symlinks, so a swapped `..data` link changes the stamp.
import { statSync } from 'node:fs';

/** Identity + size + times of the file behind `path`, or `missing:<code>` when it cannot be stat'ed. */
export function fileStamp(path: string): string {
  try {
    const s = statSync(path, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch (err) {
    return `missing:${(err as NodeJS.ErrnoException).code ?? 'unknown'}`;
  }
}

/** One stamp for several files: changes when any of them changes. */
export function filesStamp(paths: readonly string[]): string {
  return paths.map(fileStamp).join('|');
}
