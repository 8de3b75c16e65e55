// networking.k8s.io/v1 Ingress and IngressClass with the API server's strategies for them
// (pkg/registry/networking/{ingress,ingressclass}/strategy.go), the v1 defaults
// (pkg/apis/networking/v1/defaults.go) and validation (pkg/apis/networking/validation), as
// Kubernetes v1.32 has them. Objects are kept in the field order and omitempty form Go's JSON
// encoder gives the v1 types.
import { isIPv6 as netIsIPv6 } from 'node:net';
import { META_SELECTABLE, READ_WRITE, type ResourceDef } from './resource-def.js';
import { fieldErr, GoLiteral, type FieldError } from './status.js';
import {
  asArray,
  asObject,
  clone,
  isObject,
  orderKeys,
  str,
  type JsonObject,
  type KubeObject,
} from './util.js';
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  isValidPortName,
  isValidPortNum,
  nameIsDNS1035Label,
  nameIsDNS1123Subdomain,
  validateObjectMeta,
} from './validation.js';

/** The deprecated annotation ValidateIngressCreate compares with spec.ingressClassName. */
export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

// ---- apimachinery helpers the networking validation uses -----------------------------------

const WILDCARD_DNS1123_SUBDOMAIN_FMT =
  '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const WILDCARD_DNS1123_SUBDOMAIN_MSG =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";
const wildcardRe = new RegExp(`^${WILDCARD_DNS1123_SUBDOMAIN_FMT}$`);

/** validation.IsWildcardDNS1123Subdomain */
export function isWildcardDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push('must be no more than 253 characters');
  if (!wildcardRe.test(value)) {
    errs.push(
      `${WILDCARD_DNS1123_SUBDOMAIN_MSG} (e.g. '*.example.com', regex used for validation is '${WILDCARD_DNS1123_SUBDOMAIN_FMT}')`,
    );
  }
  return errs;
}

/** netutils.ParseIPSloppy succeeds: IPv4 with leading zeros allowed, or IPv6. */
export function parsesAsIPSloppy(value: string): boolean {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(value)) return value.split('.').every((p) => Number(p) < 256);
  if (netIsIPv6(value)) return true;
  // an IPv6 address with a sloppy (leading-zero) IPv4 tail
  const tail = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(value);
  if (tail?.[1] && tail[2]) {
    const v4 = tail[2].split('.').map(Number);
    return v4.every((n) => n < 256) && netIsIPv6(tail[1] + v4.join('.'));
  }
  return false;
}

