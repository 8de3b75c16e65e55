// A go-bexpr compatible filter (the `?filter=` query parameter of Consul's list endpoints):
// parser following bexpr's PEG grammar, selector validation against a per-endpoint schema
// (as Consul derives it from its Go structs) and evaluation per element.

/** The shape of one selectable field, mirroring how bexpr reflects Consul's Go structs. */
export type FieldKind =
  | { t: 'string' }
  | { t: 'int' }
  | { t: 'bool' }
  | { t: 'stringList' }
  | { t: 'stringMap' }
  | { t: 'struct'; fields: Schema }
  | { t: 'structList'; fields: Schema }
  | { t: 'structMap'; fields: Schema };

export type Schema = Record<string, FieldKind>;

export type MatchOp =
  'Equal' | 'Not Equal' | 'In' | 'Not In' | 'Is Empty' | 'Is Not Empty' | 'Matches' | 'Not Matches';

interface MatchNode {
  kind: 'match';
  selector: string[];
  op: MatchOp;
  raw: string | null;
  /** Filled by compile: the coerced value or compiled regular expression. */
  value?: string | number | boolean | RegExp;
  leaf?: FieldKind;
}
interface NotNode {
  kind: 'not';
  operand: Expr;
}
interface BinaryNode {
  kind: 'and' | 'or';
  left: Expr;
  right: Expr;
}
type Expr = MatchNode | NotNode | BinaryNode;

/** Raised for an expression that does not parse or does not fit the schema. */
export class FilterError extends Error {
  constructor(message: string) {
    super(`Failed to create boolean expression evaluator: ${message}`);
    this.name = 'FilterError';
  }
}

const S: FieldKind = { t: 'string' };
const I: FieldKind = { t: 'int' };
const B: FieldKind = { t: 'bool' };
const SL: FieldKind = { t: 'stringList' };
const SM: FieldKind = { t: 'stringMap' };

const upstreamFields: Schema = {
  Datacenter: S,
  DestinationName: S,
  DestinationNamespace: S,
  DestinationPartition: S,
  DestinationPeer: S,
  DestinationType: S,
  LocalBindAddress: S,
  LocalBindPort: I,
  LocalBindSocketPath: S,
  MeshGateway: { t: 'struct', fields: { Mode: S } },
};
const proxyFields: Schema = {
  DestinationServiceID: S,
  DestinationServiceName: S,
  LocalServiceAddress: S,
  LocalServicePort: I,
  LocalServiceSocketPath: S,
  Mode: S,
  MeshGateway: { t: 'struct', fields: { Mode: S } },
  TransparentProxy: { t: 'struct', fields: { OutboundListenerPort: I, DialedDirectly: B } },
  Upstreams: { t: 'structList', fields: upstreamFields },
};
const serviceAddressFields: Schema = { Address: S, Port: I };
const weightsFields: Schema = { Passing: I, Warning: I };

/** structs.Node (catalog/nodes, health/service `Node`). */
export const nodeSchema: Schema = {
  ID: S,
  Node: S,
  Address: S,
  Datacenter: S,
  PeerName: S,
  TaggedAddresses: SM,
  Meta: SM,
};

/** structs.ServiceNode (catalog/service/:name and catalog/services). */
export const serviceNodeSchema: Schema = {
  ID: S,
  Node: S,
  Address: S,
  Datacenter: S,
  TaggedAddresses: SM,
  NodeMeta: SM,
  ServiceKind: S,
  ServiceID: S,
  ServiceName: S,
  ServiceTags: SL,
  ServiceAddress: S,
  ServiceTaggedAddresses: { t: 'structMap', fields: serviceAddressFields },
  ServiceWeights: { t: 'struct', fields: weightsFields },
  ServiceMeta: SM,
  ServicePort: I,
  ServiceSocketPath: S,
  ServiceEnableTagOverride: B,
  ServiceProxy: { t: 'struct', fields: proxyFields },
  ServiceConnect: { t: 'struct', fields: { Native: B } },
  PeerName: S,
};

/** structs.NodeService (catalog/node-services, catalog/node, health/service `Service`). */
export const nodeServiceSchema: Schema = {
  Kind: S,
  ID: S,
  Service: S,
  Tags: SL,
  Address: S,
  TaggedAddresses: { t: 'structMap', fields: serviceAddressFields },
  Meta: SM,
  Port: I,
  SocketPath: S,
  Weights: { t: 'struct', fields: weightsFields },
  EnableTagOverride: B,
  Proxy: { t: 'struct', fields: proxyFields },
  Connect: { t: 'struct', fields: { Native: B } },
  PeerName: S,
};

