// Turns planned registration changes into Consul /v1/txn operations and packs them into
// transactions of at most 64 operations: per Kubernetes service sets before deletes, a
// service's operations never split across transactions unless they alone exceed the limit.
import type { RegistrationChange } from '../plan/index.js';
import type { Registration } from '../translate/types.js';
import {
  META_EXTERNAL_SOURCE,
  META_EXTERNAL_SOURCE_VALUE,
  SYNC_NODE_ADDRESS,
} from '../translate/keys.js';
import { appendAll } from '../translate/arrays.js';

/** Consul's documented per-transaction limit (older servers enforce 64, newer 128). */
export const MAX_TXN_OPS = 64;

export type TxnOp = Record<string, unknown>;

export function nodeSetOp(node: string, partition?: string): TxnOp {
  return {
    Node: {
      Verb: 'set',
      Node: {
        Node: node,
        Address: SYNC_NODE_ADDRESS,
        Meta: { [META_EXTERNAL_SOURCE]: META_EXTERNAL_SOURCE_VALUE },
        ...(partition ? { Partition: partition } : {}),
      },
    },
  };
}

/** Consul Enterprise reads a txn op's partition from its body, not the query: every op names it. */
function inPartition(op: TxnOp, partition: string | undefined): TxnOp {
  if (!partition) return op;
  const [kind, inner] = Object.entries(op)[0] as [string, Record<string, unknown>];
  const bodyKey = kind === 'Service' ? 'Service' : kind === 'Check' ? 'Check' : 'Node';
  const body = inner[bodyKey] as Record<string, unknown> | undefined;
  return { [kind]: { ...inner, [bodyKey]: { ...body, Partition: partition } } };
}

function serviceBody(r: Registration): Record<string, unknown> {
  return {
    ID: r.id,
    Service: r.service,
    Tags: r.tags,
    Address: r.address,
    Port: r.port,
    Meta: r.meta,
    Weights: { Passing: r.weights.passing, Warning: r.weights.warning },
    ...inNamespace(r),
  };
}

/** Consul Enterprise reads a Service or Check op's namespace from its body (absent: default). */
function inNamespace(r: Registration): { Namespace?: string } {
  return r.namespace !== undefined ? { Namespace: r.namespace } : {};
}

/**
 * One Service or Check op. With an index to compare (check-and-set on, the index known), `set`
 * becomes `cas` and `delete` becomes `delete-cas` carrying that ModifyIndex.
 */
function op(
  kind: 'Service' | 'Check',
  verb: 'set' | 'delete',
  node: string,
  body: Record<string, unknown>,
  index: number | undefined,
): TxnOp {
  const compare = index !== undefined;
  const Verb = compare ? (verb === 'set' ? 'cas' : 'delete-cas') : verb;
  const target = compare ? { ...body, ModifyIndex: index } : body;
  return kind === 'Service'
    ? { Service: { Verb, Node: node, Service: target } }
    : { Check: { Verb, Check: target } };
}

/**
 * The txn operations of one change. With `cas`, every write is a check-and-set against the
 * ModifyIndex the plan read (Consul: 0 = only if absent), so a write planned from a read that
 * another writer (a second replica) has overtaken fails as a whole instead of undoing its work.
 */
export function opsForChange(
  change: RegistrationChange,
  cas = false,
): { sets: TxnOp[]; deletes: TxnOp[] } {
  const r = change.registration;
  const sets: TxnOp[] = [];
  const deletes: TxnOp[] = [];
  const compare = (index: number | undefined): number | undefined => (cas ? index : undefined);
  if (change.op === 'delete') {
    // Consul needs the service name with the ID ("Must provide service name with ID").
    const target = { ID: r.id, Service: r.service, ...inNamespace(r) };
    deletes.push(op('Service', 'delete', r.node, target, compare(r.modifyIndex)));
    return { sets, deletes };
  }
  if (change.writeService) {
    // The index compared: the read's, or 0 for a create (must not exist).
    const index = change.op === 'create' ? 0 : change.previous?.modifyIndex;
    sets.push(op('Service', 'set', r.node, serviceBody(r), compare(index)));
  }
  const previousCheck = change.previous?.check;
  if (change.writeCheck === 'set' && r.check) {
    const check = {
      Node: r.node,
      CheckID: r.check.checkId,
      Name: r.check.name,
      Status: r.check.status,
      Output: r.check.output ?? '',
      ServiceID: r.id,
      ServiceName: r.service,
      ...inNamespace(r),
    };
    // A check that is new (or renamed to a new ID) can only be compared as absent.
    const index = previousCheck?.checkId === r.check.checkId ? previousCheck.modifyIndex : 0;
    sets.push(op('Check', 'set', r.node, check, compare(index)));
  }
  if (change.writeCheck === 'delete' && previousCheck) {
    const target = { Node: r.node, CheckID: previousCheck.checkId, ...inNamespace(r) };
    deletes.push(op('Check', 'delete', r.node, target, compare(previousCheck.modifyIndex)));
  }
  return { sets, deletes };
}

