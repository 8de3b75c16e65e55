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

/** Consul's documented per-transaction limit (older servers enforce 64, newer 128). */
export const MAX_TXN_OPS = 64;

export type TxnOp = Record<string, unknown>;

export function nodeSetOp(node: string): TxnOp {
  return {
    Node: {
      Verb: 'set',
      Node: {
        Node: node,
        Address: SYNC_NODE_ADDRESS,
        Meta: { [META_EXTERNAL_SOURCE]: META_EXTERNAL_SOURCE_VALUE },
      },
    },
  };
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
  };
}

export function opsForChange(change: RegistrationChange): { sets: TxnOp[]; deletes: TxnOp[] } {
  const r = change.registration;
  const sets: TxnOp[] = [];
  const deletes: TxnOp[] = [];
  if (change.op === 'delete') {
    // Consul needs the service name with the ID ("Must provide service name with ID").
    deletes.push({
      Service: { Verb: 'delete', Node: r.node, Service: { ID: r.id, Service: r.service } },
    });
    return { sets, deletes };
  }
  if (change.writeService)
    sets.push({ Service: { Verb: 'set', Node: r.node, Service: serviceBody(r) } });
  if (change.writeCheck === 'set' && r.check) {
    sets.push({
      Check: {
        Verb: 'set',
        Check: {
          Node: r.node,
          CheckID: r.check.checkId,
          Name: r.check.name,
          Status: r.check.status,
          Output: r.check.output ?? '',
          ServiceID: r.id,
          ServiceName: r.service,
        },
      },
    });
  }
  if (change.writeCheck === 'delete') {
    const checkId = change.previous?.check?.checkId;
    if (checkId)
      deletes.push({ Check: { Verb: 'delete', Check: { Node: r.node, CheckID: checkId } } });
  }
  return { sets, deletes };
}

/** A sequence of transactions that must run in order (one service split past the limit). */
export type TxnChain = TxnOp[][];

/**
 * Packs per-service groups of changes into chains of transactions. Every transaction starts
 * with an idempotent Node `set` (Consul leaves an identical node untouched), so a node removed
 * by hand is recreated and service sets never fail for a missing node.
 */
export function packTransactions(
  groups: readonly (readonly RegistrationChange[])[],
  node: string,
  maxOps = MAX_TXN_OPS,
): TxnChain[] {
  const room = maxOps - 1;
  const chains: TxnChain[] = [];
  let current: TxnOp[] = [];
  const flush = (): void => {
    if (current.length > 0) chains.push([[nodeSetOp(node), ...current]]);
    current = [];
  };
  for (const group of groups) {
    const sets: TxnOp[] = [];
    const deletes: TxnOp[] = [];
    for (const change of group) {
      const ops = opsForChange(change);
      sets.push(...ops.sets);
      deletes.push(...ops.deletes);
    }
    const ops = [...sets, ...deletes];
    if (ops.length === 0) continue;
    if (ops.length > room) {
      const chain: TxnChain = [];
      for (let i = 0; i < ops.length; i += room)
        chain.push([nodeSetOp(node), ...ops.slice(i, i + room)]);
      chains.push(chain);
      continue;
    }
    if (current.length + ops.length > room) flush();
    current.push(...ops);
  }
  flush();
  return chains;
}