/** content.IsPathSegmentName */
function isPathSegmentName(name: string): string[] {
  for (const bad of ['.', '..']) if (name === bad) return [`may not be '${bad}'`];
  const errs: string[] = [];
  for (const bad of ['/', '%']) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

const HTTP_PATH_FMT = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const httpPathRe = new RegExp(`^${HTTP_PATH_FMT}$`);

/** validation.IsDomainPrefixedPath */
function isDomainPrefixedPath(field: string, value: string): FieldError[] {
  if (value.length === 0) return [fieldErr.required(field)];
  const slash = value.indexOf('/');
  const host = slash < 0 ? value : value.slice(0, slash);
  const path = slash < 0 ? '' : value.slice(slash + 1);
  if (slash < 0 || host.length === 0 || path.length === 0) {
    return [
      fieldErr.invalid(field, value, 'must be a domain-prefixed path (such as "acme.io/foo")'),
    ];
  }
  const errs = isDNS1123Subdomain(host).map((m) => fieldErr.invalid(field, host, m));
  if (!httpPathRe.test(path)) {
    errs.push(
      fieldErr.invalid(
        field,
        path,
        `Invalid path (regex used for validation is '${HTTP_PATH_FMT}')`,
      ),
    );
  }
  return errs;
}

// ---- Ingress: canonical form ----------------------------------------------------------------

function canonicalBackend(b: unknown): unknown {
  if (!isObject(b)) return b;
  const out: JsonObject = { ...b };
  if (out.service === null) delete out.service;
  if (out.resource === null) delete out.resource;
  if (isObject(out.service)) {
    const svc: JsonObject = { ...out.service, name: out.service.name ?? '' };
    const port: JsonObject = isObject(svc.port) ? { ...svc.port } : {};
    if (!port.name) delete port.name;
    if (!port.number) delete port.number;
    svc.port = orderKeys(port, ['name', 'number']);
    out.service = orderKeys(svc, ['name', 'port']);
  }
  if (isObject(out.resource)) {
    const r: JsonObject = { ...out.resource, kind: out.resource.kind ?? '' };
    r.name = r.name ?? '';
    if (r.apiGroup === undefined) r.apiGroup = null;
    out.resource = orderKeys(r, ['apiGroup', 'kind', 'name']);
  }
  return orderKeys(out, ['service', 'resource']);
}

function canonicalRule(r: unknown): unknown {
  if (!isObject(r)) return r;
  const out: JsonObject = { ...r };
  if (!out.host) delete out.host;
  if (out.http === null) delete out.http;
  if (isObject(out.http)) {
    const paths = Array.isArray(out.http.paths)
      ? out.http.paths.map((p: unknown) => {
          if (!isObject(p)) return p;
          const path: JsonObject = { ...p };
          if (!path.path) delete path.path;
          if (path.pathType === undefined) path.pathType = null;
          path.backend = canonicalBackend(path.backend ?? {});
          return orderKeys(path, ['path', 'pathType', 'backend']);
        })
      : null;
    out.http = { ...out.http, paths };
  }
  return orderKeys(out, ['host', 'http']);
}

function canonicalStatus(status: unknown): JsonObject {
  const lb: JsonObject = { ...asObject(asObject(status).loadBalancer) };
  if (Array.isArray(lb.ingress) && lb.ingress.length) {
    lb.ingress = lb.ingress.map((i: unknown) => {
      if (!isObject(i)) return i;
      const out: JsonObject = { ...i };
      if (!out.ip) delete out.ip;
      if (!out.hostname) delete out.hostname;
      if (Array.isArray(out.ports) && out.ports.length) {
        out.ports = out.ports.map((p: unknown) =>
          isObject(p)
            ? orderKeys({ ...p, port: p.port ?? 0, protocol: p.protocol ?? '' }, [
                'port',
                'protocol',
                'error',
              ])
            : p,
        );
      } else delete out.ports;
      return orderKeys(out, ['ip', 'hostname', 'ports']);
    });
  } else delete lb.ingress;
  return { ...asObject(status), loadBalancer: lb };
}

/** The v1 Ingress as Go's JSON encoder writes it (no defaults exist for networking/v1 Ingress). */
function canonicalIngress(obj: KubeObject): void {
  const spec: JsonObject = { ...asObject(obj.spec) };
  if (spec.ingressClassName === null) delete spec.ingressClassName;
  if (spec.defaultBackend === null) delete spec.defaultBackend;
  if (spec.defaultBackend !== undefined)
    spec.defaultBackend = canonicalBackend(spec.defaultBackend);
  for (const k of ['tls', 'rules']) if (asArray(spec[k]).length === 0) delete spec[k];
  if (Array.isArray(spec.tls)) {
    spec.tls = spec.tls.map((t: unknown) => {
      if (!isObject(t)) return t;
      const out: JsonObject = { ...t };
      if (asArray(out.hosts).length === 0) delete out.hosts;
      if (!out.secretName) delete out.secretName;
      return orderKeys(out, ['hosts', 'secretName']);
    });
  }
  if (Array.isArray(spec.rules)) spec.rules = spec.rules.map(canonicalRule);
  obj.spec = orderKeys(spec, ['ingressClassName', 'defaultBackend', 'tls', 'rules']);
  obj.status = canonicalStatus(obj.status);
}

// ---- Ingress: validation ----------------------------------------------------------------------

interface IngressValidationOptions {
  allowInvalidSecretName: boolean;
  allowInvalidWildcardHostRule: boolean;
}

const STRICT: IngressValidationOptions = {
  allowInvalidSecretName: false,
  allowInvalidWildcardHostRule: false,
};

const SUPPORTED_PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];

