// Translation: Kubernetes objects ↔ desired Consul registrations / Kubernetes services. Pure.
export * from './to-consul.js';
export * from './to-k8s.js';
export * from './ownership.js';
export * from './order.js';
export * from './endpoint-slices.js';
