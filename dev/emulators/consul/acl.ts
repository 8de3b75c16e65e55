// ACL tokens of the emulator and how a resolved token decides (acl/policy_authorizer.go with the
// default policy "deny"): the management token, policy-scoped tokens and the anonymous token.
import { createHash } from 'node:crypto';

export type AclPolicy = 'read' | 'write' | 'deny';

/** One rule body, as in Consul's JSON rules: `{ "policy": "read" }`. */
export interface AclRule {
  policy: AclPolicy;
}

/**
 * The part of Consul's rules language the emulator enforces, in the JSON form
 * `consul acl policy create -rules` accepts:
 * `{ "service_prefix": { "": { "policy": "read" } }, "node": { "k8s-sync": { "policy": "write" } } }`.
 */
export interface AclRules {
  service?: Record<string, AclRule>;
  service_prefix?: Record<string, AclRule>;
  node?: Record<string, AclRule>;
  node_prefix?: Record<string, AclRule>;
}

/** Resources with rules (`service`, `node`) and the ones only the management token reaches. */
export type AclResource = 'service' | 'node' | 'key' | 'agent';
export type AccessLevel = 'read' | 'write';

/** structs.ACLTokenAnonymousID: Consul names it in permission errors for requests without a token. */
export const ANONYMOUS_ACCESSOR_ID = '00000000-0000-0000-0000-000000000002';

const RULE_KINDS = ['service', 'service_prefix', 'node', 'node_prefix'] as const;
const POLICIES: readonly string[] = ['read', 'write', 'deny'];

/** A fixed AccessorID per secret, so permission errors can be matched in tests. */
export function accessorIdOf(secret: string): string {
  const h = createHash('sha256').update(`accessor:${secret}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** One resource's rules: Consul keeps exact and prefix rules in one radix tree per resource. */
class RuleTree {
  private readonly exact = new Map<string, AclPolicy>();
  /** Longest first, so the first match is the one WalkPath would keep. */
  private readonly prefixes: [string, AclPolicy][];

  constructor(exact: Record<string, AclRule>, prefix: Record<string, AclRule>) {
    for (const [name, rule] of Object.entries(exact)) this.exact.set(name, rule.policy);
    this.prefixes = Object.entries(prefix)
      .map(([name, rule]): [string, AclPolicy] => [name, rule.policy])
      .sort((a, b) => b[0].length - a[0].length);
  }

  /**
   * getPolicy: walking the tree down to `name`, an exact rule counts only on `name` itself and
   * then wins; otherwise the deepest (longest) prefix rule on the way wins, whatever its policy.
   */
  lookup(name: string): AclPolicy | undefined {
    const exact = this.exact.get(name);
    if (exact !== undefined) return exact;
    return this.prefixes.find(([p]) => name.startsWith(p))?.[1];
  }
}

export class Authorizer {
  private constructor(
    /** Management (or ACLs off): everything is allowed. */
    readonly isManagement: boolean,
    readonly accessorId: string,
    private readonly trees: Partial<Record<AclResource, RuleTree>>,
  ) {}

  static management(): Authorizer {
    return new Authorizer(true, '', {});
  }

  /** The anonymous token keeps the built-in policy: no rules, so the default (deny) applies. */
  static anonymous(): Authorizer {
    return new Authorizer(false, ANONYMOUS_ACCESSOR_ID, {});
  }

  static fromRules(accessorId: string, rules: AclRules): Authorizer {
    return new Authorizer(false, accessorId, {
      service: new RuleTree(rules.service ?? {}, rules.service_prefix ?? {}),
      node: new RuleTree(rules.node ?? {}, rules.node_prefix ?? {}),
    });
  }

  get isAnonymous(): boolean {
    return this.accessorId === ANONYMOUS_ACCESSOR_ID;
  }

  /** enforce(): write grants read and write, read grants read, deny and no rule grant nothing. */
  allowed(resource: AclResource, level: AccessLevel, name: string): boolean {
    if (this.isManagement) return true;
    const policy = this.trees[resource]?.lookup(name);
    if (policy === 'write') return true;
    return policy === 'read' && level === 'read';
  }

  /** acl.PermissionDeniedError for a named resource, as the HTTP layer and txn errors show it. */
  denied(resource: AclResource, level: AccessLevel, name: string): string {
    const who = this.isAnonymous ? 'anonymous token' : `token with AccessorID '${this.accessorId}'`;
    const text = `Permission denied: ${who} lacks permission '${resource}:${level}' on ${JSON.stringify(name)}`;
    return this.isAnonymous
      ? `${text}. The anonymous token is used implicitly when a request does not specify a token.`
      : text;
  }
}

/** The emulator's token table; `resolve` answers undefined for a secret Consul would not find. */
export class AclTokens {
  readonly enabled: boolean;
  private readonly scoped = new Map<string, Authorizer>();

  constructor(
    private readonly managementToken: string | undefined,
    tokens: Record<string, AclRules> = {},
  ) {
    for (const [secret, rules] of Object.entries(tokens)) {
      if (secret === '') throw new Error('tokens: a token secret cannot be empty');
      if (secret === managementToken) {
        throw new Error('tokens: a policy-scoped token cannot reuse the management token');
      }
      this.scoped.set(secret, Authorizer.fromRules(accessorIdOf(secret), validateRules(rules)));
    }
    this.enabled = managementToken !== undefined || this.scoped.size > 0;
  }

  /** '' is "no token given" (the anonymous token). */
  resolve(secret: string): Authorizer | undefined {
    if (!this.enabled) return Authorizer.management();
    if (secret === '') return Authorizer.anonymous();
    if (secret === this.managementToken) return Authorizer.management();
    return this.scoped.get(secret);
  }
}

/** Rejects what Consul's rules parser would reject, and rule kinds the emulator does not enforce. */
function validateRules(given: AclRules): AclRules {
  const rules: unknown = given;
  if (rules === null || typeof rules !== 'object' || Array.isArray(rules)) {
    throw new Error('tokens: the rules of a token must be an object');
  }
  for (const [kind, byName] of Object.entries(rules as Record<string, unknown>)) {
    if (!(RULE_KINDS as readonly string[]).includes(kind)) {
      throw new Error(
        `tokens: unsupported rule kind ${JSON.stringify(kind)} (the emulator enforces ${RULE_KINDS.join(', ')})`,
      );
    }
    if (byName === null || typeof byName !== 'object' || Array.isArray(byName)) {
      throw new Error(`tokens: ${kind} must map names to { policy }`);
    }
    for (const [name, rule] of Object.entries(byName as Record<string, unknown>)) {
      const policy = (rule as { policy?: unknown } | null)?.policy;
      if (typeof policy !== 'string' || !POLICIES.includes(policy)) {
        throw new Error(
          `tokens: invalid ${kind} policy for ${JSON.stringify(name)}: ${JSON.stringify(policy)} (read, write or deny)`,
        );
      }
    }
  }
  return given;
}