/** structs.HealthCheck (health/node, health/state, health/checks). */
export const healthCheckSchema: Schema = {
  Node: S,
  CheckID: S,
  Name: S,
  Status: S,
  Notes: S,
  Output: S,
  ServiceID: S,
  ServiceName: S,
  ServiceTags: SL,
  Type: S,
  Interval: S,
  Timeout: S,
  ExposedPort: I,
  PeerName: S,
};

/** structs.CheckServiceNode (health/service/:name). */
export const checkServiceNodeSchema: Schema = {
  Node: { t: 'struct', fields: nodeSchema },
  Service: { t: 'struct', fields: nodeServiceSchema },
  Checks: { t: 'structList', fields: healthCheckSchema },
};

function supportedOps(kind: FieldKind): readonly MatchOp[] {
  switch (kind.t) {
    case 'string':
      return ['Equal', 'Not Equal', 'In', 'Not In', 'Matches', 'Not Matches'];
    case 'int':
    case 'bool':
      return ['Equal', 'Not Equal'];
    case 'stringList':
      return ['In', 'Not In', 'Is Empty', 'Is Not Empty'];
    case 'stringMap':
    case 'structMap':
      return ['Is Empty', 'Is Not Empty', 'In', 'Not In'];
    case 'structList':
      return ['Is Empty', 'Is Not Empty'];
    case 'struct':
      return [];
  }
}

// ---------------------------------------------------------------- parser

interface ParseFailure {
  pos: number;
  expected: Set<string>;
}

class CustomError extends Error {
  constructor(
    readonly pos: number,
    readonly rule: string,
    message: string,
  ) {
    super(message);
  }
}

class Parser {
  private pos = 0;
  private readonly fail: ParseFailure = { pos: -1, expected: new Set() };

  constructor(private readonly src: string) {}

  parse(): Expr {
    this.ws();
    const expr = this.orExpr();
    this.ws();
    if (expr === null || this.pos < this.src.length) {
      if (expr !== null) this.expect('EOF');
      throw new FilterError(this.failureMessage());
    }
    return expr;
  }

  private failureMessage(): string {
    const pos = Math.max(this.fail.pos, 0);
    const list = [...this.fail.expected].sort();
    let expected = list.join(', ');
    if (list.length > 1) {
      expected = `${list.slice(0, -1).join(', ')} or ${list[list.length - 1] ?? ''}`;
    }
    return `${this.location(pos)}: no match found, expected: ${expected}`;
  }

  location(pos: number): string {
    let line = 1;
    let col = 1;
    for (let i = 0; i < pos && i < this.src.length; i++) {
      if (this.src[i] === '\n') {
        line++;
        col = 1;
      } else col++;
    }
    return `${line}:${col} (${pos})`;
  }

  private expect(what: string, at = this.pos): void {
    if (at > this.fail.pos) {
      this.fail.pos = at;
      this.fail.expected = new Set([what]);
    } else if (at === this.fail.pos) this.fail.expected.add(what);
  }

  /** Optional whitespace; returns whether any was consumed. */
  private ws(): boolean {
    const start = this.pos;
    while (this.pos < this.src.length && ' \t\r\n'.includes(this.src[this.pos] ?? '')) this.pos++;
    if (this.pos === start) this.expect('[ \\t\\r\\n]');
    return this.pos > start;
  }

  private lit(text: string): boolean {
    if (this.src.startsWith(text, this.pos)) {
      this.pos += text.length;
      return true;
    }
    this.expect(JSON.stringify(text));
    return false;
  }

  /** `_ "keyword" _` style sequences; restores the position on failure. */
  private seq(...parts: string[]): boolean {
    const start = this.pos;
    for (const part of parts) {
      const ok = part === '_' ? this.ws() : part === '_?' ? (this.ws(), true) : this.lit(part);
      if (!ok) {
        this.pos = start;
        return false;
      }
    }
    return true;
  }

  private orExpr(): Expr | null {
    const left = this.andExpr();
    if (left === null) return null;
    const save = this.pos;
    if (this.seq('_', 'or', '_')) {
      const right = this.orExpr();
      if (right !== null) return { kind: 'or', left, right };
    }
    this.pos = save;
    return left;
  }

  private andExpr(): Expr | null {
    const left = this.notExpr();
    if (left === null) return null;
    const save = this.pos;
    if (this.seq('_', 'and', '_')) {
      const right = this.andExpr();
      if (right !== null) return { kind: 'and', left, right };
    }
    this.pos = save;
    return left;
  }

