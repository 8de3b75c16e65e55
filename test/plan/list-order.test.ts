// Which namespaces a paged list has delivered whole (src/plan/list-order.ts): the API server's
// storage-key order, `<namespace>/<name>`, checked item by item.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ListProgress } from '../../src/plan/list-order.js';

describe('ListProgress', () => {
  it('a namespace is complete once an item of a later one has arrived', () => {
    const p = new ListProgress();
    assert.equal(p.complete('shop'), false, 'nothing seen yet');
    p.see('billing');
    p.see('billing');
    assert.equal(p.complete('billing'), false, 'more of billing may follow');
    assert.equal(p.complete('shop'), false);
    p.see('shop');
    assert.equal(p.complete('billing'), true);
    assert.equal(p.complete('api'), true, 'an earlier namespace with no items');
    assert.equal(p.complete('shop'), false);
    assert.equal(p.broken, false);
  });

  it('compares namespaces as storage keys do, with the slash', () => {
    // Keys: "a-b/…" < "a/…" < "ab/…" ("-" sorts before "/", and "/" before letters).
    const p = new ListProgress();
    p.see('a-b');
    p.see('a');
    assert.equal(p.broken, false);
    assert.equal(p.complete('a-b'), true);
    assert.equal(p.complete('a'), false);
    p.see('ab');
    assert.equal(p.complete('a'), true);
    assert.equal(p.complete('ab'), false);
    // Plain string order would put "a" first: here it arrived second, in order.
    const q = new ListProgress();
    q.see('a');
    q.see('a-b');
    assert.equal(q.broken, true, 'a-b after a is out of storage-key order');
  });

  it('an item out of order: nothing is complete until the list ends', () => {
    const p = new ListProgress();
    p.see('a');
    p.see('c');
    assert.equal(p.complete('b'), true);
    p.see('b');
    assert.equal(p.broken, true);
    assert.equal(p.complete('a'), false);
    assert.equal(p.complete('b'), false);
    p.end();
    assert.equal(p.complete('a'), true);
    assert.equal(p.complete('z'), true);
  });

  it('an ended list is complete for every namespace, an empty one included', () => {
    const p = new ListProgress();
    p.end();
    assert.equal(p.complete('anything'), true);
    assert.equal(p.broken, false);
  });
});
