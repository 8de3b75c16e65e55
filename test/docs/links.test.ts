// The docs stand alone in a clone: every relative link and anchor in the repository's Markdown
// resolves inside the repository, and nothing points at material that is not shipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');

function markdownFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...markdownFiles(path));
    else if (name.endsWith('.md')) out.push(path);
  }
  return out;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced) continue;
    const m = /^#{1,6}\s+(.*)$/.exec(line);
    if (!m) continue;
    const slug = m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

const files = markdownFiles(root);

test('the repository has its own behaviour reference', () => {
  assert.ok(files.includes(join(root, 'docs', 'reference.md')));
});

for (const file of files) {
  const name = relative(root, file);
  test(`${name}: every relative link resolves inside the repository`, () => {
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(
      text,
      /\.\.\/shared|SPEC\.md|STYLE\.md/,
      'points at material not in the repository',
    );
    const problems: string[] = [];
    // Links in prose only: code blocks and code spans hold regular expressions, not links.
    const prose = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
    for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^(https?:|mailto:)/.test(target)) continue;
      const [path, anchor] = target.split('#', 2) as [string, string | undefined];
      const resolved = path === '' ? file : resolve(dirname(file), path);
      if (!resolved.startsWith(root + '/') && resolved !== root) {
        problems.push(`${target}: outside the repository`);
        continue;
      }
      if (!existsSync(resolved)) {
        problems.push(`${target}: no such file`);
        continue;
      }
      if (
        anchor &&
        resolved.endsWith('.md') &&
        !anchors(readFileSync(resolved, 'utf8')).has(anchor)
      )
        problems.push(`${target}: no heading #${anchor}`);
    }
    assert.deepEqual(problems, []);
  });
}