function validateTypedLocalObjectReference(ref: JsonObject, f: string): FieldError[] {
  const errs: FieldError[] = [];
  if (ref.apiGroup !== undefined && ref.apiGroup !== null) {
    const g = str(ref.apiGroup);
    for (const m of isDNS1123Subdomain(g)) errs.push(fieldErr.invalid(`${f}.apiGroup`, g, m));
  }
  for (const key of ['kind', 'name']) {
    const v = str(ref[key]);
    if (v === '') errs.push(fieldErr.required(`${f}.${key}`));
    else for (const m of isPathSegmentName(v)) errs.push(fieldErr.invalid(`${f}.${key}`, v, m));
  }
  return errs;
}

function validateIngressBackend(backend: unknown, f: string): FieldError[] {
  const b = asObject(backend);
  const hasResource = b.resource !== undefined && b.resource !== null;
  const hasService = b.service !== undefined && b.service !== null;
  if (hasResource && hasService) {
    return [fieldErr.invalid(f, '', 'cannot set both resource and service backends')];
  }
  if (hasResource) return validateTypedLocalObjectReference(asObject(b.resource), `${f}.resource`);
  if (!hasService) return [fieldErr.invalid(f, '', 'resource or service backend is required')];
  const errs: FieldError[] = [];
  const svc = asObject(b.service);
  const name = str(svc.name);
  if (name === '') errs.push(fieldErr.required(`${f}.service.name`));
  else {
    // ValidateServiceName: apimachinery NameIsDNS1035Label
    for (const m of nameIsDNS1035Label(name, false)) {
      errs.push(fieldErr.invalid(`${f}.service.name`, name, m));
    }
  }
  const port = asObject(svc.port);
  const portName = str(port.name);
  const portNumber = port.number;
  const hasName = portName.length > 0;
  const hasNumber = portNumber !== undefined && portNumber !== null && portNumber !== 0;
  if (hasName && hasNumber) {
    errs.push(fieldErr.invalid(f, '', 'cannot set both port name & port number'));
  } else if (hasName) {
    for (const m of isValidPortName(portName)) {
      errs.push(fieldErr.invalid(`${f}.service.port.name`, portName, m));
    }
  } else if (hasNumber) {
    for (const m of isValidPortNum(portNumber)) {
      errs.push(fieldErr.invalid(`${f}.service.port.number`, portNumber, m));
    }
  } else {
    errs.push(fieldErr.required(f, 'port name or number is required'));
  }
  return errs;
}

function validateHTTPIngressPath(p: unknown, f: string): FieldError[] {
  const path = asObject(p);
  if (path.pathType === undefined || path.pathType === null) {
    return [fieldErr.required(`${f}.pathType`, 'pathType must be specified')];
  }
  const errs: FieldError[] = [];
  const pathType = str(path.pathType);
  const value = str(path.path);
  switch (pathType) {
    case 'Exact':
    case 'Prefix':
      if (!value.startsWith('/')) {
        errs.push(fieldErr.invalid(`${f}.path`, value, 'must be an absolute path'));
      }
      if (value.length > 0) {
        for (const seq of INVALID_PATH_SEQUENCES) {
          if (value.includes(seq)) {
            errs.push(fieldErr.invalid(`${f}.path`, value, `must not contain '${seq}'`));
          }
        }
        for (const suffix of INVALID_PATH_SUFFIXES) {
          if (value.endsWith(suffix)) {
            errs.push(fieldErr.invalid(`${f}.path`, value, `cannot end with '${suffix}'`));
          }
        }
      }
      break;
    case 'ImplementationSpecific':
      if (value.length > 0 && !value.startsWith('/')) {
        errs.push(fieldErr.invalid(`${f}.path`, value, 'must be an absolute path'));
      }
      break;
    default:
      errs.push(fieldErr.notSupported(`${f}.pathType`, pathType, SUPPORTED_PATH_TYPES));
  }
  errs.push(...validateIngressBackend(path.backend, `${f}.backend`));
  return errs;
}

function validateIngressRuleValue(rule: JsonObject, f: string): FieldError[] {
  if (rule.http === undefined || rule.http === null) return [];
  const paths = asArray(asObject(rule.http).paths);
  const errs: FieldError[] = [];
  if (paths.length === 0) errs.push(fieldErr.required(`${f}.http.paths`));
  paths.forEach((p, i) => errs.push(...validateHTTPIngressPath(p, `${f}.http.paths[${i}]`)));
  return errs;
}

