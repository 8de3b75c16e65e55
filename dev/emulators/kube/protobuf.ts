// Request bodies in application/vnd.kubernetes.protobuf (what kubectl's typed clients send for
// `create namespace`, `create service` and `create ingress`): the envelope (magic "k8s\0", then runtime.Unknown) and
// the object in it, decoded with the published Kubernetes schema (./proto, a subset) into the JSON
// object a client would have sent as application/json.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { badRequest, unsupportedMediaTypeMessage, type KubeError } from './status.js';
import { isObject, str, type JsonObject } from './util.js';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

const MAGIC = Buffer.from('k8s\u0000', 'latin1');
const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';

/** The message of each kind the emulator decodes, by apiVersion and kind. */
const MESSAGES: Record<string, string> = {
  'v1/Namespace': 'k8s.io.api.core.v1.Namespace',
  'v1/Service': 'k8s.io.api.core.v1.Service',
  'v1/Pod': 'k8s.io.api.core.v1.Pod',
  'v1/Node': 'k8s.io.api.core.v1.Node',
  'v1/Binding': 'k8s.io.api.core.v1.Binding',
  'discovery.k8s.io/v1/EndpointSlice': 'k8s.io.api.discovery.v1.EndpointSlice',
  'networking.k8s.io/v1/Ingress': 'k8s.io.api.networking.v1.Ingress',
  'networking.k8s.io/v1/IngressClass': 'k8s.io.api.networking.v1.IngressClass',
};

let root: protobuf.Root | undefined;

/** The schema, parsed on first use (a plain JSON client never pays for it). */
export function protobufSchema(): protobuf.Root {
  if (!root) {
    const dir = fileURLToPath(new URL('./proto/', import.meta.url));
    const r = new protobuf.Root().loadSync(
      ['runtime.proto', 'core-v1.proto', 'discovery-v1.proto', 'networking-v1.proto'].map(
        (f) => dir + f,
      ),
      { keepCase: true },
    );
    r.resolveAll();
    root = r;
  }
  return root;
}

export interface DecodeContext {
  /** kind of the resource addressed (Status messages name it) */
  kind: string;
  /** apiVersion of the resource addressed: the default when the envelope carries none */
  apiVersion: string;
  /** whether the emulator serves this kind at all (JSON bodies of it are fine) */
  served(apiVersion: string, kind: string): boolean;
}

/** apiserver's summarizeData: the first 30 bytes, hex-encoded, for decode errors. */
function summarize(data: Buffer): string {
  if (data.length === 0) return '<empty>';
  const head = data.subarray(0, 30).toString('hex');
  return data.length > 30 ? `${head} ...` : head;
}

/**
 * The JSON object of a protobuf body, with kind and apiVersion from the envelope. Throws the
 * Status the API server answers for a body it cannot decode (400), and 415 for a kind or field
 * the emulator's schema subset leaves out.
 */
export function decodeProtobufBody(data: Buffer, ctx: DecodeContext): JsonObject {
  const unrecognized = (why: string): KubeError =>
    badRequest(
      `the object provided is unrecognized (must be of type ${ctx.kind}): ${why} (${summarize(data)})`,
    );
  if (data.length < MAGIC.length || !data.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw unrecognized(
      'provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]',
    );
  }
  const types = protobufSchema();
  let envelope: { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array };
  try {
    const Unknown = types.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
    envelope = Unknown.decode(data.subarray(MAGIC.length)) as unknown as typeof envelope;
  } catch (e) {
    throw unrecognized((e as Error).message);
  }
  // the protobuf serializer fills what the envelope leaves out from the request's own kind
  const kind = envelope.typeMeta?.kind || ctx.kind;
  const apiVersion = envelope.typeMeta?.apiVersion || ctx.apiVersion;
  const version = apiVersion.split('/').pop() ?? apiVersion;
  const raw = envelope.raw ? Buffer.from(envelope.raw) : Buffer.alloc(0);
  const messageName =
    kind === 'DeleteOptions' ? `${META}.DeleteOptions` : MESSAGES[`${apiVersion}/${kind}`];
  if (!messageName) {
    if (ctx.served(apiVersion, kind)) {
      throw unsupportedMediaTypeMessage(
        `the Kubernetes API emulator does not decode ${kind} (${apiVersion}) bodies in ${PROTOBUF_MEDIA_TYPE}; send application/json`,
      );
    }
    throw badRequest(
      `${kind} in version "${version}" cannot be handled as a ${ctx.kind}: no kind "${kind}" is registered for version "${apiVersion}" in scheme "pkg/api/legacyscheme/scheme.go:30"`,
    );
  }
  const type = types.lookupType(messageName);
  let missing: string | undefined;
  let message: protobuf.Message;
  try {
    missing = unknownField(type, protobuf.Reader.create(raw), raw.length, '');
    message = type.decode(raw);
  } catch (e) {
    throw badRequest(
      `${kind} in version "${version}" cannot be handled as a ${ctx.kind}: ${(e as Error).message}`,
    );
  }
  if (missing !== undefined) {
    throw unsupportedMediaTypeMessage(
      `the Kubernetes API emulator decodes part of the ${kind} schema only: ${missing} is not decoded; send application/json`,
    );
  }
  return { kind, apiVersion, ...messageJson(type, message) };
}

// ---- unknown fields ----------------------------------------------------------------------------

/**
 * The first field on the wire that the schema subset does not know, as "field N of Message (at
 * json.path)". protobufjs skips such fields silently; the emulator refuses them instead of
 * storing an object that lost part of what the client sent.
 */
