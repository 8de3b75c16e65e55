// Validates Service and EndpointSlice objects the way kube-apiserver 1.32 does, so that an object
// no API server would store (sent with a leaked token or by a misconfigured sender) is acted on
// by nothing. Pure: plain functions over `unknown`, linear in the input, never throwing.
//
// Sources (kubernetes/kubernetes, release 1.32): pkg/apis/core/validation/validation.go
// (ValidateService, validateServicePort, ValidateServiceClusterIPsRelatedFields,
// ValidateNonSpecialIP, ValidateLoadBalancerStatus), pkg/apis/discovery/validation/validation.go
// (ValidateEndpointSlice), apimachinery pkg/api/validation/objectmeta.go (ValidateObjectMeta),
// apimachinery pkg/util/validation (IsDNS1123Label & co, IsValidPortName, IsValidIP) and the
// forked Go 1.16 IP parser behind netutils.ParseIPSloppy.
//
// The object is read as the API server validates it: after defaulting. An absent field that the
// API server defaults (spec.type, a port's protocol and targetPort, sessionAffinity, an
// EndpointSlice port's name and protocol, a LoadBalancer ingress ipMode) is read as its default.

export interface FieldProblem {
  /** The field path as the API server writes it, e.g. `spec.externalIPs[3]`. */
  field: string;
  /** The API server's message, e.g. `Invalid value: "not-an-ip": must be a valid IP address`. */
  message: string;
}

/** At most this many problems are listed; one more entry then says how many were left out. */
export const MAX_PROBLEMS = 20;
/** The field of that last entry. */
export const MORE_PROBLEMS_FIELD = '(more)';
/** User input is quoted up to this many characters. */
const MAX_ECHO = 64;

// ---------------------------------------------------------------------------------------------
// Names (apimachinery pkg/util/validation/validation.go)

const DNS1123_LABEL_MAX = 63;
const DNS1123_SUBDOMAIN_MAX = 253;
const DNS1035_LABEL_MAX = 63;
const QUALIFIED_NAME_MAX = 63;
const LABEL_VALUE_MAX = 63;
const IANA_SVC_NAME_MAX = 15;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const PORT_NAME_CHARSET = /^[-a-z0-9]+$/;
const PORT_NAME_ONE_LETTER = /[a-z]/;

// The API server appends "(e.g. ..., regex used for validation is '...')"; left out to keep
// messages short.
const DNS1123_LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const QUALIFIED_NAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

const maxLenError = (n: number): string => `must be no more than ${n} characters`;

/** The regexes are linear, but there is no reason to run them over megabytes. */
const matches = (re: RegExp, s: string, max: number): boolean => s.length <= max && re.test(s);

export function isDns1123Label(s: string): boolean {
  return matches(DNS1123_LABEL, s, DNS1123_LABEL_MAX);
}
export function isDns1123Subdomain(s: string): boolean {
  return matches(DNS1123_SUBDOMAIN, s, DNS1123_SUBDOMAIN_MAX);
}
export function isDns1035Label(s: string): boolean {
  return matches(DNS1035_LABEL, s, DNS1035_LABEL_MAX);
}
/** IANA_SVC_NAME (RFC 6335) as IsValidPortName: ≤ 15 of [-a-z0-9], a letter, no "--", no edge "-". */
export function isIanaSvcName(s: string): boolean {
  return portNameErrors(s).length === 0;
}
/** A label key or annotation key (prefix/name), as IsQualifiedName. */
export function isQualifiedName(s: string): boolean {
  return qualifiedNameErrors(s).length === 0;
}
export function isValidLabelValue(s: string): boolean {
  return labelValueErrors(s).length === 0;
}

