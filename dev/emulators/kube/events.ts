// The events.k8s.io/v1 Event resource (what k8s-consul-sync records on Services), with the
// API server's strategy for it: ValidateEventCreate/ValidateEventUpdate as they apply to
// requests in events.k8s.io/v1, and MicroTime fields decoded as strictly as Go decodes them.
// The same stored Events are served as core/v1 Events too (what `kubectl describe` and
// `kubectl events` read), converted as pkg/apis/events/v1 converts them; read verbs only.
import type { ResourceDef } from './resource-def.js';
import { fieldValue } from './selectors.js';
import { badRequest, fieldErr, type FieldError } from './status.js';
import { isObject, str, type JsonObject, type KubeObject } from './util.js';
import {
  isDNS1123Subdomain,
  isQualifiedName,
  nameIsDNS1123Subdomain,
  validateObjectMeta,
} from './validation.js';

/** metav1.RFC3339Micro: Go's time.Parse wants exactly six fractional digits. */
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;
const MICRO_LAYOUT = '2006-01-02T15:04:05.000000Z07:00';

/** Limits of pkg/apis/core/validation (ReportingInstanceLengthLimit, ...). */
const LENGTH_LIMIT = 128;
const NOTE_LENGTH_LIMIT = 1024;

/** A MicroTime that does not decode is a 400 (the body cannot be decoded), not a 422. */
function checkMicroTime(value: unknown, field: string): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'string' || !MICRO_TIME.test(value)) {
    throw badRequest(
      `Event in version "v1" cannot be handled as a Event: parsing time ${JSON.stringify(str(value))} as "${MICRO_LAYOUT}": cannot parse ${field} as "${MICRO_LAYOUT}"`,
    );
  }
}

function validateSeries(obj: KubeObject): FieldError[] {
  if (!isObject(obj.series)) return [];
  const errs: FieldError[] = [];
  const count = obj.series.count;
  if (typeof count !== 'number' || count < 2)
    errs.push(fieldErr.invalid('series.count', '', 'should be at least 2'));
  if (!obj.series.lastObservedTime) errs.push(fieldErr.required('series.lastObservedTime'));
  return errs;
}

/** legacyValidateEvent (with an eventTime) plus the strict checks of events.k8s.io/v1. */
function validateEvent(obj: KubeObject): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, nameIsDNS1123Subdomain);
  const namespace = str(obj.metadata.namespace ?? '');
  const regarding = isObject(obj.regarding) ? obj.regarding : {};
  if (!regarding.namespace && namespace !== 'default' && namespace !== 'kube-system')
    errs.push(
      fieldErr.invalid(
        'regarding.namespace',
        regarding.namespace ?? '',
        'does not match event.namespace',
      ),
    );
  const text = (field: string): string => (typeof obj[field] === 'string' ? obj[field] : '');
  const controller = text('reportingController');
  if (!controller) errs.push(fieldErr.required('reportingController'));
  for (const m of isQualifiedName(controller))
    errs.push(fieldErr.invalid('reportingController', controller, m));
  for (const field of ['reportingInstance', 'action', 'reason']) {
    const value = text(field);
    if (!value) errs.push(fieldErr.required(field));
    if (value.length > LENGTH_LIMIT)
      errs.push(fieldErr.invalid(field, '', `can have at most ${LENGTH_LIMIT} characters`));
  }
  if (text('note').length > NOTE_LENGTH_LIMIT)
    errs.push(fieldErr.invalid('note', '', `can have at most ${NOTE_LENGTH_LIMIT} characters`));
  for (const m of isDNS1123Subdomain(namespace))
    errs.push(fieldErr.invalid('namespace', namespace, m));
  errs.push(...validateSeries(obj));
  if (!obj.eventTime) errs.push(fieldErr.required('eventTime'));
  const type = text('type');
  if (type !== 'Normal' && type !== 'Warning')
    errs.push(fieldErr.invalid('type', '', `has invalid value: ${type}`));
  for (const field of ['deprecatedFirstTimestamp', 'deprecatedLastTimestamp', 'deprecatedCount'])
    if (obj[field]) errs.push(fieldErr.invalid(field, '', 'needs to be unset'));
  const source = isObject(obj.deprecatedSource) ? obj.deprecatedSource : {};
  if (source.component || source.host)
    errs.push(fieldErr.invalid('deprecatedSource', '', 'needs to be unset'));
  return errs;
}

/** After creation only the series of an events.k8s.io/v1 Event may change. */
const IMMUTABLE = [
  'regarding',
  'related',
  'reason',
  'note',
  'type',
  'eventTime',
  'action',
  'reportingController',
  'reportingInstance',
] as const;

