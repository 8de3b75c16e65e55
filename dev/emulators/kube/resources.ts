// The resources the emulator serves and each one's strategy (defaulting, create/update
// preparation, validation), as the API server's registry/<kind>/strategy.go define them. The
// shape of a definition is in resource-def.ts, which the per-kind modules import.
import type { PatchMeta } from './patch.js';
import { coreEvents, events } from './events.js';
import { ingressClasses, ingresses } from './ingresses.js';
import {
  defaultService,
  prepareServiceForCreate,
  prepareServiceForUpdate,
  validateService,
  validateServiceUpdate,
  type ServiceAllocators,
} from './services.js';
import { fieldErr, type FieldError } from './status.js';
import { META_SELECTABLE, READ_WRITE, type ResourceDef } from './resource-def.js';

export { apiVersionOf, type ResourceDef } from './resource-def.js';
import {
  asArray,
  asObject,
  clone,
  isObject,
  orderKeys,
  type JsonObject,
  type KubeObject,
  str,
} from './util.js';
import {
  IP_MSG,
  isDNS1123Label,
  isIP,
  isIPv4,
  isIPv6,
  isValidPortNum,
  nameIsDNS1123Label,
  nameIsDNS1123Subdomain,
  validateObjectMeta,
} from './validation.js';

function statusFromOld(obj: KubeObject, old: KubeObject): void {
  if (old.status !== undefined) obj.status = clone(old.status);
  else delete obj.status;
}

/** Status subresource update: only status changes; spec and metadata stay as stored. */
function onlyStatus(obj: KubeObject, old: KubeObject): void {
  const status = obj.status;
  const rv = obj.metadata.resourceVersion;
  for (const k of Object.keys(obj)) delete obj[k];
  Object.assign(obj, clone(old));
  obj.metadata.resourceVersion = rv;
  if (status === undefined) delete obj.status;
  else obj.status = status;
}

const base = {
  version: 'v1',
  verbs: READ_WRITE,
  subresources: [] as string[],
  returnDeletedObject: false,
  hasGeneration: false,
  fieldOrder: ['spec', 'status'],
  selectableFields: META_SELECTABLE,
  patchMeta: {} as PatchMeta,
  nameValidator: nameIsDNS1123Subdomain,
  defaults(): void {},
  prepareForCreate(): void {},
  prepareForUpdate: statusFromOld,
  prepareForStatusUpdate: onlyStatus,
  validateUpdate(this: ResourceDef, obj: KubeObject): FieldError[] {
    return this.validate(obj);
  },
};

// ---- namespaces ----------------------------------------------------------------------------

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

const namespaces: ResourceDef = {
  ...base,
  group: '',
  resource: 'namespaces',
  singular: 'namespace',
  kind: 'Namespace',
  listKind: 'NamespaceList',
  namespaced: false,
  shortNames: ['ns'],
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: ['status'],
  returnDeletedObject: true,
  selectableFields: [...META_SELECTABLE, 'status.phase'],
  patchMeta: {},
  nameValidator: nameIsDNS1123Label,
  defaults(obj) {
    const spec = asObject(obj.spec);
    if (!Array.isArray(spec.finalizers)) spec.finalizers = ['kubernetes'];
    obj.spec = spec;
    const status = asObject(obj.status);
    if (!status.phase) status.phase = 'Active';
    obj.status = status;
    // SetDefaults_Namespace: the name label is always set to the name
    if (obj.metadata.name) {
      obj.metadata.labels = {
        ...(obj.metadata.labels ?? {}),
        [NAMESPACE_NAME_LABEL]: obj.metadata.name,
      };
    }
  },
  prepareForCreate(obj) {
    obj.status = { phase: 'Active' };
  },
  prepareForUpdate(obj, old) {
    obj.spec = clone(old.spec);
    statusFromOld(obj, old);
  },
  validate(obj) {
    return validateObjectMeta(obj.metadata, nameIsDNS1123Label);
  },
};

// ---- services ------------------------------------------------------------------------------