function dns1123LabelErrors(s: string): string[] {
  const errs: string[] = [];
  if (s.length > DNS1123_LABEL_MAX) errs.push(maxLenError(DNS1123_LABEL_MAX));
  if (!matches(DNS1123_LABEL, s, Infinity)) errs.push(DNS1123_LABEL_MSG);
  return errs;
}
function dns1123SubdomainErrors(s: string): string[] {
  const errs: string[] = [];
  if (s.length > DNS1123_SUBDOMAIN_MAX) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX));
  if (!matches(DNS1123_SUBDOMAIN, s, Infinity)) errs.push(DNS1123_SUBDOMAIN_MSG);
  return errs;
}
function dns1035LabelErrors(s: string): string[] {
  const errs: string[] = [];
  if (s.length > DNS1035_LABEL_MAX) errs.push(maxLenError(DNS1035_LABEL_MAX));
  if (!matches(DNS1035_LABEL, s, Infinity)) errs.push(DNS1035_LABEL_MSG);
  return errs;
}
function qualifiedNameErrors(s: string): string[] {
  const errs: string[] = [];
  const slash = s.indexOf('/');
  let name = s;
  if (slash >= 0) {
    if (s.indexOf('/', slash + 1) >= 0) {
      return [
        `a qualified name ${QUALIFIED_NAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
      ];
    }
    const prefix = s.slice(0, slash);
    name = s.slice(slash + 1);
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else for (const m of dns1123SubdomainErrors(prefix)) errs.push(`prefix part ${m}`);
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > QUALIFIED_NAME_MAX)
    errs.push(`name part ${maxLenError(QUALIFIED_NAME_MAX)}`);
  if (!QUALIFIED_NAME.test(name)) errs.push(`name part ${QUALIFIED_NAME_MSG}`);
  return errs;
}
function labelValueErrors(s: string): string[] {
  const errs: string[] = [];
  if (s.length > LABEL_VALUE_MAX) errs.push(maxLenError(LABEL_VALUE_MAX));
  if (!LABEL_VALUE.test(s)) errs.push(LABEL_VALUE_MSG);
  return errs;
}
function portNameErrors(s: string): string[] {
  const errs: string[] = [];
  if (s.length > IANA_SVC_NAME_MAX) errs.push(maxLenError(IANA_SVC_NAME_MAX));
  if (!PORT_NAME_CHARSET.test(s)) {
    errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  }
  if (!PORT_NAME_ONE_LETTER.test(s)) errs.push('must contain at least one letter (a-z)');
  if (s.includes('--')) errs.push('must not contain consecutive hyphens');
  if (s.startsWith('-') || s.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}
/** IsFullyQualifiedDomainName: one message at most (the API server joins them with ","). */
function fqdnError(s: string): string | undefined {
  const name = s.endsWith('.') ? s.slice(0, -1) : s;
  const errs = dns1123SubdomainErrors(name);
  if (errs.length > 0) return errs.join(',');
  const labels = name.split('.');
  if (labels.length < 2) return 'should be a domain with at least two segments separated by dots';
  for (const label of labels) {
    const labelErrs = dns1123LabelErrors(label);
    if (labelErrs.length > 0) return labelErrs.join(',');
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// IP addresses: k8s.io/utils/net ParseIPSloppy (Go 1.16's net.ParseIP, leading zeros allowed)

const BIG = 0xffffff;

/** Where the last dtoi/xtoi stopped (module state keeps the hot path free of allocations). */
let scanEnd = 0;

/** Go's dtoi: the decimal number at `i` (end in scanEnd), or -1 (no digit, or ≥ 0xFFFFFF). */
function dtoi(s: string, i: number): number {
  let n = 0;
  let j = i;
  for (; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
    if (n >= BIG) return -1;
  }
  scanEnd = j;
  return j === i ? -1 : n;
}

/** Go's xtoi: the hexadecimal number at `i` (end in scanEnd), or -1. */
function xtoi(s: string, i: number): number {
  let n = 0;
  let j = i;
  for (; j < s.length; j++) {
    const c = s.charCodeAt(j);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else break;
    n = n * 16 + d;
    if (n >= BIG) return -1;
  }
  scanEnd = j;
  return j === i ? -1 : n;
}

/**
 * Go's parseIPv4 on s[start:] into ip[at..at+3]: d.d.d.d, each part decimal ≤ 255 (leading
 * zeros allowed, as the fork behind ParseIPSloppy).
 */
function parseIPv4(s: string, start: number, ip: number[], at: number): boolean {
  let i = start;
  for (let k = 0; k < 4; k++) {
    if (i >= s.length) return false;
    if (k > 0) {
      if (s.charCodeAt(i) !== 46) return false;
      i++;
    }
    const n = dtoi(s, i);
    if (n < 0 || n > 0xff) return false;
    ip[at + k] = n;
    i = scanEnd;
  }
  return i === s.length;
}

/** Go's parseIPv6 (RFC 4291, RFC 5952 forms, a trailing dotted IPv4, no zone). */
function parseIPv6(s: string): number[] | undefined {
  const ip = clearedIp();
  let ellipsis = -1;
  let pos = 0;
  if (s.length >= 2 && s.charCodeAt(0) === 58 && s.charCodeAt(1) === 58) {
    ellipsis = 0;
    pos = 2;
    if (pos === s.length) return ip;
  }
  let i = 0;
  while (i < 16) {
    const n = xtoi(s, pos);
    if (n < 0 || n > 0xffff) return undefined;
    const end = scanEnd;
    if (end < s.length && s.charCodeAt(end) === 46) {
      // A trailing IPv4 address: in the last 4 bytes, or anywhere before an ellipsis.
      if (ellipsis < 0 && i !== 12) return undefined;
      if (i + 4 > 16) return undefined;
      if (!parseIPv4(s, pos, ip, i)) return undefined;
      pos = s.length;
      i += 4;
      break;
    }
    ip[i] = n >> 8;
    ip[i + 1] = n & 0xff;
    i += 2;
    pos = end;
    if (pos === s.length) break;
    if (s.charCodeAt(pos) !== 58 || pos + 1 === s.length) return undefined;
    pos++;
    if (s.charCodeAt(pos) === 58) {
      if (ellipsis >= 0) return undefined;
      ellipsis = i;
      pos++;
      if (pos === s.length) break;
    }
  }
  if (pos !== s.length) return undefined;
  if (i < 16) {
    if (ellipsis < 0) return undefined;
    const shift = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + shift] = ip[j] ?? 0;
    for (let j = ellipsis + shift - 1; j >= ellipsis; j--) ip[j] = 0;
  } else if (ellipsis >= 0) {
    return undefined; // an ellipsis must stand for at least one group
  }
  return ip;
}

/**
 * The bytes of the last parsed address: one buffer, so that validating 40,000 addresses
 * allocates nothing. A parse result is read before the next parse, never kept.
 */
const IP_BYTES: number[] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

function clearedIp(): number[] {
  IP_BYTES.fill(0);
  return IP_BYTES;
}

/**
 * netutils.ParseIPSloppy: the 16 bytes (IPv4 as ::ffff:a.b.c.d, like Go), or undefined when `s`
 * is not an IP address. The first '.' or ':' decides the family, as in Go.
 */
function parseIp(s: string): readonly number[] | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      const ip = clearedIp();
      ip[10] = 0xff;
      ip[11] = 0xff;
      return parseIPv4(s, 0, ip, 12) ? ip : undefined;
    }
    if (c === 58) return parseIPv6(s);
  }
  return undefined;
}

/** net.IP.To4() != nil: an IPv4 (or IPv4-mapped IPv6) address. */
function isIPv4(ip: readonly number[]): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

function allZero(ip: readonly number[], from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (ip[i] !== 0) return false;
  return true;
}

/**
 * ValidateNonSpecialIP (named ValidateEndpointIP from 1.33) on a parsed address: Go's
 * IsUnspecified, IsLoopback, IsLinkLocalUnicast and IsLinkLocalMulticast.
 */
function specialIpError(ip: readonly number[], text: string): string | undefined {
  const v4 = isIPv4(ip);
  const at = v4 ? 12 : 0;
  const b0 = ip[at] ?? 0;
  const b1 = ip[at + 1] ?? 0;
  if (v4 ? allZero(ip, 12, 16) : allZero(ip, 0, 16)) {
    return `may not be unspecified (${echo(text)})`;
  }
  if (v4 ? b0 === 127 : ip[15] === 1 && allZero(ip, 0, 15)) {
    return 'may not be in the loopback range (127.0.0.0/8, ::1/128)';
  }
  if (v4 ? b0 === 169 && b1 === 254 : b0 === 0xfe && (b1 & 0xc0) === 0x80) {
    return 'may not be in the link-local range (169.254.0.0/16, fe80::/10)';
  }
  if (v4 ? b0 === 224 && b1 === 0 && ip[14] === 0 : b0 === 0xff && (b1 & 0x0f) === 0x02) {
    return 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)';
  }
  return undefined;
}

const INVALID_IP_MSG = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

/**
 * An endpoint or external IP as ValidateNonSpecialIP: undefined when valid, else the API server's
 * reason. Like the API server it refuses unspecified, loopback, link-local unicast and link-local
 * multicast addresses (224.0.0.0/24, ff02::/16), and accepts other multicast addresses and IPv4
 * octets with leading zeros (1.32 parses "sloppily"; strict parsing is a 1.33 alpha gate).
 */
export function validateEndpointIp(s: string): string | undefined {
  if (typeof s !== 'string') return 'must be a valid IP address';
  const ip = parseIp(s);
  if (ip === undefined) return 'must be a valid IP address';
  return specialIpError(ip, s);
}

// ---------------------------------------------------------------------------------------------
// Problems: collected up to MAX_PROBLEMS, counted beyond

function echo(s: string): string {
  return s.length > MAX_ECHO ? `${s.slice(0, MAX_ECHO)}...` : s;
}

/** A value in a message, as field.Error prints it: strings quoted, cut at 64 characters. */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(echo(value));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[list of ${value.length}]`;
  return '{object}';
}

class Problems {
  readonly listed: FieldProblem[] = [];
  total = 0;

  /** Counts a problem; true while it is to be listed (past the cap no message is built). */
  private take(): boolean {
    this.total++;
    return this.listed.length < MAX_PROBLEMS;
  }
  invalid(field: string, value: unknown, detail: string): void {
    if (this.take()) {
      this.listed.push({ field, message: `Invalid value: ${show(value)}: ${detail}` });
    }
  }
  required(field: string, detail = ''): void {
    if (this.take()) {
      this.listed.push({ field, message: detail ? `Required value: ${detail}` : 'Required value' });
    }
  }
  forbidden(field: string, detail: string): void {
    if (this.take()) this.listed.push({ field, message: `Forbidden: ${detail}` });
  }
  duplicate(field: string, value: unknown): void {
    if (this.take()) this.listed.push({ field, message: `Duplicate value: ${show(value)}` });
  }
  notSupported(field: string, value: unknown, supported: readonly string[]): void {
    if (!this.take()) return;
    const values = supported.map((v) => `"${v}"`).join(', ');
    this.listed.push({
      field,
      message: `Unsupported value: ${show(value)}: supported values: ${values}`,
    });
  }
  tooMany(field: string, actual: number, max: number): void {
    if (this.take()) {
      this.listed.push({ field, message: `Too many: ${actual}: must have at most ${max} items` });
    }
  }
  tooLong(field: string, maxBytes: number): void {
    if (this.take()) {
      this.listed.push({ field, message: `Too long: may not be more than ${maxBytes} bytes` });
    }
  }
  invalidEach(field: string, value: unknown, details: readonly string[]): void {
    for (const d of details) this.invalid(field, value, d);
  }

  result(): FieldProblem[] {
    const out = this.listed.slice();
    const more = this.total - out.length;
    if (more > 0) {
      out.push({
        field: MORE_PROBLEMS_FIELD,
        message: `${more} more problem${more === 1 ? '' : 's'} not listed (${this.total} in all)`,
      });
    }
    return out;
  }
}

function run(check: (p: Problems) => void): FieldProblem[] {
  const p = new Problems();
  try {
    check(p);
  } catch {
    // Not reachable with JSON input; a getter or proxy could get here. Never act on it.
    p.invalid('', null, 'the object could not be validated');
  }
  return p.result();
}

// ---------------------------------------------------------------------------------------------
// Reading raw JSON. JSON null is an absent field (Go's decoder leaves the zero value); a value
// of the wrong type is a decode error at the API server, reported here as a problem. Readers
// return undefined for absent and null for "wrong type, already reported".

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function own(o: JsonObject, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

/**
 * One field of a raw object, read as the API server's decoder would: absent or null is
 * undefined; the wrong type is a problem (and null, so the caller skips the field's checks).
 */
function readAs<T>(
  p: Problems,
  o: JsonObject,
  key: string,
  field: string,
  is: (v: unknown) => v is T,
  expected: string,
): T | undefined | null {
  const v = own(o, key);
  if (v === undefined || v === null) return undefined;
  if (is(v)) return v;
  p.invalid(field, v, expected);
  return null;
}

const isList = (v: unknown): v is unknown[] => Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
/** An int32 (the API server's decoder refuses fractions and values beyond int32). */
const isInt32 = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 0x7fffffff;

function readObject(p: Problems, o: JsonObject, key: string, field: string) {
  return readAs(p, o, key, field, isObject, 'must be an object');
}
function readList(p: Problems, o: JsonObject, key: string, field: string) {
  return readAs(p, o, key, field, isList, 'must be a list');
}
function readString(p: Problems, o: JsonObject, key: string, field: string) {
  return readAs(p, o, key, field, isString, 'must be a string');
}
function readInt(p: Problems, o: JsonObject, key: string, field: string) {
  return readAs(p, o, key, field, isInt32, 'must be an integer');
}

/** A list element that must be an object; reported when not. */
function item(p: Problems, v: unknown, field: string): JsonObject | undefined {
  if (isObject(v)) return v;
  if (v !== null) p.invalid(field, v, 'must be an object');
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// ObjectMeta (apimachinery pkg/api/validation/objectmeta.go ValidateObjectMetaAccessor)

const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

type NameErrors = (name: string) => string[];

/** maskTrailingDash: a generateName may end with '-' (the API server appends a suffix). */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? `${name.slice(0, -2)}a` : name;
}

function checkObjectMeta(p: Problems, obj: JsonObject, nameErrors: NameErrors): void {
  const meta = readObject(p, obj, 'metadata', 'metadata');
  if (meta === null) return;
  if (meta === undefined) {
    p.required('metadata.name', 'name or generateName is required');
    return;
  }
  const generateName = readString(p, meta, 'generateName', 'metadata.generateName');
  if (generateName) {
    p.invalidEach(
      'metadata.generateName',
      generateName,
      nameErrors(maskTrailingDash(generateName)),
    );
  }
  // At validation time a generateName has been turned into a name; an object carrying only the
  // prefix is read as one whose name will be generated from it.
  const name = readString(p, meta, 'name', 'metadata.name');
  if (name) p.invalidEach('metadata.name', name, nameErrors(name));
  else if (name !== null && !generateName) {
    p.required('metadata.name', 'name or generateName is required');
  }
  // The request carries the namespace; an object without one is in the request's namespace.
  const namespace = readString(p, meta, 'namespace', 'metadata.namespace');
  if (namespace) p.invalidEach('metadata.namespace', namespace, dns1123LabelErrors(namespace));
  checkLabels(p, meta, 'labels', 'metadata.labels');
  checkAnnotations(p, meta);
}

/** ValidateLabels: qualified-name keys, label values (the field is the map, as the API server). */
function checkLabels(p: Problems, o: JsonObject, key: string, field: string): void {
  const labels = readObject(p, o, key, field);
  if (!labels) return;
  for (const k of Object.keys(labels)) {
    p.invalidEach(field, k, qualifiedNameErrors(k));
    const v = labels[k];
    if (typeof v !== 'string') p.invalid(field, v, 'must be a string');
    else p.invalidEach(field, v, labelValueErrors(v));
  }
}

/** ValidateAnnotations: keys are qualified names in any case; keys + values ≤ 256 KiB. */
function checkAnnotations(p: Problems, meta: JsonObject): void {
  const field = 'metadata.annotations';
  const annotations = readObject(p, meta, 'annotations', field);
  if (!annotations) return;
  let bytes = 0;
  for (const k of Object.keys(annotations)) {
    p.invalidEach(field, k, qualifiedNameErrors(k.toLowerCase()));
    const v = annotations[k];
    bytes += utf8Length(k);
    if (typeof v !== 'string') p.invalid(field, v, 'must be a string');
    else bytes += utf8Length(v);
  }
  if (bytes > TOTAL_ANNOTATION_SIZE_LIMIT) p.tooLong(field, TOTAL_ANNOTATION_SIZE_LIMIT);
}

/** Bytes of the UTF-8 encoding, as Go's len() counts them (a lone surrogate becomes U+FFFD). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Service (pkg/apis/core/validation ValidateService)

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'] as const;
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'] as const;
const SESSION_AFFINITIES = ['ClientIP', 'None'] as const;
const TRAFFIC_POLICIES = ['Cluster', 'Local'] as const;
const IP_FAMILIES = ['IPv4', 'IPv6'] as const;
const IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'] as const;
const IP_MODES = ['Proxy', 'VIP'] as const;
/** ValidateService still refuses the kubelet port on a LoadBalancer (ports.KubeletPort). */
const KUBELET_PORT = 10250;

const isOneOf = (values: readonly string[], v: string): boolean => values.includes(v);
const portNumError = (n: number): string | undefined =>
  n >= 1 && n <= 65535 ? undefined : 'must be between 1 and 65535, inclusive';

/** metadata, spec and status.loadBalancer of a Service; [] when the API server would store it. */
export function validateService(obj: unknown): FieldProblem[] {
  return run((p) => {
    if (!isObject(obj)) {
      p.invalid('', obj, 'must be an object');
      return;
    }
    checkObjectMeta(p, obj, dns1035LabelErrors);
    const spec = readObject(p, obj, 'spec', 'spec');
    if (spec !== null) checkServiceSpec(p, spec ?? {});
    const status = readObject(p, obj, 'status', 'status');
    if (status) checkLoadBalancerStatus(p, status);
  });
}

function checkServiceSpec(p: Problems, spec: JsonObject): void {
  const rawType = readString(p, spec, 'type', 'spec.type');
  const type = rawType || 'ClusterIP';
  if (!isOneOf(SERVICE_TYPES, type)) p.notSupported('spec.type', type, SERVICE_TYPES);

  const cluster = clusterIPsOf(p, spec);
  const headless = cluster.ips[0] === 'None';
  const ports = readList(p, spec, 'ports', 'spec.ports');
  if ((ports ?? []).length === 0 && !headless && type !== 'ExternalName' && ports !== null) {
    p.required('spec.ports');
  }

  switch (type) {
    case 'LoadBalancer':
    case 'NodePort':
      if (headless) {
        p.invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${type} services`);
      }
      break;
    case 'ExternalName': {
      if (cluster.ips.length > 0) {
        p.forbidden('spec.clusterIPs', 'may not be set for ExternalName services');
      }
      const families = readList(p, spec, 'ipFamilies', 'spec.ipFamilies');
      if (families && families.length > 0) {
        p.forbidden('spec.ipFamilies', 'may not be set for ExternalName services');
      }
      if (readString(p, spec, 'ipFamilyPolicy', 'spec.ipFamilyPolicy') !== undefined) {
        p.forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services');
      }
      const externalName = readString(p, spec, 'externalName', 'spec.externalName');
      // The value (a CNAME) may end with a dot to mark it fully qualified.
      const value = externalName ?? '';
      const cname = value.endsWith('.') ? value.slice(0, -1) : value;
      if (cname) p.invalidEach('spec.externalName', cname, dns1123SubdomainErrors(cname));
      else if (externalName !== null) p.required('spec.externalName');
      break;
    }
  }

  if (ports) checkServicePorts(p, ports, type);
  if (own(spec, 'selector') !== undefined) checkLabels(p, spec, 'selector', 'spec.selector');

  const affinity = readString(p, spec, 'sessionAffinity', 'spec.sessionAffinity');
  if (affinity && !isOneOf(SESSION_AFFINITIES, affinity)) {
    p.notSupported('spec.sessionAffinity', affinity, SESSION_AFFINITIES);
  }

  if (type !== 'ExternalName') checkClusterIPs(p, spec, cluster);

  const externalIPs = readList(p, spec, 'externalIPs', 'spec.externalIPs');
  if (externalIPs) {
    for (let i = 0; i < externalIPs.length; i++) {
      const ip = externalIPs[i];
      const parsed = typeof ip === 'string' ? parseIp(ip) : undefined;
      const problem =
        typeof ip !== 'string'
          ? 'must be a string'
          : parsed === undefined
            ? INVALID_IP_MSG
            : specialIpError(parsed, ip);
      if (problem !== undefined) p.invalid(`spec.externalIPs[${i}]`, ip, problem);
    }
  }

  // validateServiceExternalTrafficPolicy / validateServiceInternalTrafficFieldsValue (absent is
  // defaulted; healthCheckNodePort is an allocation matter and not read here).
  const accessible =
    type === 'LoadBalancer' ||
    type === 'NodePort' ||
    (type === 'ClusterIP' && (externalIPs ?? []).length > 0);
  const etp = readString(p, spec, 'externalTrafficPolicy', 'spec.externalTrafficPolicy');
  if (etp && !accessible) {
    p.invalid(
      'spec.externalTrafficPolicy',
      etp,
      'may only be set for externally-accessible services',
    );
  } else if (etp && !isOneOf(TRAFFIC_POLICIES, etp)) {
    p.notSupported('spec.externalTrafficPolicy', etp, TRAFFIC_POLICIES);
  }
  const itp = readString(p, spec, 'internalTrafficPolicy', 'spec.internalTrafficPolicy');
  if (typeof itp === 'string' && !isOneOf(TRAFFIC_POLICIES, itp)) {
    p.notSupported('spec.internalTrafficPolicy', itp, TRAFFIC_POLICIES);
  }
}

/** validateServicePort for each port, then the cross-port checks of ValidateService. */
function checkServicePorts(p: Problems, ports: readonly unknown[], type: string): void {
  const names = new Set<string>();
  const portKeys = new Set<string>();
  const nodePortKeys = new Set<string>();
  const requireName = ports.length > 1;
  for (let i = 0; i < ports.length; i++) {
    const path = `spec.ports[${i}]`;
    const sp = item(p, ports[i], path);
    if (!sp) continue;

    const name = readString(p, sp, 'name', `${path}.name`);
    if (name) {
      p.invalidEach(`${path}.name`, name, dns1123LabelErrors(name));
      if (names.has(name)) p.duplicate(`${path}.name`, name);
      else names.add(name);
    } else if (requireName && name !== null) {
      p.required(`${path}.name`);
    }

    const port = readInt(p, sp, 'port', `${path}.port`);
    const portNum = port ?? 0;
    if (port !== null) {
      const err = portNumError(portNum);
      if (err) p.invalid(`${path}.port`, portNum, err);
    }

    const rawProtocol = readString(p, sp, 'protocol', `${path}.protocol`);
    const protocol = rawProtocol || 'TCP';
    if (!isOneOf(PROTOCOLS, protocol)) p.notSupported(`${path}.protocol`, protocol, PROTOCOLS);

    checkTargetPort(p, own(sp, 'targetPort'), port, `${path}.targetPort`);

    const appProtocol = readString(p, sp, 'appProtocol', `${path}.appProtocol`);
    if (typeof appProtocol === 'string') {
      p.invalidEach(`${path}.appProtocol`, appProtocol, qualifiedNameErrors(appProtocol));
    }

    // The nodePort range is the allocator's business; anything outside 0-65535 is not a port.
    const nodePort = readInt(p, sp, 'nodePort', `${path}.nodePort`) ?? 0;
    if (nodePort < 0 || nodePort > 65535) {
      p.invalid(`${path}.nodePort`, nodePort, 'must be between 0 and 65535, inclusive');
    }
    if (type === 'ClusterIP' && nodePort !== 0) {
      p.forbidden(`${path}.nodePort`, "may not be used when `type` is 'ClusterIP'");
    }
    if (type === 'LoadBalancer' && portNum === KUBELET_PORT) {
      p.invalid(
        path,
        portNum,
        `may not expose port ${KUBELET_PORT} externally since it is used by kubelet`,
      );
    }
    if (nodePort !== 0) {
      const key = `${protocol}/${nodePort}`;
      if (nodePortKeys.has(key)) p.duplicate(`${path}.nodePort`, nodePort);
      else nodePortKeys.add(key);
    }
    if (port !== null) {
      const key = `${protocol}/${portNum}`;
      if (portKeys.has(key)) p.duplicate(path, `${portNum}/${protocol}`);
      else portKeys.add(key);
    }
  }
}

/** ValidatePortNumOrName after defaulting (0, "" and absent become the port). */
function checkTargetPort(
  p: Problems,
  value: unknown,
  port: number | undefined | null,
  field: string,
): void {
  if (value === undefined || value === null || value === 0 || value === '') {
    if (typeof port === 'number') {
      const err = portNumError(port);
      if (err) p.invalid(field, port, err);
    }
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) p.invalid(field, value, 'must be an integer');
    else {
      const err = portNumError(value);
      if (err) p.invalid(field, value, err);
    }
  } else if (typeof value === 'string') {
    p.invalidEach(field, value, portNameErrors(value));
  } else {
    p.invalid(field, value, 'must be an integer or a string');
  }
}

interface ClusterIPs {
  /**
   * clusterIPs as the strategy syncs them before validation: as given, or [clusterIP] when only
   * that is set (so problems are named spec.clusterIPs[i], as the API server names them).
   */
  ips: string[];
  /** Whether spec.clusterIPs was given. */
  given: boolean;
  clusterIP: string;
}

function clusterIPsOf(p: Problems, spec: JsonObject): ClusterIPs {
  const clusterIP = readString(p, spec, 'clusterIP', 'spec.clusterIP') ?? '';
  const list = readList(p, spec, 'clusterIPs', 'spec.clusterIPs') ?? [];
  const ips: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const ip = list[i];
    if (typeof ip === 'string') ips.push(ip);
    else p.invalid(`spec.clusterIPs[${i}]`, ip, 'must be a string');
  }
  if (ips.length > 0 || list.length > 0) return { ips, given: true, clusterIP };
  return { ips: clusterIP ? [clusterIP] : [], given: false, clusterIP };
}

/** ValidateServiceClusterIPsRelatedFields, without the allocator's part (families vs. cluster). */
function checkClusterIPs(p: Problems, spec: JsonObject, cluster: ClusterIPs): void {
  const { ips, given, clusterIP } = cluster;
  if (given && clusterIP && ips[0] !== clusterIP) {
    p.invalid('spec.clusterIPs', ips, 'first value must match `clusterIP`');
  }
  const families = readList(p, spec, 'ipFamilies', 'spec.ipFamilies') ?? [];
  const seenFamilies = new Set<unknown>();
  for (let i = 0; i < families.length; i++) {
    const family = families[i];
    if (typeof family !== 'string' || !isOneOf(IP_FAMILIES, family)) {
      p.notSupported(`spec.ipFamilies[${i}]`, family, IP_FAMILIES);
    }
    if (seenFamilies.has(family)) p.duplicate(`spec.ipFamilies[${i}]`, family);
    seenFamilies.add(family);
  }
  const policy = readString(p, spec, 'ipFamilyPolicy', 'spec.ipFamilyPolicy');
  if (typeof policy === 'string' && !isOneOf(IP_FAMILY_POLICIES, policy)) {
    p.notSupported('spec.ipFamilyPolicy', policy, IP_FAMILY_POLICIES);
  }

  let invalid = false;
  const v4: boolean[] = [];
  for (let i = 0; i < ips.length; i++) {
    const ip = ips[i] ?? '';
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) {
        invalid = true;
        p.invalid('spec.clusterIPs', ips, "'None' must be the first and only value");
      }
      continue;
    }
    const parsed = parseIp(ip);
    if (parsed === undefined) {
      invalid = true;
      p.invalid(`spec.clusterIPs[${i}]`, ip, INVALID_IP_MSG);
    } else {
      v4.push(isIPv4(parsed));
    }
  }
  if (ips.length > 2) p.invalid('spec.clusterIPs', ips, 'may only hold up to 2 values');
  if (!invalid && ips.length === 2 && v4[0] === v4[1]) {
    p.invalid('spec.clusterIPs', ips, 'may specify no more than one IP for each IP family');
  }
}

/**
 * ValidateLoadBalancerStatus, on whatever status the object carries. Not applied: the rule that
 * ingress is only for type LoadBalancer. The API server checks it on the status subresource
 * only, and a Service turned from LoadBalancer into another type keeps its old status until the
 * cloud controller clears it, so such an object is stored legitimately.
 */
function checkLoadBalancerStatus(p: Problems, status: JsonObject): void {
  const lb = readObject(p, status, 'loadBalancer', 'status.loadBalancer');
  if (!lb) return;
  const ingress = readList(p, lb, 'ingress', 'status.loadBalancer.ingress');
  if (!ingress) return;
  for (let i = 0; i < ingress.length; i++) {
    const path = `status.loadBalancer.ingress[${i}]`;
    const entry = item(p, ingress[i], path);
    if (!entry) continue;
    const ip = readString(p, entry, 'ip', `${path}.ip`);
    if (ip && parseIp(ip) === undefined) p.invalid(`${path}.ip`, ip, INVALID_IP_MSG);
    // An absent ipMode next to an ip is defaulted to VIP for LoadBalancer services.
    const ipMode = readString(p, entry, 'ipMode', `${path}.ipMode`);
    if (typeof ipMode === 'string' && !ip) {
      p.forbidden(`${path}.ipMode`, 'may not be specified when `ip` is not set');
    } else if (typeof ipMode === 'string' && !isOneOf(IP_MODES, ipMode)) {
      p.notSupported(`${path}.ipMode`, ipMode, IP_MODES);
    }
    const hostname = readString(p, entry, 'hostname', `${path}.hostname`);
    if (hostname) {
      p.invalidEach(`${path}.hostname`, hostname, dns1123SubdomainErrors(hostname));
      if (parseIp(hostname) !== undefined) {
        p.invalid(`${path}.hostname`, hostname, 'must be a DNS name, not an IP address');
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// EndpointSlice (pkg/apis/discovery/validation ValidateEndpointSlice)

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'] as const;
const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;
/** Raised from 100 in 1.21 (kubernetes#99795) and unchanged since. */
const MAX_SLICE_PORTS = 20000;
const CONDITIONS = ['ready', 'serving', 'terminating'] as const;

/** An EndpointSlice; [] when the API server would store it. */
export function validateEndpointSlice(obj: unknown): FieldProblem[] {
  return run((p) => {
    if (!isObject(obj)) {
      p.invalid('', obj, 'must be an object');
      return;
    }
    checkObjectMeta(p, obj, dns1123SubdomainErrors);
    const addressType = readString(p, obj, 'addressType', 'addressType');
    if (addressType === undefined || addressType === '') p.required('addressType');
    else if (addressType !== null && !isOneOf(ADDRESS_TYPES, addressType)) {
      p.notSupported('addressType', addressType, ADDRESS_TYPES);
    }
    const endpoints = readList(p, obj, 'endpoints', 'endpoints');
    if (endpoints) checkEndpoints(p, endpoints, addressType ?? '');
    const ports = readList(p, obj, 'ports', 'ports');
    if (ports) checkSlicePorts(p, ports);
  });
}

function checkEndpoints(p: Problems, endpoints: readonly unknown[], addressType: string): void {
  if (endpoints.length > MAX_ENDPOINTS) {
    p.tooMany('endpoints', endpoints.length, MAX_ENDPOINTS);
    return;
  }
  for (let i = 0; i < endpoints.length; i++) {
    const path = `endpoints[${i}]`;
    const ep = item(p, endpoints[i], path);
    if (!ep) continue;
    const addresses = readList(p, ep, 'addresses', `${path}.addresses`);
    if (addresses !== null) {
      const list = addresses ?? [];
      if (list.length === 0) p.required(`${path}.addresses`, 'must contain at least 1 address');
      else if (list.length > MAX_ADDRESSES) {
        p.tooMany(`${path}.addresses`, list.length, MAX_ADDRESSES);
      }
      for (let j = 0; j < list.length; j++) {
        checkEndpointAddress(p, list[j], addressType, `${path}.addresses[${j}]`);
      }
    }
    const nodeName = readString(p, ep, 'nodeName', `${path}.nodeName`);
    if (typeof nodeName === 'string') {
      p.invalidEach(`${path}.nodeName`, nodeName, dns1123SubdomainErrors(nodeName));
    }
    const hostname = readString(p, ep, 'hostname', `${path}.hostname`);
    if (typeof hostname === 'string') {
      p.invalidEach(`${path}.hostname`, hostname, dns1123LabelErrors(hostname));
    }
    const conditions = readObject(p, ep, 'conditions', `${path}.conditions`);
    if (conditions) {
      for (const c of CONDITIONS) {
        const v = own(conditions, c);
        if (v !== undefined && v !== null && typeof v !== 'boolean') {
          p.invalid(`${path}.conditions.${c}`, v, 'must be a boolean');
        }
      }
    }
  }
}

/** By addressType; addresses of an unknown type are not validated (as the API server). */
function checkEndpointAddress(
  p: Problems,
  address: unknown,
  addressType: string,
  field: string,
): void {
  if (typeof address !== 'string') {
    p.invalid(field, address, 'must be a string');
    return;
  }
  if (addressType === 'IPv4' || addressType === 'IPv6') {
    const ip = parseIp(address);
    const isV4 = ip !== undefined && isIPv4(ip);
    if (ip === undefined || isV4 !== (addressType === 'IPv4')) {
      p.invalid(field, address, `must be a valid ${addressType} address`);
      return;
    }
    const special = specialIpError(ip, address);
    if (special) p.invalid(field, address, special);
  } else if (addressType === 'FQDN') {
    if (address === '') {
      p.required(field);
      return;
    }
    const err = fqdnError(address);
    if (err) p.invalid(field, address, err);
  }
}

function checkSlicePorts(p: Problems, ports: readonly unknown[]): void {
  if (ports.length > MAX_SLICE_PORTS) {
    p.tooMany('ports', ports.length, MAX_SLICE_PORTS);
    return;
  }
  const names = new Set<string>();
  for (let i = 0; i < ports.length; i++) {
    const path = `ports[${i}]`;
    const ep = item(p, ports[i], path);
    if (!ep) continue;
    // name and protocol are defaulted ("" and TCP) when absent, not when empty.
    const name = readString(p, ep, 'name', `${path}.name`);
    if (name !== null) {
      const n = name ?? '';
      if (n) p.invalidEach(`${path}.name`, n, dns1123LabelErrors(n));
      if (names.has(n)) p.duplicate(`${path}.name`, n);
      else names.add(n);
    }
    const protocol = readString(p, ep, 'protocol', `${path}.protocol`);
    if (typeof protocol === 'string' && !isOneOf(PROTOCOLS, protocol)) {
      p.notSupported(`${path}.protocol`, protocol, PROTOCOLS);
    }
    // Not checked by the API server (only its int32 decoding is): no port 0 or above 65535 is a
    // port anything can connect to, and no Kubernetes controller writes one.
    const port = readInt(p, ep, 'port', `${path}.port`);
    if (typeof port === 'number') {
      const err = portNumError(port);
      if (err) p.invalid(`${path}.port`, port, err);
    }
    const appProtocol = readString(p, ep, 'appProtocol', `${path}.appProtocol`);
    if (typeof appProtocol === 'string') {
      p.invalidEach(`${path}.appProtocol`, appProtocol, qualifiedNameErrors(appProtocol));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Ingress, minimally (pkg/apis/networking/validation ValidateIngressCreate): the fields the
// Ingress sync reads. Names, rule and TLS hosts (DNS-1123 subdomains or wildcards, not IPs), and
// the service backends of the paths (a DNS-1035 name, a port by number or by name).

const WILDCARD_DNS1123_SUBDOMAIN =
  /^\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const WILDCARD_MSG =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";

/** A rule or TLS host: a DNS-1123 subdomain or a wildcard one, never an IP address. */
function ingressHostErrors(host: string, allowWildcard: boolean): string[] {
  if (parseIp(host)) return ['must be a DNS name, not an IP address'];
  if (host.startsWith('*')) {
    if (!allowWildcard) return dns1123SubdomainErrors(host);
    const errs: string[] = [];
    if (host.length > DNS1123_SUBDOMAIN_MAX) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX));
    if (!WILDCARD_DNS1123_SUBDOMAIN.test(host)) errs.push(WILDCARD_MSG);
    return errs;
  }
  return dns1123SubdomainErrors(host);
}

function checkIngressBackend(p: Problems, backend: JsonObject, field: string): void {
  const service = readObject(p, backend, 'service', `${field}.service`);
  const resource = readObject(p, backend, 'resource', `${field}.resource`);
  if (service && resource) {
    p.invalid(field, '', 'cannot set both resource and service backends');
    return;
  }
  if (!service) {
    if (service === undefined && !resource)
      p.invalid(field, '', 'resource or service backend is required');
    return;
  }
  const name = readString(p, service, 'name', `${field}.service.name`);
  if (!name) p.required(`${field}.service.name`);
  else p.invalidEach(`${field}.service.name`, name, dns1035LabelErrors(name));
  const port = readObject(p, service, 'port', `${field}.service.port`);
  if (!port) {
    if (port === undefined) p.required(`${field}.service.port`);
    return;
  }
  const number = readInt(p, port, 'number', `${field}.service.port.number`);
  const portName = readString(p, port, 'name', `${field}.service.port.name`);
  if (number && portName) {
    p.invalid(`${field}.service.port`, '', 'cannot set both port name & port number');
  } else if (portName) {
    p.invalidEach(`${field}.service.port.name`, portName, portNameErrors(portName));
  } else if (typeof number === 'number') {
    if (number < 1 || number > 65535) {
      p.invalid(`${field}.service.port.number`, number, 'must be between 1 and 65535, inclusive');
    }
  } else if (number === undefined && portName === undefined) {
    p.invalid(`${field}.service.port.name`, '', 'port name or number is required');
  }
}

/** An Ingress (networking.k8s.io/v1); [] when the API server would store it, as far as read. */
export function validateIngress(obj: unknown): FieldProblem[] {
  return run((p) => {
    if (!isObject(obj)) {
      p.invalid('', obj, 'must be an object');
      return;
    }
    checkObjectMeta(p, obj, dns1123SubdomainErrors);
    const spec = readObject(p, obj, 'spec', 'spec');
    if (!spec) return;
    const defaultBackend = readObject(p, spec, 'defaultBackend', 'spec.defaultBackend');
    if (defaultBackend) checkIngressBackend(p, defaultBackend, 'spec.defaultBackend');
    const rules = readList(p, spec, 'rules', 'spec.rules') ?? [];
    for (let i = 0; i < rules.length; i++) {
      const path = `spec.rules[${i}]`;
      const rule = item(p, rules[i], path);
      if (!rule) continue;
      const host = readString(p, rule, 'host', `${path}.host`);
      if (host) p.invalidEach(`${path}.host`, host, ingressHostErrors(host, true));
      const http = readObject(p, rule, 'http', `${path}.http`);
      if (!http) continue;
      const paths = readList(p, http, 'paths', `${path}.http.paths`);
      if (paths === null) continue;
      if (!paths || paths.length === 0) {
        p.required(`${path}.http.paths`);
        continue;
      }
      for (let j = 0; j < paths.length; j++) {
        const field = `${path}.http.paths[${j}]`;
        const entry = item(p, paths[j], field);
        if (!entry) continue;
        const value = readString(p, entry, 'path', `${field}.path`);
        if (typeof value === 'string' && value !== '' && !value.startsWith('/')) {
          p.invalid(`${field}.path`, value, 'must be an absolute path');
        }
        const backend = readObject(p, entry, 'backend', `${field}.backend`);
        if (backend) checkIngressBackend(p, backend, `${field}.backend`);
        else if (backend === undefined) p.required(`${field}.backend`);
      }
    }
    const tls = readList(p, spec, 'tls', 'spec.tls') ?? [];
    for (let i = 0; i < tls.length; i++) {
      const entry = item(p, tls[i], `spec.tls[${i}]`);
      if (!entry) continue;
      const hosts = readList(p, entry, 'hosts', `spec.tls[${i}].hosts`) ?? [];
      for (let j = 0; j < hosts.length; j++) {
        const field = `spec.tls[${i}].hosts[${j}]`;
        const h = hosts[j];
        if (typeof h !== 'string') p.invalid(field, h, 'must be a string');
        else p.invalidEach(field, h, ingressHostErrors(h, true));
      }
    }
  });
}
