// The filter language as Consul documents it (api-docs/features/filtering) and as go-bexpr
// implements it: operators, selectors per endpoint, and the errors for bad input.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkServiceNodeSchema,
  compileFilter,
  FilterError,
  serviceNodeSchema,
} from '../../../dev/emulators/consul/filter.js';

const web = {
  Node: 'k8s-sync',
  Address: '127.0.0.1',
  NodeMeta: { 'external-source': 'kubernetes' },
  ServiceID: 'web-1',
  ServiceName: 'web',
  ServiceTags: ['k8s', 'prod'],
  ServiceMeta: { 'external-k8s-ns': 'default', version: '2' },
  ServicePort: 8080,
  ServiceEnableTagOverride: false,
  ServiceWeights: { Passing: 1, Warning: 1 },
};
const db = {
  Node: 'db-node',
  Address: '10.0.0.9',
  NodeMeta: null,
  ServiceID: 'db',
  ServiceName: 'db',
  ServiceTags: [],
  ServiceMeta: {},
  ServicePort: 5432,
  ServiceEnableTagOverride: true,
  ServiceWeights: { Passing: 3, Warning: 1 },
};

function names(expr: string): string[] {
  const pred = compileFilter(expr, serviceNodeSchema);
  return [web, db].filter((s) => pred(s)).map((s) => s.ServiceName);
}

describe('consul filter expressions (go-bexpr)', () => {
  const cases: [string, string[]][] = [
    ['', ['web', 'db']],
    ['ServiceName == "web"', ['web']],
    ['ServiceName != "web"', ['db']],
    ['ServiceName == web', ['web']], // a bare identifier is a value
    ['ServiceName == `web`', ['web']], // raw string
    ['"prod" in ServiceTags', ['web']],
    ['"prod" not in ServiceTags', ['db']],
    ['ServiceTags contains "k8s"', ['web']],
    ['ServiceTags not contains "k8s"', ['db']],
    ['ServiceTags is empty', ['db']],
    ['ServiceTags is not empty', ['web']],
    ['ServiceName matches "^w.b$"', ['web']],
    ['ServiceName not matches "^w"', ['db']],
    ['"eb" in ServiceName', ['web']], // "in" on a string is a substring test
    ['ServiceMeta["external-k8s-ns"] == "default"', ['web']],
    ['ServiceMeta.version == "2"', ['web']],
    ['ServiceMeta.version != "2"', ['db']], // a missing key is "not equal"
    ['"version" in ServiceMeta', ['web']],
    ['ServiceMeta is empty', ['db']],
    ['NodeMeta["external-source"] == "kubernetes"', ['web']],
    ['ServicePort == 5432', ['db']],
    ['ServicePort != 5432', ['web']],
    ['ServiceEnableTagOverride == true', ['db']],
    ['ServiceWeights.Passing == 3', ['db']],
    ['ServiceName == "web" and "k8s" in ServiceTags', ['web']],
    ['ServiceName == "nope" or ServicePort == 5432', ['db']],
    ['not ServiceName == "web"', ['db']],
    ['not (ServiceName == "web" or ServiceName == "db")', []],
    // "and" binds tighter than "or"
    ['ServiceName == "db" or ServiceName == "web" and ServicePort == 1', ['db']],
    ['(ServiceName == "db" or ServiceName == "web") and ServicePort == 8080', ['web']],
    ['ServiceName == "w\\x65b"', ['web']], // Go escapes in double-quoted strings
  ];
  for (const [expr, expected] of cases) {
    it(`${expr || '(empty)'} selects ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(names(expr), expected);
    });
  }

  it('a selector through a list matches when any element matches (Checks.Status)', () => {
    const pred = compileFilter('Checks.Status == "critical"', checkServiceNodeSchema);
    const entry = (statuses: string[]): unknown => ({
      Node: { Node: 'n' },
      Service: { Service: 's' },
      Checks: statuses.map((Status) => ({ Status })),
    });
    assert.equal(pred(entry(['passing', 'critical'])), true);
    assert.equal(pred(entry(['passing'])), false);
    assert.equal(compileFilter('Checks is empty', checkServiceNodeSchema)(entry([])), true);
    assert.equal(compileFilter('Service.Service == "s"', checkServiceNodeSchema)(entry([])), true);
  });

  const errors: [string, RegExp][] = [
    // go-bexpr validate.go: `Selector %q is not valid` with the path so far
    [
      'Foo == "x"',
      /^Failed to create boolean expression evaluator: Selector \["Foo"\] is not valid$/,
    ],
    [
      'ServiceWeights.Nope == 1',
      /^Failed to create boolean expression evaluator: Selector \["ServiceWeights" "Nope"\] is not valid$/,
    ],
    [
      'ServiceTags == "x"',
      /^Failed to create boolean expression evaluator: Invalid match operator "Equal" for selector "ServiceTags"$/,
    ],
    [
      'ServicePort == "abc"',
      /^Failed to create boolean expression evaluator: Failed to coerce value "abc"/,
    ],
    // consul issue #9441: an unquoted IP is an invalid number literal
    [
      'Address == 10.0.0.1',
      /^Failed to create boolean expression evaluator: 1:\d+ \(\d+\): rule "number": Invalid number literal$/,
    ],
    [
      'ServiceName = "x"',
      /^Failed to create boolean expression evaluator: 1:\d+ \(\d+\): no match found, expected: /,
    ],
    ['ServiceName == "x" and', /no match found/],
    ['(ServiceName == "x"', /Unmatched parentheses/],
    ['ServiceName == "unterminated', /Unterminated string literal/],
    ['ServiceName matches "("', /Failed to compile regular expression/],
  ];
  for (const [expr, message] of errors) {
    it(`rejects ${expr}`, () => {
      assert.throws(
        () => compileFilter(expr, serviceNodeSchema),
        (err: unknown) => {
          assert.ok(err instanceof FilterError);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }
});