  private notExpr(): Expr | null {
    const save = this.pos;
    if (this.seq('not', '_')) {
      const operand = this.notExpr();
      if (operand !== null) {
        if (operand.kind === 'not') return operand.operand;
        return { kind: 'not', operand };
      }
    }
    this.pos = save;
    return this.parenExpr();
  }

  private parenExpr(): Expr | null {
    const save = this.pos;
    if (this.lit('(')) {
      this.ws();
      const inner = this.orExpr();
      if (inner !== null) {
        this.ws();
        if (this.lit(')')) return inner;
        throw new CustomError(this.pos, 'grouping', 'Unmatched parentheses');
      }
    }
    this.pos = save;
    return this.matchExpr();
  }

  private matchExpr(): Expr | null {
    const start = this.pos;
    // Selector Op Value
    const selector = this.selector();
    if (selector !== null) {
      const afterSel = this.pos;
      const op = this.selectorOpValueOperator();
      if (op !== null) {
        const value = this.value();
        if (value !== null) return { kind: 'match', selector, op, raw: value };
      }
      this.pos = afterSel;
      if (this.seq('_', 'is', '_', 'not', '_', 'empty')) {
        return { kind: 'match', selector, op: 'Is Not Empty', raw: null };
      }
      if (this.seq('_', 'is', '_', 'empty')) {
        return { kind: 'match', selector, op: 'Is Empty', raw: null };
      }
    }
    this.pos = start;
    // Value (in | not in) Selector
    const value = this.value();
    if (value !== null) {
      let op: MatchOp | null = null;
      if (this.seq('_', 'in', '_')) op = 'In';
      else if (this.seq('_', 'not', '_', 'in', '_')) op = 'Not In';
      if (op !== null) {
        const sel = this.selector();
        if (sel !== null) return { kind: 'match', selector: sel, op, raw: value };
        throw new CustomError(this.pos, 'match', 'Invalid selector');
      }
    }
    this.pos = start;
    return null;
  }

  private selectorOpValueOperator(): MatchOp | null {
    if (this.seq('_?', '==', '_?')) return 'Equal';
    if (this.seq('_?', '!=', '_?')) return 'Not Equal';
    if (this.seq('_', 'contains', '_')) return 'In';
    if (this.seq('_', 'not', '_', 'contains', '_')) return 'Not In';
    if (this.seq('_', 'matches', '_')) return 'Matches';
    if (this.seq('_', 'not', '_', 'matches', '_')) return 'Not Matches';
    return null;
  }

  private identifier(): string | null {
    const start = this.pos;
    const first = this.src[this.pos] ?? '';
    if (!/[a-zA-Z]/.test(first)) {
      this.expect('[a-zA-Z]');
      return null;
    }
    this.pos++;
    while (this.pos < this.src.length && /[a-zA-Z0-9_/]/.test(this.src[this.pos] ?? '')) this.pos++;
    this.expect('[a-zA-Z0-9_/]');
    return this.src.slice(start, this.pos);
  }

  private selector(): string[] | null {
    const first = this.identifier();
    if (first === null) return null;
    const path = [first];
    for (;;) {
      const save = this.pos;
      if (this.lit('.')) {
        const ident = this.identifier();
        if (ident !== null) {
          path.push(ident);
          continue;
        }
        const digits = /^[0-9]+/.exec(this.src.slice(this.pos));
        if (digits) {
          this.pos += digits[0].length;
          path.push(digits[0]);
          continue;
        }
        this.pos = save;
        break;
      }
      if (this.lit('[')) {
        this.ws();
        const key = this.stringLiteral();
        if (key === null) throw new CustomError(this.pos, 'index', 'Invalid index');
        this.ws();
        if (!this.lit(']')) throw new CustomError(this.pos, 'index', 'Unclosed index expression');
        path.push(key);
        continue;
      }
      break;
    }
    return path;
  }

  private value(): string | null {
    const sel = this.selector();
    if (sel !== null) return sel.join('.');
    const num = this.numberLiteral();
    if (num !== null) return num;
    return this.stringLiteral();
  }

  private numberLiteral(): string | null {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?/.exec(this.src.slice(this.pos));
    if (!m) {
      this.expect('[0-9]');
      return null;
    }
    const start = this.pos;
    this.pos += m[0].length;
    const next = this.src[this.pos];
    if (next === undefined || next === ')' || ' \t\r\n'.includes(next)) return m[0];
    throw new CustomError(start, 'number', 'Invalid number literal');
  }

