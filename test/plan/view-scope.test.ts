// Planning only what changed between two services-view deliveries (src/plan/view-scope.ts): the
// scope's pieces, and the property that matters: for any previous view the mirrors were
// converged to, any hand edits of mirrors the watch reported, and any next view, planning the
// scope gives exactly the changes and conflicts of planning the whole view.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  addToIndex,
  diffViews,
  hasTaggedName,
  isEmptyView,
  mirrorIndex,
  planK8sServices,
  removeFromIndex,
  sameTags,
  scopeOf,
  sharedStillKnown,
  taggedAmong,
  viewInScope,
} from '../../src/plan/index.js';
import {
  desiredServiceObject,
  mirrorNameOf,
  translateServicesView,
} from '../../src/translate/index.js';
import type { Service, ServicesView, ToK8sSettings } from '../../src/translate/types.js';

const settings: ToK8sSettings = {
  consulK8sTag: 'k8s',
  k8sServicePrefix: 'c-',
  k8sWriteNamespace: 'default',
  consulDomain: 'consul',
  denyConsulServices: ['secret*'],
};
const mirrorOf = (name: string): string => mirrorNameOf(name, settings);

describe('sameTags', () => {
  it('compares tags as the translation reads them', () => {
    assert.equal(sameTags(['a', 'b'], ['a', 'b']), true);
    assert.equal(sameTags(['a', 'b'], ['b', 'a']), false, 'order is kept in the annotation input');
    assert.equal(sameTags(['a'], ['a', 'a']), false);
    assert.equal(sameTags([], []), true);
    assert.equal(sameTags(null, undefined), true, 'neither is an array: both read as no tags');
    assert.equal(sameTags(null, []), false);
  });
});

