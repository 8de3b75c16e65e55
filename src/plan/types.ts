// The change records a plan is made of: what to write where, and why (docs/reference.md "Reconcile and plan" plan output).
import type { DesiredEndpointSlice } from '../translate/endpoint-slices.js';
import type {
  DesiredK8sService,
  EndpointSlice,
  Registration,
  Service,
  ServiceRef,
} from '../translate/types.js';

export type ChangeOp = 'create' | 'update' | 'delete';

export interface RegistrationChange {
  target: 'consul';
  op: ChangeOp;
  /** Desired (create/update) or current (delete). */
  registration: Registration;
  /** Current, for update. */
  previous?: Registration;
  /** Service fields differ (or create). A delete deregisters the service, which removes its check. */
  writeService: boolean;
  /** The check differs (`set`) or must be removed (`delete`). */
  writeCheck: 'set' | 'delete' | null;
  /** The Kubernetes service it belongs to. */
  source: ServiceRef;
  reason: string;
}

export interface K8sServiceChange {
  target: 'kubernetes';
  op: ChangeOp;
  namespace: string;
  name: string;
  /** create/update. */
  desired?: DesiredK8sService;
  /** update/delete (carries resourceVersion). */
  current?: Service;
  reason: string;
  /** Absent: the change is about the Service itself. */
  kind?: 'EndpointSlice';
  /** EndpointSlice changes: the Service the slice belongs to. */
  service?: string;
  /** EndpointSlice create/update. */
  desiredSlice?: DesiredEndpointSlice;
  /** EndpointSlice update/delete (carries uid and resourceVersion). */
  currentSlice?: EndpointSlice;
}

export type Change = RegistrationChange | K8sServiceChange;

/** An object the plan did not change on purpose, and why (a conflict with an owner that is not us). */
export interface SkippedObject {
  target: 'consul' | 'kubernetes';
  /** The Consul service ID, or namespace/name in Kubernetes. */
  object: string;
  reason: string;
}