export const events: ResourceDef = {
  group: 'events.k8s.io',
  version: 'v1',
  resource: 'events',
  singular: 'event',
  kind: 'Event',
  listKind: 'EventList',
  namespaced: true,
  shortNames: ['ev'],
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: [],
  returnDeletedObject: false,
  hasGeneration: false,
  fieldOrder: [
    'eventTime',
    'series',
    'reportingController',
    'reportingInstance',
    'action',
    'reason',
    'regarding',
    'related',
    'note',
    'type',
    'deprecatedSource',
    'deprecatedFirstTimestamp',
    'deprecatedLastTimestamp',
    'deprecatedCount',
  ],
  // AddFieldLabelConversionsForEvent (events.k8s.io/v1 names).
  selectableFields: [
    'metadata.name',
    'metadata.namespace',
    'reason',
    'type',
    'reportingController',
    'regarding.kind',
    'regarding.namespace',
    'regarding.name',
    'regarding.uid',
    'regarding.apiVersion',
    'regarding.resourceVersion',
    'regarding.fieldPath',
  ],
  patchMeta: {},
  nameValidator: nameIsDNS1123Subdomain,
  defaults(obj) {
    checkMicroTime(obj.eventTime, 'eventTime');
    if (isObject(obj.series))
      checkMicroTime(obj.series.lastObservedTime, 'series.lastObservedTime');
  },
  prepareForCreate() {},
  prepareForUpdate() {},
  prepareForStatusUpdate() {},
  validate: validateEvent,
  validateUpdate(obj, old) {
    const errs = validateEvent(obj);
    for (const field of IMMUTABLE) {
      if (JSON.stringify(obj[field]) !== JSON.stringify(old[field]))
        errs.push(fieldErr.invalid(field, obj[field], 'field is immutable'));
    }
    return errs;
  },
};

// ---- core/v1 events: the same storage, another version -------------------------------------

const coreViews = new WeakMap<KubeObject, KubeObject>();

/**
 * A stored events.k8s.io/v1 Event as core/v1 serves it: Convert_v1_Event_To_core_Event, then
 * the core/v1 Event's JSON encoding (omitempty strings and count left out; involvedObject and
 * source always there; zero Time and MicroTime as null; reportingComponent and
 * reportingInstance always there). Stored objects never change, so each is converted once.
 */
export function toCoreEvent(stored: KubeObject): KubeObject {
  const cached = coreViews.get(stored);
  if (cached) return cached;
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
  const fields: JsonObject = {
    involvedObject: isObject(stored.regarding) ? stored.regarding : {},
    reason: text(stored.reason),
    message: text(stored.note),
    source: isObject(stored.deprecatedSource) ? stored.deprecatedSource : {},
    firstTimestamp: stored.deprecatedFirstTimestamp ?? null,
    lastTimestamp: stored.deprecatedLastTimestamp ?? null,
    count:
      typeof stored.deprecatedCount === 'number' && stored.deprecatedCount
        ? stored.deprecatedCount
        : undefined,
    type: text(stored.type),
    eventTime: stored.eventTime ?? null,
    series: isObject(stored.series) ? stored.series : undefined,
    action: text(stored.action),
    related: isObject(stored.related) ? stored.related : undefined,
    reportingComponent: text(stored.reportingController) ?? '',
    reportingInstance: text(stored.reportingInstance) ?? '',
  };
  const out: KubeObject = { kind: 'Event', apiVersion: 'v1', metadata: stored.metadata };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  coreViews.set(stored, out);
  return out;
}

/**
 * ToSelectableFields (pkg/registry/core/event), the field set selectors of both versions
 * match, by its core/v1 names: `source` is the source component, else the reporting controller.
 */
function coreEventField(stored: KubeObject, field: string): string {
  const ev = toCoreEvent(stored);
  if (field === 'source') {
    const source = isObject(ev.source) ? ev.source : {};
    return str(source.component || ev.reportingComponent || '');
  }
  return fieldValue(ev, field);
}

export const coreEvents: ResourceDef = {
  ...events,
  group: '',
  verbs: ['get', 'list', 'watch'],
  fieldOrder: [
    'involvedObject',
    'reason',
    'message',
    'source',
    'firstTimestamp',
    'lastTimestamp',
    'count',
    'type',
    'eventTime',
    'series',
    'action',
    'related',
    'reportingComponent',
    'reportingInstance',
  ],
  // AddFieldLabelConversionsForEvent (core/v1 names).
  selectableFields: [
    'metadata.name',
    'metadata.namespace',
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  fromStorage: toCoreEvent,
  fieldValue: coreEventField,
};