function validateIngressRules(rules: unknown[], opts: IngressValidationOptions): FieldError[] {
  const errs: FieldError[] = [];
  rules.forEach((r, i) => {
    const rule = asObject(r);
    const f = `spec.rules[${i}]`;
    const host = str(rule.host);
    let wildcard = false;
    if (host.length > 0) {
      if (parsesAsIPSloppy(host)) {
        errs.push(fieldErr.invalid(`${f}.host`, host, 'must be a DNS name, not an IP address'));
      }
      if (host.includes('*')) {
        for (const m of isWildcardDNS1123Subdomain(host))
          errs.push(fieldErr.invalid(`${f}.host`, host, m));
        wildcard = true;
      } else {
        for (const m of isDNS1123Subdomain(host)) errs.push(fieldErr.invalid(`${f}.host`, host, m));
      }
    }
    if (!wildcard || !opts.allowInvalidWildcardHostRule) {
      errs.push(...validateIngressRuleValue(rule, f));
    }
  });
  return errs;
}

function validateTLSSecretName(name: string): string[] {
  return name.length === 0 ? [] : nameIsDNS1123Subdomain(name, false);
}

function validateIngressTLS(tls: unknown[], opts: IngressValidationOptions): FieldError[] {
  const errs: FieldError[] = [];
  tls.forEach((t, i) => {
    const entry = asObject(t);
    asArray(entry.hosts).forEach((h, j) => {
      const host = str(h);
      const f = `spec.tls[${i}].hosts[${j}]`;
      const msgs = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
      for (const m of msgs) errs.push(fieldErr.invalid(f, host, m));
    });
    if (!opts.allowInvalidSecretName) {
      const name = str(entry.secretName);
      for (const m of validateTLSSecretName(name)) {
        errs.push(fieldErr.invalid(`spec.tls[${i}].secretName`, name, m));
      }
    }
  });
  return errs;
}

/** ValidateIngressSpec */
function validateIngressSpec(specValue: unknown, opts: IngressValidationOptions): FieldError[] {
  const spec = asObject(specValue);
  const errs: FieldError[] = [];
  const rules = asArray(spec.rules);
  const hasDefault = spec.defaultBackend !== undefined && spec.defaultBackend !== null;
  if (rules.length === 0 && !hasDefault) {
    // field.Invalid(fldPath, spec.Rules, …): %#v of a nil or empty []networking.IngressRule
    const value = new GoLiteral(
      Array.isArray(spec.rules) ? '[]networking.IngressRule{}' : '[]networking.IngressRule(nil)',
    );
    errs.push(
      fieldErr.invalid('spec', value, 'either `defaultBackend` or `rules` must be specified'),
    );
  }
  if (hasDefault) errs.push(...validateIngressBackend(spec.defaultBackend, 'spec.defaultBackend'));
  if (rules.length > 0) errs.push(...validateIngressRules(rules, opts));
  const tls = asArray(spec.tls);
  if (tls.length > 0) errs.push(...validateIngressTLS(tls, opts));
  if (spec.ingressClassName !== undefined && spec.ingressClassName !== null) {
    const name = str(spec.ingressClassName);
    for (const m of nameIsDNS1123Subdomain(name, false)) {
      errs.push(fieldErr.invalid('spec.ingressClassName', name, m));
    }
  }
  return errs;
}

/** ValidateIngressLoadBalancerStatus (v1.32: any parseable IP is accepted). */
function validateIngressLoadBalancerStatus(status: unknown): FieldError[] {
  const errs: FieldError[] = [];
  const ingress = asArray(asObject(asObject(status).loadBalancer).ingress);
  ingress.forEach((entry, i) => {
    const e = asObject(entry);
    const f = `status.loadBalancer.ingress[${i}]`;
    const ip = str(e.ip);
    if (ip.length > 0 && !parsesAsIPSloppy(ip)) {
      errs.push(fieldErr.invalid(`${f}.ip`, ip, 'must be a valid IP address'));
    }
    const hostname = str(e.hostname);
    if (hostname.length > 0) {
      for (const m of isDNS1123Subdomain(hostname)) {
        errs.push(fieldErr.invalid(`${f}.hostname`, hostname, m));
      }
      if (parsesAsIPSloppy(hostname)) {
        errs.push(
          fieldErr.invalid(`${f}.hostname`, hostname, 'must be a DNS name, not an IP address'),
        );
      }
    }
  });
  return errs;
}