function unknownField(
  type: protobuf.Type,
  reader: protobuf.Reader,
  end: number,
  path: string,
): string | undefined {
  while (reader.pos < end) {
    const tag = reader.uint32();
    const id = tag >>> 3;
    const wireType = tag & 7;
    const field = type.fieldsById[id];
    if (!field) {
      return `field ${id} of ${type.fullName.slice(1)}${path ? ` (at ${path})` : ''}`;
    }
    const sub = field.resolvedType;
    const here = isInline(field) ? path : path ? `${path}.${field.name}` : field.name;
    if (wireType === 2 && sub instanceof protobuf.Type) {
      const len = reader.uint32();
      const stop = reader.pos + len;
      const found = field.map
        ? mapValueUnknown(sub, reader, stop, here)
        : unknownField(sub, reader, stop, here);
      if (found) return found;
      reader.pos = stop;
    } else {
      reader.skipType(wireType);
    }
  }
  return undefined;
}

/** A map entry is a message of key (1) and value (2); only a message value can hide fields. */
function mapValueUnknown(
  valueType: protobuf.Type,
  reader: protobuf.Reader,
  end: number,
  path: string,
): string | undefined {
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag >>> 3 === 2 && (tag & 7) === 2) {
      const len = reader.uint32();
      const stop = reader.pos + len;
      const found = unknownField(valueType, reader, stop, path);
      if (found) return found;
      reader.pos = stop;
    } else {
      reader.skipType(tag & 7);
    }
  }
  return undefined;
}

// ---- protobuf message → JSON --------------------------------------------------------------------

const isInline = (f: protobuf.Field): boolean => f.options?.['(inline)'] === true;
const isPointer = (f: protobuf.Field): boolean => f.options?.['(ptr)'] === true;
const isAlways = (f: protobuf.Field): boolean => f.options?.['(always)'] === true;

function longToNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (isObject(v) && typeof v.toNumber === 'function')
    return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

/** A scalar as Go's JSON encoder writes it: int64 as a number, bytes as base64. */
function scalarJson(field: protobuf.Field, v: unknown): unknown {
  switch (field.type) {
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return longToNumber(v);
    case 'bytes':
      return Buffer.from(v as Uint8Array).toString('base64');
    default:
      return v;
  }
}

function zeroOf(field: protobuf.Field): unknown {
  if (field.repeated || field.map) return null;
  switch (field.type) {
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'bytes':
      return null;
    default:
      return field.resolvedType instanceof protobuf.Type ? {} : 0;
  }
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false || v === null;
}

/** metav1.Time / MicroTime: RFC 3339 in UTC; the zero time is null. */
function timeJson(message: JsonObject, micro: boolean): string | null {
  const seconds = longToNumber(message.seconds ?? 0);
  const nanos = Number(message.nanos ?? 0);
  if (seconds === 0 && nanos === 0) return null;
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  return micro ? `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${iso}Z`;
}

/** A message value: the types with a JSON form of their own, else an object. */
function valueJson(type: protobuf.Type, message: protobuf.Message): unknown {
  const m = message as unknown as JsonObject;
  switch (type.fullName) {
    case `.${META}.Time`:
      return timeJson(m, false);
    case `.${META}.MicroTime`:
      return timeJson(m, true);
    case '.k8s.io.apimachinery.pkg.api.resource.Quantity':
      return typeof m.string === 'string' ? m.string : '';
    case '.k8s.io.apimachinery.pkg.util.intstr.IntOrString':
      return longToNumber(m.type ?? 0) === 1 ? str(m.strVal) : Number(m.intVal ?? 0);
    case `.${META}.FieldsV1`: {
      const raw = m.Raw;
      if (!(raw instanceof Uint8Array) || raw.length === 0) return {};
      try {
        return JSON.parse(Buffer.from(raw).toString('utf8')) as unknown;
      } catch {
        return {};
      }
    }
    default:
      return messageJson(type, message);
  }
}

/**
 * A decoded message as the JSON the Go type marshals to. Presence on the wire stands for presence
 * in Go (gogo writes every non-pointer field, pointers only when set), so a field that is absent
 * is left out; a present zero scalar is left out too unless the Go field is a pointer or has no
 * omitempty (the (ptr) and (always) options of ./proto).
 */
function messageJson(type: protobuf.Type, message: protobuf.Message): JsonObject {
  const m = message as unknown as JsonObject;
  const out: JsonObject = {};
  for (const field of type.fieldsArray) {
    const name = field.name;
    const sub = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
    const convert = (v: unknown): unknown =>
      sub ? valueJson(sub, v as protobuf.Message) : scalarJson(field, v);
    const present = Object.prototype.hasOwnProperty.call(m, name);
    const value = m[name];
    if (field.map) {
      const entries = present && isObject(value) ? Object.entries(value) : [];
      if (entries.length) out[name] = Object.fromEntries(entries.map(([k, v]) => [k, convert(v)]));
      else if (isAlways(field)) out[name] = null;
      continue;
    }
    if (field.repeated) {
      if (Array.isArray(value) && value.length) out[name] = value.map(convert);
      else if (isAlways(field)) out[name] = null;
      continue;
    }
    if (!present || value === null || value === undefined) {
      if (isAlways(field)) out[name] = zeroOf(field);
      continue;
    }
    const json = convert(value);
    if (sub && isInline(field) && isObject(json)) {
      Object.assign(out, json);
      continue;
    }
    if (!sub && isZero(json) && !isPointer(field) && !isAlways(field)) continue;
    out[name] = json;
  }
  return out;
}