function servicesDef(alloc: ServiceAllocators): ResourceDef {
  return {
    ...base,
    group: '',
    resource: 'services',
    singular: 'service',
    kind: 'Service',
    listKind: 'ServiceList',
    namespaced: true,
    shortNames: ['svc'],
    categories: ['all'],
    subresources: ['status'],
    returnDeletedObject: true,
    patchMeta: { 'spec.ports': { mergeKey: 'port' } },
    nameValidator: nameIsDNS1123Label,
    defaults: defaultService,
    prepareForCreate(obj, seeded) {
      if (!seeded || !isObject(obj.status)) prepareServiceForCreate(obj);
    },
    prepareForUpdate: prepareServiceForUpdate,
    validate: validateService,
    validateUpdate: validateServiceUpdate,
    beginCreate: (obj, dryRun) => alloc.allocateCreate(obj, dryRun),
    beginUpdate: (obj, old, dryRun) => alloc.allocateUpdate(obj, old, dryRun),
    afterDelete: (obj) => alloc.release(obj),
  };
}

// ---- nodes ---------------------------------------------------------------------------------

const nodes: ResourceDef = {
  ...base,
  group: '',
  resource: 'nodes',
  singular: 'node',
  kind: 'Node',
  listKind: 'NodeList',
  namespaced: false,
  shortNames: ['no'],
  subresources: ['status'],
  selectableFields: [...META_SELECTABLE, 'spec.unschedulable'],
  patchMeta: {
    'status.addresses': { mergeKey: 'type' },
    'status.conditions': { mergeKey: 'type' },
    'spec.podCIDRs': {},
  },
  // Nodes allow all fields, including status, to be set on create (nodeStrategy).
  validate(obj) {
    const errs = validateObjectMeta(obj.metadata, nameIsDNS1123Subdomain);
    const addrs = asArray(asObject(obj.status).addresses);
    addrs.forEach((a, i) => {
      if (!isObject(a) || typeof a.type !== 'string' || !a.type) {
        errs.push(fieldErr.required(`status.addresses[${i}].type`));
      }
    });
    return errs;
  },
};

// ---- pods ----------------------------------------------------------------------------------

function defaultContainer(c: unknown): unknown {
  if (!isObject(c)) return c;
  const out: JsonObject = { ...c };
  const image = str(out.image ?? '');
  if (!out.imagePullPolicy) {
    const tag = image.includes('@') ? 'digest' : (/:([^/:]+)$/.exec(image)?.[1] ?? 'latest');
    out.imagePullPolicy = tag === 'latest' ? 'Always' : 'IfNotPresent';
  }
  if (!out.resources) out.resources = {};
  if (!out.terminationMessagePath) out.terminationMessagePath = '/dev/termination-log';
  if (!out.terminationMessagePolicy) out.terminationMessagePolicy = 'File';
  if (Array.isArray(out.ports)) {
    out.ports = out.ports.map((p: unknown) =>
      isObject(p) && !p.protocol ? { ...p, protocol: 'TCP' } : p,
    );
  }
  return out;
}