/**
 * The transactions of one service, or of several small ones packed together: `sets` may run at
 * once (each holds whole registrations: a check never lands before its service), `ordered` (the
 * deletes of a service past the limit) run after every set, in order.
 */
export interface TxnChain {
  sets: TxnOp[][];
  ordered: TxnOp[][];
}

/**
 * Packs per-service groups of changes into chains of transactions of at most `maxOps`
 * operations. A service's operations share one transaction unless they alone exceed the limit;
 * then its sets are split between registrations (never inside one) into transactions that may
 * run at once, and its deletes follow in order. Groups are packed first-fit-decreasing, so a
 * reconcile needs about ceil(operations / maxOps) transactions.
 *
 * With `ensureNode` every transaction starts with an idempotent Node `set` (Consul leaves an
 * identical node untouched), so service sets never fail for a node removed by hand; the event
 * path always asks for it, a reconcile only when its read found no node.
 */
export function packTransactions(
  groups: readonly (readonly RegistrationChange[])[],
  node: string,
  options: { ensureNode?: boolean; maxOps?: number; cas?: boolean; partition?: string } = {},
): TxnChain[] {
  const ensureNode = options.ensureNode ?? true;
  const cas = options.cas ?? false;
  const room = (options.maxOps ?? MAX_TXN_OPS) - (ensureNode ? 1 : 0);
  const { partition } = options;
  const txn = (ops: TxnOp[]): TxnOp[] => {
    const placed = ops.map((op) => inPartition(op, partition));
    return ensureNode ? [nodeSetOp(node, partition), ...placed] : placed;
  };
  const chains: TxnChain[] = [];
  const small: TxnOp[][] = [];
  for (const group of groups) {
    const sets: TxnOp[][] = [];
    const deletes: TxnOp[] = [];
    let count = 0;
    for (const change of group) {
      const ops = opsForChange(change, cas);
      if (ops.sets.length > 0) sets.push(ops.sets);
      appendAll(deletes, ops.deletes);
      count += ops.sets.length + ops.deletes.length;
    }
    if (count === 0) continue;
    if (count > room) {
      const chain: TxnChain = { sets: [], ordered: [] };
      let current: TxnOp[] = [];
      for (const ops of sets) {
        if (current.length + ops.length > room && current.length > 0) {
          chain.sets.push(txn(current));
          current = [];
        }
        appendAll(current, ops);
      }
      if (current.length > 0) chain.sets.push(txn(current));
      for (let i = 0; i < deletes.length; i += room)
        chain.ordered.push(txn(deletes.slice(i, i + room)));
      chains.push(chain);
    } else {
      small.push([...sets.flat(), ...deletes]);
    }
  }
  // First-fit decreasing: stable for equal sizes, so the same plan packs the same way.
  const bins: TxnOp[][] = [];
  for (const ops of small
    .map((ops, i) => ({ ops, i }))
    .sort((a, b) => b.ops.length - a.ops.length || a.i - b.i)) {
    const bin = bins.find((b) => b.length + ops.ops.length <= room);
    if (bin) appendAll(bin, ops.ops);
    else bins.push([...ops.ops]);
  }
  for (const bin of bins) chains.push({ sets: [txn(bin)], ordered: [] });
  return chains;
}