function validateIngress(obj: KubeObject, opts: IngressValidationOptions): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, nameIsDNS1123Subdomain);
  errs.push(...validateIngressSpec(obj.spec, opts));
  return errs;
}

/** ValidateIngressCreate */
function validateIngressCreate(obj: KubeObject): FieldError[] {
  const errs = validateIngress(obj, STRICT);
  const annotations = obj.metadata.annotations ?? {};
  const className = asObject(obj.spec).ingressClassName;
  if (
    Object.prototype.hasOwnProperty.call(annotations, INGRESS_CLASS_ANNOTATION) &&
    className !== undefined &&
    className !== null
  ) {
    const value = annotations[INGRESS_CLASS_ANNOTATION];
    if (value !== className) {
      errs.push(
        fieldErr.invalid(
          `annotations.${INGRESS_CLASS_ANNOTATION}`,
          value,
          'must match `ingressClassName` when both are specified',
        ),
      );
    }
  }
  return errs;
}

/** allowInvalidSecretName / allowInvalidWildcardHostRule: grandfathered stored objects. */
function updateOptions(old: KubeObject): IngressValidationOptions {
  const spec = asObject(old.spec);
  return {
    allowInvalidSecretName: asArray(spec.tls).some(
      (t) => validateTLSSecretName(str(asObject(t).secretName)).length > 0,
    ),
    allowInvalidWildcardHostRule: asArray(spec.rules).some((r) => {
      const rule = asObject(r);
      return str(rule.host).includes('*') && validateIngressRuleValue(rule, '').length > 0;
    }),
  };
}

export const ingresses: ResourceDef = {
  group: 'networking.k8s.io',
  version: 'v1',
  resource: 'ingresses',
  singular: 'ingress',
  kind: 'Ingress',
  listKind: 'IngressList',
  namespaced: true,
  shortNames: ['ing'],
  verbs: READ_WRITE,
  subresources: ['status'],
  // the ingress storage does not set ReturnDeletedObject: DELETE answers a Success Status
  returnDeletedObject: false,
  hasGeneration: true,
  fieldOrder: ['spec', 'status'],
  selectableFields: META_SELECTABLE,
  // rules, tls, paths and loadBalancer.ingress are atomic lists: a patch replaces them
  patchMeta: {},
  nameValidator: nameIsDNS1123Subdomain,
  defaults: canonicalIngress,
  // PrepareForCreate: create cannot set status
  prepareForCreate(obj) {
    obj.status = canonicalStatus({});
  },
  // PrepareForUpdate: update is not allowed to set status
  prepareForUpdate(obj, old) {
    obj.status = clone(old.status ?? canonicalStatus({}));
  },
  // ingressStatusStrategy.PrepareForUpdate: status changes are not allowed to update spec
  prepareForStatusUpdate(obj, old) {
    const status = obj.status;
    const rv = obj.metadata.resourceVersion;
    for (const k of Object.keys(obj)) delete obj[k];
    Object.assign(obj, clone(old));
    obj.metadata.resourceVersion = rv;
    obj.status = status ?? {};
  },
  validate: validateIngressCreate,
  // ValidateIngressUpdate covers metadata and spec, ValidateIngressStatusUpdate metadata and
  // status; each write keeps the other part as stored, so both are checked here.
  validateUpdate(obj, old) {
    const errs = validateIngress(obj, updateOptions(old));
    errs.push(...validateIngressLoadBalancerStatus(obj.status));
    return errs;
  },
};

// ---- IngressClass ---------------------------------------------------------------------------

const MAX_LEN_INGRESS_CLASS_CONTROLLER = 250;
const PARAMETER_SCOPES = ['Cluster', 'Namespace'];