const pods: ResourceDef = {
  ...base,
  group: '',
  resource: 'pods',
  singular: 'pod',
  kind: 'Pod',
  listKind: 'PodList',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  subresources: ['binding', 'status'],
  returnDeletedObject: true,
  selectableFields: [
    ...META_SELECTABLE,
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  patchMeta: {
    'spec.containers': { mergeKey: 'name' },
    'spec.initContainers': { mergeKey: 'name' },
    'spec.containers.ports': { mergeKey: 'containerPort' },
    'spec.containers.env': { mergeKey: 'name' },
    'spec.containers.volumeMounts': { mergeKey: 'mountPath' },
    'spec.volumes': { mergeKey: 'name' },
    'spec.imagePullSecrets': { mergeKey: 'name' },
    'status.conditions': { mergeKey: 'type' },
    'status.podIPs': { mergeKey: 'ip' },
  },
  defaults(obj) {
    const spec = asObject(obj.spec);
    spec.containers = asArray(spec.containers).map(defaultContainer);
    if (Array.isArray(spec.initContainers))
      spec.initContainers = spec.initContainers.map(defaultContainer);
    spec.restartPolicy ??= 'Always';
    spec.terminationGracePeriodSeconds ??= 30;
    spec.dnsPolicy ??= 'ClusterFirst';
    spec.securityContext ??= {};
    spec.schedulerName ??= 'default-scheduler';
    spec.enableServiceLinks ??= true;
    spec.priority ??= 0;
    spec.preemptionPolicy ??= 'PreemptLowerPriority';
    obj.spec = spec;
  },
  // The emulator has no scheduler or kubelet: a pod created with a status (podIP, Ready
  // condition, nodeName in spec) keeps it, standing in for what they would report.
  prepareForCreate(obj) {
    if (!isObject(obj.status) || Object.keys(obj.status).length === 0) {
      obj.status = { phase: 'Pending', qosClass: 'BestEffort' };
    }
  },
  validate(obj) {
    const errs = validateObjectMeta(obj.metadata, nameIsDNS1123Subdomain);
    const spec = asObject(obj.spec);
    const containers = asArray(spec.containers);
    if (containers.length === 0) errs.push(fieldErr.required('spec.containers'));
    containers.forEach((c, i) => {
      const f = `spec.containers[${i}]`;
      if (!isObject(c)) return;
      const name = str(c.name ?? '');
      if (!name) errs.push(fieldErr.required(`${f}.name`));
      else for (const m of isDNS1123Label(name)) errs.push(fieldErr.invalid(`${f}.name`, name, m));
      if (!c.image) errs.push(fieldErr.required(`${f}.image`));
      asArray(c.ports).forEach((p, j) => {
        if (!isObject(p)) return;
        for (const m of isValidPortNum(p.containerPort)) {
          errs.push(fieldErr.invalid(`${f}.ports[${j}].containerPort`, p.containerPort, m));
        }
      });
    });
    return errs;
  },
};

// ---- endpointslices ------------------------------------------------------------------------

const endpointSlices: ResourceDef = {
  ...base,
  group: 'discovery.k8s.io',
  resource: 'endpointslices',
  singular: 'endpointslice',
  kind: 'EndpointSlice',
  listKind: 'EndpointSliceList',
  namespaced: true,
  shortNames: [],
  hasGeneration: true,
  fieldOrder: ['addressType', 'endpoints', 'ports'],
  defaults(obj) {
    if (Array.isArray(obj.ports)) {
      obj.ports = obj.ports.map((p: unknown) => {
        if (!isObject(p)) return p;
        return orderKeys({ ...p, name: p.name ?? '', protocol: p.protocol ?? 'TCP' }, [
          'name',
          'protocol',
          'port',
          'appProtocol',
        ]);
      });
    }
    if (obj.endpoints === undefined) obj.endpoints = null;
  },
  prepareForUpdate() {},
  validate(obj) {
    const errs = validateObjectMeta(obj.metadata, nameIsDNS1123Subdomain);
    const types = ['FQDN', 'IPv4', 'IPv6'];
    if (!obj.addressType) errs.push(fieldErr.required('addressType'));
    else if (!types.includes(str(obj.addressType))) {
      errs.push(fieldErr.notSupported('addressType', obj.addressType, types));
    }
    asArray(obj.endpoints).forEach((e, i) => {
      if (!isObject(e)) return;
      const addrs = asArray(e.addresses);
      if (addrs.length === 0)
        errs.push(
          fieldErr.required(`endpoints[${i}].addresses`, 'must contain at least 1 address'),
        );
      if (addrs.length > 100)
        errs.push(fieldErr.tooLong(`endpoints[${i}].addresses`, 'must have at most 100 items'));
      addrs.forEach((a, j) => {
        const s = str(a);
        const ok =
          obj.addressType === 'IPv4' ? isIPv4(s) : obj.addressType === 'IPv6' ? isIPv6(s) : true;
        if (!ok || (obj.addressType !== 'FQDN' && !isIP(s))) {
          errs.push(fieldErr.invalid(`endpoints[${i}].addresses[${j}]`, s, IP_MSG));
        }
      });
    });
    asArray(obj.ports).forEach((p, i) => {
      if (!isObject(p) || p.port === undefined || p.port === null) return;
      for (const m of isValidPortNum(p.port))
        errs.push(fieldErr.invalid(`ports[${i}].port`, p.port, m));
    });
    return errs;
  },
};

// ---- validatingwebhookconfigurations -------------------------------------------------------

/** The v1 defaults of one ValidatingWebhook (admissionregistration/v1 defaults.go). */
export function defaultWebhook(w: unknown): unknown {
  if (!isObject(w)) return w;
  const out: JsonObject = { ...w };
  out.failurePolicy ??= 'Fail';
  out.matchPolicy ??= 'Equivalent';
  out.namespaceSelector ??= {};
  out.objectSelector ??= {};
  out.timeoutSeconds ??= 10;
  out.rules = asArray(out.rules).map((r) => (isObject(r) ? { ...r, scope: r.scope ?? '*' } : r));
  const cc = asObject(out.clientConfig);
  if (isObject(cc.service)) cc.service = { ...cc.service, port: cc.service.port ?? 443 };
  out.clientConfig = cc;
  return orderKeys(out, [
    'name',
    'clientConfig',
    'rules',
    'failurePolicy',
    'matchPolicy',
    'namespaceSelector',
    'objectSelector',
    'sideEffects',
    'timeoutSeconds',
    'admissionReviewVersions',
    'matchConditions',
  ]);
}

const validatingWebhookConfigurations: ResourceDef = {
  ...base,
  group: 'admissionregistration.k8s.io',
  resource: 'validatingwebhookconfigurations',
  singular: 'validatingwebhookconfiguration',
  kind: 'ValidatingWebhookConfiguration',
  listKind: 'ValidatingWebhookConfigurationList',
  namespaced: false,
  shortNames: [],
  categories: ['api-extensions'],
  hasGeneration: true,
  fieldOrder: ['webhooks'],
  patchMeta: { webhooks: { mergeKey: 'name' } },
  defaults(obj) {
    if (Array.isArray(obj.webhooks)) obj.webhooks = obj.webhooks.map(defaultWebhook);
  },
  prepareForUpdate() {},
  validate(obj) {
    const errs = validateObjectMeta(obj.metadata, nameIsDNS1123Subdomain);
    const names = new Set<string>();
    asArray(obj.webhooks).forEach((w, i) => {
      const f = `webhooks[${i}]`;
      if (!isObject(w)) return;
      const name = str(w.name ?? '');
      if (!name) errs.push(fieldErr.required(`${f}.name`));
      else if (names.has(name)) errs.push(fieldErr.duplicate(`${f}.name`, name));
      names.add(name);
      const effects = ['None', 'NoneOnDryRun'];
      if (!w.sideEffects) errs.push(fieldErr.required(`${f}.sideEffects`));
      else if (!effects.includes(str(w.sideEffects))) {
        errs.push(fieldErr.notSupported(`${f}.sideEffects`, w.sideEffects, effects));
      }
      if (asArray(w.admissionReviewVersions).length === 0) {
        errs.push(
          fieldErr.required(`${f}.admissionReviewVersions`, 'must specify one of v1, v1beta1'),
        );
      }
      const cc = asObject(w.clientConfig);
      if (!cc.url && !isObject(cc.service)) {
        errs.push(
          fieldErr.required(`${f}.clientConfig`, 'exactly one of url or service is required'),
        );
      }
      const t = w.timeoutSeconds;
      if (typeof t === 'number' && (t < 1 || t > 30)) {
        errs.push(
          fieldErr.invalid(
            `${f}.timeoutSeconds`,
            t,
            'the timeout value must be between 1 and 30 seconds',
          ),
        );
      }
    });
    return errs;
  },
};

export function createResourceDefs(alloc: ServiceAllocators): ResourceDef[] {
  return [
    namespaces,
    servicesDef(alloc),
    nodes,
    pods,
    endpointSlices,
    validatingWebhookConfigurations,
    events,
    coreEvents,
    ingresses,
    ingressClasses,
  ];
}