describe('the shared-name answer, kept to the k8s-tagged names', () => {
  const view: ServicesView = {
    web: ['k8s', 'v1'],
    legacy: ['legacy'],
    api: ['k8s'],
    bare: [],
    other: ['k8s'],
  };

  it('hasTaggedName: whether any name carries the tag', () => {
    assert.equal(hasTaggedName(view, 'k8s'), true);
    assert.equal(hasTaggedName({ legacy: ['legacy'], bare: [] }, 'k8s'), false);
    assert.equal(hasTaggedName(view, ''), false, 'no tag configured: nothing is from Kubernetes');
    assert.equal(hasTaggedName({}, 'k8s'), false);
  });

  it('taggedAmong: the names of the answer that carry the tag in the view', () => {
    const answer = ['web', 'legacy', 'api', 'bare', 'not-in-view'];
    assert.deepEqual([...taggedAmong(answer, view, 'k8s')].sort(), ['api', 'web']);
    assert.equal(taggedAmong(answer, view, '').size, 0);
  });

  it('translates any view exactly as the whole answer does (property)', () => {
    const name = fc.constantFrom('web', 'api', 'db', 'legacy', 'secret-x', 'a.b', 'Web');
    fc.assert(
      fc.property(
        fc.dictionary(
          name,
          fc.option(fc.array(fc.constantFrom('k8s', 'v1', 'legacy'), { maxLength: 3 }), {
            nil: null,
          }),
        ),
        fc.uniqueArray(name),
        (generated, answer) => {
          const v = generated as ServicesView;
          const whole = translateServicesView(v, settings, {
            notOnlyFromKubernetes: new Set(answer),
          });
          const kept = translateServicesView(v, settings, {
            notOnlyFromKubernetes: taggedAmong(answer, v, settings.consulK8sTag),
          });
          assert.deepEqual(kept, whole);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('diffViews', () => {
  it('names added, removed, retagged, and whose shared status flipped; nothing else', () => {
    const previous = {
      tags: new Map<string, unknown>([
        ['web', ['v1']],
        ['api', ['k8s']],
        ['db', []],
        ['gone', []],
      ]),
      shared: new Set(['api']),
    };
    const view: ServicesView = { web: ['v1'], api: ['k8s'], db: ['v2'], fresh: [] };
    const diff = diffViews(previous, view, new Set());
    assert.deepEqual([...diff.changed].sort(), ['api', 'db', 'fresh', 'gone']);
    assert.deepEqual(diff.added, ['fresh']);
    assert.deepEqual(diff.removed, ['gone']);
  });

  it('the same view and shared names: nothing changed', () => {
    const view: ServicesView = { web: ['v1'], api: ['k8s'] };
    const diff = diffViews(
      { tags: new Map(Object.entries(view)), shared: new Set(['api']) },
      { web: ['v1'], api: ['k8s'] },
      new Set(['api']),
    );
    assert.equal(diff.changed.size, 0);
  });
});

describe('sharedStillKnown', () => {
  const diffOf = (...changed: string[]) => ({ changed: new Set(changed), added: [], removed: [] });
  it('keeps the previous answer while no changed name carries the tag', () => {
    const view: ServicesView = { web: ['k8s'], db: ['k8s', 'v1'], api: ['v1'] };
    assert.deepEqual(
      sharedStillKnown(diffOf('api'), view, new Set(['db']), 'k8s'),
      new Set(['db']),
    );
    assert.deepEqual(sharedStillKnown(diffOf(), view, new Set(['db']), 'k8s'), new Set(['db']));
  });
  it('asks for a read when a changed name carries the tag', () => {
    const view: ServicesView = { web: ['k8s'], api: [] };
    assert.equal(sharedStillKnown(diffOf('web'), view, new Set(), 'k8s'), undefined);
  });
  it('drops the changed names: gone from the view, or no longer tagged', () => {
    const view: ServicesView = { db: ['v1'] };
    assert.deepEqual(
      sharedStillKnown(diffOf('db', 'gone'), view, new Set(['db', 'gone']), 'k8s'),
      new Set(),
    );
  });
  it('without a k8s tag nothing is shared', () => {
    assert.deepEqual(sharedStillKnown(diffOf('web'), { web: [''] }, new Set(), ''), new Set());
  });
});

describe('isEmptyView', () => {
  it('answers without listing the names', () => {
    assert.equal(isEmptyView({}), true);
    assert.equal(isEmptyView({ consul: [] }), false);
    assert.equal(isEmptyView({ web: ['v1'] }), false);
  });
});

describe('scopeOf', () => {
  it('takes in every name sharing a mirror with a changed name, and the changed mirrors', () => {
    // "Web" and "web" both map to c-web; the first in order wins it.
    const byMirror = mirrorIndex(['Web', 'web', 'api', 'db'], mirrorOf);
    const scope = scopeOf(
      { changed: new Set(['web']), added: [], removed: [] },
      ['c-db', 'c-orphan'],
      byMirror,
      mirrorOf,
    );
    assert.deepEqual([...scope.names].sort(), ['Web', 'db', 'web']);
    assert.deepEqual([...scope.mirrors].sort(), ['c-db', 'c-orphan', 'c-web']);
  });

  it('a name that left the view keeps its mirror in scope (to be deleted)', () => {
    const byMirror = mirrorIndex(['api'], mirrorOf);
    const scope = scopeOf(
      { changed: new Set(['gone']), added: [], removed: ['gone'] },
      [],
      byMirror,
      mirrorOf,
    );
    assert.deepEqual([...scope.mirrors], ['c-gone']);
    assert.deepEqual(viewInScope({ api: [] }, scope), {});
  });

  it('the index follows names added and removed', () => {
    const index = mirrorIndex(['web'], mirrorOf);
    addToIndex(index, 'Web', 'c-web');
    assert.deepEqual([...(index.get('c-web') ?? [])], ['web', 'Web']);
    removeFromIndex(index, 'web', 'c-web');
    removeFromIndex(index, 'Web', 'c-web');
    assert.equal(index.has('c-web'), false);
    removeFromIndex(index, 'none', 'c-none');
  });
});

// ---- the property -----------------------------------------------------------------------------

const NAMES = ['web', 'Web', 'api', 'db', 'cache', 'search', 'secret-db', 'bad_name', 'k'];
/** With --enable-namespaces: qualified names, and names of two namespaces on one mirror. */
const NS_NAMES = ['web', 'team-a/web', 'web-team-a', 'Team-A/Web', 'team-b/api', 'api', 'secret'];
const TAGS = ['k8s', 'v1', 'blue', 'k8s-sync-disabled'];
const withNamespaces: ToK8sSettings = { ...settings, enableNamespaces: true };

const viewOf = (names: readonly string[]) =>
  fc.dictionary(fc.constantFrom(...names), fc.subarray(TAGS), { maxKeys: names.length });
const sharedOf = (names: readonly string[]) => fc.subarray([...names]).map((n) => new Set(n));
type Edit = 'delete' | 'retarget' | 'foreign' | 'orphan' | 'unlabel';
const editsOf = (mirrors: readonly string[]) =>
  fc.dictionary(
    fc.constantFrom(...mirrors, 'c-orphan'),
    fc.constantFrom<Edit>('delete', 'retarget', 'foreign', 'orphan', 'unlabel'),
    { maxKeys: 4 },
  );

function desiredOf(view: ServicesView, shared: ReadonlySet<string>, s = settings) {
  return translateServicesView(view, s, { notOnlyFromKubernetes: shared }).services;
}

/** The mirrors after a converge to `view`, then edited by hand as `edits` says. */
function mirrorsAfter(
  view: ServicesView,
  shared: ReadonlySet<string>,
  edits: Record<string, Edit>,
  s = settings,
): Service[] {
  const byName = new Map<string, Service>();
  for (const d of desiredOf(view, shared, s)) byName.set(d.name, desiredServiceObject(d));
  for (const [name, edit] of Object.entries(edits)) {
    const had = byName.get(name);
    if (edit === 'delete') byName.delete(name);
    else if (edit === 'retarget' && had)
      byName.set(name, { ...had, spec: { ...had.spec, externalName: 'elsewhere.example' } });
    else if (edit === 'unlabel' && had)
      byName.set(name, { ...had, metadata: { ...had.metadata, labels: {} } });
    else if (edit === 'foreign')
      byName.set(name, {
        metadata: { name, namespace: 'default' },
        spec: { type: 'ExternalName', externalName: 'theirs.example' },
      });
    else if (edit === 'orphan' && !had)
      byName.set(
        name,
        desiredServiceObject({
          namespace: 'default',
          name,
          consulName: 'orphan',
          externalName: 'orphan.service.consul',
          labels: { consul: 'true' },
          annotations: {
            'consul.hashicorp.com/synced': 'true',
            'consul.hashicorp.com/service-sync': 'false',
          },
        }),
      );
  }
  return [...byName.values()];
}

const shown = (plan: ReturnType<typeof planK8sServices>) => ({
  changes: plan.changes
    .map((c) => `${c.op} ${c.name} ${JSON.stringify(c.op === 'delete' ? null : c.desired)}`)
    .sort(),
  conflicts: plan.conflicts.map((c) => c.name).sort(),
});

describe('planning the scope equals planning the whole view', () => {
  for (const [what, names, s] of [
    ['names as they are', NAMES, settings],
    [
      'with Consul namespaces (the default namespace wins a shared mirror)',
      NS_NAMES,
      withNamespaces,
    ],
  ] as const) {
    it(`for any previous view, hand edits the watch reported, and next view: ${what}`, () => {
      const mirrorOfIn = (name: string): string => mirrorNameOf(name, s);
      fc.assert(
        fc.property(
          viewOf(names),
          sharedOf(names),
          editsOf(names.map(mirrorOfIn)),
          viewOf(names),
          sharedOf(names),
          (before, sharedBefore, edits, after, sharedAfter) => {
            const current = mirrorsAfter(before, sharedBefore, edits, s);
            const full = planK8sServices({
              desired: desiredOf(after, sharedAfter, s),
              current,
              settings: s,
            });
            const diff = diffViews(
              { tags: new Map(Object.entries(before)), shared: sharedBefore },
              after,
              sharedAfter,
            );
            const scope = scopeOf(
              diff,
              Object.keys(edits),
              mirrorIndex(Object.keys(after), mirrorOfIn),
              mirrorOfIn,
            );
            const scoped = planK8sServices({
              desired: desiredOf(viewInScope(after, scope), sharedAfter, s),
              current: current.filter((x) => scope.mirrors.has(x.metadata?.name ?? '')),
              settings: s,
            });
            assert.deepEqual(shown(scoped), shown(full));
          },
        ),
        { numRuns: 2000 },
      );
    });
  }

  it('and the property can fail: a scope without the names sharing a mirror differs', () => {
    // "Web" wins c-web over "web" (first in order); a change to "web" alone must not claim it.
    const before: ServicesView = { Web: ['v1'], web: ['v1'] };
    const after: ServicesView = { Web: ['v1'], web: ['v2'] };
    const current = mirrorsAfter(before, new Set(), {});
    const full = planK8sServices({ desired: desiredOf(after, new Set()), current, settings });
    const narrow = { names: new Set(['web']), mirrors: new Set(['c-web']) };
    const wrong = planK8sServices({
      desired: desiredOf(viewInScope(after, narrow), new Set()),
      current: current.filter((s) => narrow.mirrors.has(s.metadata?.name ?? '')),
      settings,
    });
    assert.notDeepEqual(shown(wrong), shown(full));
    assert.deepEqual(shown(full).changes, [], 'Web still holds c-web: nothing to do');
  });
});
