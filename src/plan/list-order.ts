// Which namespaces a list read page by page has delivered whole. The API server lists objects in
// the order of their storage keys, `<namespace>/<name>`, so once an item of a later namespace has
// arrived every earlier namespace is complete. Nothing in the API promises that order, so it is
// checked item by item: the first item out of it makes `broken` true, and from then on no
// namespace counts as complete until the list has ended.
import { compareStrings } from '../translate/order.js';

/**
 * The part of a storage key a namespace decides. Compared with the slash, as the keys are: the
 * items of `a-b` come before those of `a` (`-` sorts before `/`), and those of `ab` after.
 */
const keyOf = (namespace: string): string => `${namespace}/`;

export class ListProgress {
  /** The key part of the furthest namespace seen. */
  private furthest: string | undefined;
  private ended = false;
  private outOfOrder = false;

  /** The next item's namespace, in the order the list delivered it. */
  see(namespace: string): void {
    const key = keyOf(namespace);
    if (this.furthest !== undefined && compareStrings(key, this.furthest) < 0)
      this.outOfOrder = true;
    else this.furthest = key;
  }

  /** The list has delivered its last item. */
  end(): void {
    this.ended = true;
  }

  /** An item arrived after one that sorts later: the order cannot be relied on. */
  get broken(): boolean {
    return this.outOfOrder;
  }

  /** Every item of `namespace` has arrived. */
  complete(namespace: string): boolean {
    if (this.ended) return true;
    return (
      !this.outOfOrder &&
      this.furthest !== undefined &&
      compareStrings(keyOf(namespace), this.furthest) < 0
    );
  }
}