  private stringLiteral(): string | null {
    const quote = this.src[this.pos];
    if (quote !== '"' && quote !== '`') {
      this.expect('"\\""');
      this.expect('"`"');
      return null;
    }
    const start = this.pos;
    const end = this.src.indexOf(quote, start + 1);
    if (end < 0) throw new CustomError(start, 'string', 'Unterminated string literal');
    const body = this.src.slice(start + 1, end);
    this.pos = end + 1;
    if (quote === '`') return body;
    const unquoted = unquoteGo(body);
    if (unquoted === null) throw new CustomError(start, 'string', 'invalid syntax');
    return unquoted;
  }
}

/** strconv.Unquote for the inside of a double-quoted Go string (no raw `"` possible here). */
function unquoteGo(body: string): string | null {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? '';
    if (c === '\n') return null;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    const simple: Record<string, string> = {
      a: '\x07',
      b: '\b',
      f: '\f',
      n: '\n',
      r: '\r',
      t: '\t',
      v: '\v',
      '\\': '\\',
      '"': '"',
    };
    if (e !== undefined && e in simple) {
      out += simple[e];
      continue;
    }
    const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLen > 0) {
      const hex = body.slice(i + 1, i + 1 + hexLen);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== hexLen) return null;
      out += String.fromCodePoint(parseInt(hex, 16));
      i += hexLen;
      continue;
    }
    if (e !== undefined && /[0-7]/.test(e)) {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) return null;
      out += String.fromCharCode(parseInt(oct, 8));
      i += 2;
      continue;
    }
    return null;
  }
  return out;
}

// ---------------------------------------------------------------- compile

/** Go's %q of a []string: ["a" "b"]. */
function goQuoteList(parts: string[]): string {
  return `[${parts.map((p) => JSON.stringify(p)).join(' ')}]`;
}

function resolveLeaf(schema: Schema, path: string[]): FieldKind {
  let fields: Schema | null = schema;
  let kind: FieldKind | null = null;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i] ?? '';
    let next: FieldKind | undefined;
    if (kind !== null && (kind.t === 'stringMap' || kind.t === 'structMap')) {
      next = kind.t === 'stringMap' ? S : { t: 'struct', fields: kind.fields };
    } else if (fields !== null && Object.prototype.hasOwnProperty.call(fields, seg)) {
      next = fields[seg];
    }
    if (next === undefined) {
      throw new FilterError(`Selector ${goQuoteList(path.slice(0, i + 1))} is not valid`);
    }
    kind = next;
    fields = next.t === 'struct' || next.t === 'structList' ? next.fields : null;
  }
  if (kind === null) throw new FilterError(`Invalid selector: ${JSON.stringify(path.join('.'))}`);
  return kind;
}

const BOOL_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const BOOL_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

function compileMatch(node: MatchNode, schema: Schema): void {
  const leaf = resolveLeaf(schema, node.selector);
  const selText = node.selector.join('.');
  if (!supportedOps(leaf).includes(node.op)) {
    throw new FilterError(`Invalid match operator "${node.op}" for selector "${selText}"`);
  }
  node.leaf = leaf;
  if (node.raw === null) return;
  const raw = node.raw;
  if (leaf.t === 'int') {
    if (!/^[+-]?[0-9]+$/.test(raw)) {
      throw new FilterError(
        `Failed to coerce value "${raw}" for selector "${selText}": strconv.ParseInt: parsing ${JSON.stringify(raw)}: invalid syntax`,
      );
    }
    node.value = Number(raw);
  } else if (leaf.t === 'bool') {
    if (!BOOL_TRUE.has(raw) && !BOOL_FALSE.has(raw)) {
      throw new FilterError(
        `Failed to coerce value "${raw}" for selector "${selText}": strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax`,
      );
    }
    node.value = BOOL_TRUE.has(raw);
  } else if (node.op === 'Matches' || node.op === 'Not Matches') {
    try {
      node.value = new RegExp(raw);
    } catch (err) {
      throw new FilterError(
        `Failed to compile regular expression "${raw}": ${(err as Error).message}`,
      );
    }
  } else node.value = raw;
}

function compileExpr(expr: Expr, schema: Schema): void {
  if (expr.kind === 'match') compileMatch(expr, schema);
  else if (expr.kind === 'not') compileExpr(expr.operand, schema);
  else {
    compileExpr(expr.left, schema);
    compileExpr(expr.right, schema);
  }
}

// ---------------------------------------------------------------- evaluate

function zeroValue(kind: FieldKind): unknown {
  switch (kind.t) {
    case 'string':
      return '';
    case 'int':
      return 0;
    case 'bool':
      return false;
    default:
      return null;
  }
}