function canonicalIngressClass(obj: KubeObject): void {
  // IngressClass has no status; Go's decoder drops the field
  delete obj.status;
  const spec: JsonObject = { ...asObject(obj.spec) };
  if (!spec.controller) delete spec.controller;
  if (spec.parameters === null) delete spec.parameters;
  if (isObject(spec.parameters)) {
    const p: JsonObject = { ...spec.parameters };
    // SetDefaults_IngressClass
    if (p.scope === undefined || p.scope === null) p.scope = 'Cluster';
    if (p.apiGroup === null) delete p.apiGroup;
    if (p.namespace === null) delete p.namespace;
    p.kind = p.kind ?? '';
    p.name = p.name ?? '';
    spec.parameters = orderKeys(p, ['apiGroup', 'kind', 'name', 'scope', 'namespace']);
  }
  obj.spec = orderKeys(spec, ['controller', 'parameters']);
}

function validateParametersReference(value: unknown): FieldError[] {
  if (value === undefined || value === null) return [];
  const p = asObject(value);
  const f = 'spec.parameters';
  const errs: FieldError[] = [];
  if (p.apiGroup !== undefined && p.apiGroup !== null) {
    const g = str(p.apiGroup);
    for (const m of isDNS1123Subdomain(g)) errs.push(fieldErr.invalid(`${f}.apiGroup`, g, m));
  }
  for (const key of ['kind', 'name']) {
    const v = str(p[key]);
    if (v === '') errs.push(fieldErr.required(`${f}.${key}`));
    else for (const m of isPathSegmentName(v)) errs.push(fieldErr.invalid(`${f}.${key}`, v, m));
  }
  if (p.scope === undefined || p.scope === null) {
    errs.push(fieldErr.required(`${f}.scope`));
    return errs;
  }
  const scope = str(p.scope);
  const hasNamespace = p.namespace !== undefined && p.namespace !== null;
  if (!PARAMETER_SCOPES.includes(scope)) {
    errs.push(fieldErr.notSupported(`${f}.scope`, scope, PARAMETER_SCOPES));
  } else {
    if (scope === 'Namespace') {
      if (!hasNamespace) {
        errs.push(fieldErr.required(`${f}.namespace`, "`parameters.scope` is set to 'Namespace'"));
      } else {
        const ns = str(p.namespace);
        for (const m of isDNS1123Label(ns)) errs.push(fieldErr.invalid(`${f}.namespace`, ns, m));
      }
    }
    if (scope === 'Cluster' && hasNamespace) {
      errs.push(fieldErr.forbidden(`${f}.namespace`, "`parameters.scope` is set to 'Cluster'"));
    }
  }
  return errs;
}

/** ValidateIngressClass */
function validateIngressClass(obj: KubeObject): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, nameIsDNS1123Subdomain);
  const spec = asObject(obj.spec);
  const controller = str(spec.controller);
  if (controller.length === 0) errs.push(fieldErr.required('spec.controller'));
  else {
    if (controller.length > MAX_LEN_INGRESS_CLASS_CONTROLLER) {
      errs.push(
        fieldErr.tooLong(
          'spec.controller',
          `may not be more than ${MAX_LEN_INGRESS_CLASS_CONTROLLER} bytes`,
        ),
      );
    }
    errs.push(...isDomainPrefixedPath('spec.controller', controller));
  }
  errs.push(...validateParametersReference(spec.parameters));
  return errs;
}

export const ingressClasses: ResourceDef = {
  group: 'networking.k8s.io',
  version: 'v1',
  resource: 'ingressclasses',
  singular: 'ingressclass',
  kind: 'IngressClass',
  listKind: 'IngressClassList',
  namespaced: false,
  shortNames: [],
  verbs: READ_WRITE,
  subresources: [],
  returnDeletedObject: false,
  hasGeneration: true,
  fieldOrder: ['spec'],
  selectableFields: META_SELECTABLE,
  patchMeta: {},
  nameValidator: nameIsDNS1123Subdomain,
  defaults: canonicalIngressClass,
  prepareForCreate() {},
  prepareForUpdate() {},
  prepareForStatusUpdate() {},
  validate: validateIngressClass,
  // ValidateIngressClassUpdate: the controller is immutable
  validateUpdate(obj, old) {
    const errs: FieldError[] = [];
    const now = str(asObject(obj.spec).controller);
    if (now !== str(asObject(old.spec).controller)) {
      errs.push(fieldErr.invalid('spec.controller', now, 'field is immutable'));
    }
    errs.push(...validateIngressClass(obj));
    return errs;
  },
};
