// `npm run docs:flags`: rewrites the configuration table in README.md from the flag table.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderFlagTable } from './index.js';

const START = '<!-- flags:start -->';
const END = '<!-- flags:end -->';
const path = new URL('../../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const a = readme.indexOf(START);
const b = readme.indexOf(END);
if (a === -1 || b === -1 || b < a) throw new Error(`README.md lacks the ${START} … ${END} markers`);
writeFileSync(
  path,
  readme.slice(0, a + START.length) + '\n' + renderFlagTable() + '\n' + readme.slice(b),
);