function applyLeaf(node: MatchNode, kind: FieldKind, raw: unknown): boolean {
  const value = raw === undefined || raw === null ? zeroValue(kind) : raw;
  switch (node.op) {
    case 'Equal':
      return value === node.value;
    case 'Not Equal':
      return value !== node.value;
    case 'Matches':
      return (node.value as RegExp).test(String(value));
    case 'Not Matches':
      return !(node.value as RegExp).test(String(value));
    case 'In':
    case 'Not In': {
      let found: boolean;
      if (kind.t === 'string') found = String(value).includes(String(node.value));
      else if (kind.t === 'stringList')
        found = ((value as string[] | null) ?? []).includes(String(node.value));
      else
        found = value !== null && Object.prototype.hasOwnProperty.call(value, String(node.value));
      return node.op === 'In' ? found : !found;
    }
    case 'Is Empty':
    case 'Is Not Empty': {
      let empty: boolean;
      if (value === null) empty = true;
      else if (Array.isArray(value)) empty = value.length === 0;
      else empty = Object.keys(value as object).length === 0;
      return node.op === 'Is Empty' ? empty : !empty;
    }
  }
}

function evalPath(node: MatchNode, fields: Schema, datum: unknown, depth: number): boolean {
  const seg = node.selector[depth] ?? '';
  const kind = fields[seg];
  if (kind === undefined) return false;
  const value =
    datum === null || datum === undefined ? undefined : (datum as Record<string, unknown>)[seg];
  return evalKind(node, kind, value, depth + 1);
}

function evalKind(node: MatchNode, kind: FieldKind, value: unknown, depth: number): boolean {
  if (depth === node.selector.length) return applyLeaf(node, kind, value);
  switch (kind.t) {
    case 'struct':
      return evalPath(node, kind.fields, value, depth);
    case 'structList': {
      // bexpr: a selector through a slice matches when any element matches
      const list = (value as unknown[] | null | undefined) ?? [];
      return list.some((item) => evalPath(node, kind.fields, item, depth));
    }
    case 'stringMap':
    case 'structMap': {
      const key = node.selector[depth] ?? '';
      const map = value as Record<string, unknown> | null | undefined;
      if (map === null || map === undefined || !Object.prototype.hasOwnProperty.call(map, key)) {
        // bexpr: a missing map key cannot be equal to, contain or match anything
        return !['Equal', 'Is Not Empty', 'In', 'Matches'].includes(node.op);
      }
      const inner: FieldKind = kind.t === 'stringMap' ? S : { t: 'struct', fields: kind.fields };
      return evalKind(node, inner, map[key], depth + 1);
    }
    default:
      return false;
  }
}

function evaluate(expr: Expr, schema: Schema, datum: unknown): boolean {
  switch (expr.kind) {
    case 'match':
      return evalPath(expr, schema, datum, 0);
    case 'not':
      return !evaluate(expr.operand, schema, datum);
    case 'and':
      return evaluate(expr.left, schema, datum) && evaluate(expr.right, schema, datum);
    case 'or':
      return evaluate(expr.left, schema, datum) || evaluate(expr.right, schema, datum);
  }
}

export type Predicate = ((datum: unknown) => boolean) & {
  /** The top-level fields the expression reads: the predicate looks at no other field. */
  readonly fields: ReadonlySet<string>;
};

function topLevelFields(expr: Expr, into: Set<string>): Set<string> {
  if (expr.kind === 'match') into.add(expr.selector[0] ?? '');
  else if (expr.kind === 'not') topLevelFields(expr.operand, into);
  else {
    topLevelFields(expr.left, into);
    topLevelFields(expr.right, into);
  }
  return into;
}

/**
 * Compiles a filter expression for elements of the given schema. An empty expression matches
 * everything. Throws FilterError (message as Consul's) for bad syntax or selectors.
 */
export function compileFilter(expression: string, schema: Schema): Predicate {
  if (expression === '') return Object.assign(() => true, { fields: new Set<string>() });
  const parser = new Parser(expression);
  let expr: Expr;
  try {
    expr = parser.parse();
  } catch (err) {
    if (err instanceof CustomError) {
      throw new FilterError(`${parser.location(err.pos)}: rule "${err.rule}": ${err.message}`);
    }
    throw err;
  }
  compileExpr(expr, schema);
  return Object.assign((datum: unknown) => evaluate(expr, schema, datum), {
    fields: topLevelFields(expr, new Set()),
  });
}
