// The shape of one served resource: its names, verbs and strategy (defaulting, create/update
// preparation, validation). The definitions themselves are in resources.ts and the per-kind
// modules (services.ts, events.ts, ingresses.ts).
import type { PatchMeta } from './patch.js';
import type { Txn } from './services.js';
import type { FieldError } from './status.js';
import type { KubeObject } from './util.js';
import type { NameValidator } from './validation.js';

/** The verbs of a resource served in full. */
export const READ_WRITE = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
];

/** The field selectors every resource takes. */
export const META_SELECTABLE = ['metadata.name', 'metadata.namespace'];

export interface ResourceDef {
  group: string;
  version: string;
  /** plural, e.g. 'services' */
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories?: string[];
  verbs: string[];
  /** subresources served, e.g. ['status'] */
  subresources: string[];
  /** DELETE answers with the object (true) or a Success Status (false) */
  returnDeletedObject: boolean;
  hasGeneration: boolean;
  /** top-level field order after kind/apiVersion/metadata */
  fieldOrder: string[];
  /** fields allowed in ?fieldSelector= */
  selectableFields: string[];
  patchMeta: PatchMeta;
  nameValidator: NameValidator;
  defaults(obj: KubeObject): void;
  prepareForCreate(obj: KubeObject, seeded: boolean): void;
  prepareForUpdate(obj: KubeObject, old: KubeObject): void;
  /** what a `/status` update may change: everything else comes from the old object */
  prepareForStatusUpdate(obj: KubeObject, old: KubeObject): void;
  validate(obj: KubeObject): FieldError[];
  validateUpdate(obj: KubeObject, old: KubeObject): FieldError[];
  /**
   * Set on a resource served from the storage of the resource of the same name in another
   * group-version, as the API server serves one stored Event as core/v1 and events.k8s.io/v1:
   * a stored object as this version shows it. Such a resource has no storage of its own and
   * serves the read verbs only.
   */
  fromStorage?(stored: KubeObject): KubeObject;
  /** The value of a selectable field of a stored object (default: the field at that path). */
  fieldValue?: (stored: KubeObject, field: string) => string;
  beginCreate?(obj: KubeObject, dryRun: boolean): Txn;
  beginUpdate?(obj: KubeObject, old: KubeObject, dryRun: boolean): Txn;
  afterDelete?(obj: KubeObject): void;
}

export function apiVersionOf(def: ResourceDef): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}
