// Planning: desired vs current (owned only) → changes with reasons. Pure.
export * from './types.js';
export * from './registrations.js';
export * from './k8s-services.js';
export * from './format.js';
export * from './safety.js';
export * from './endpoint-slices.js';
export * from './view-scope.js';
