// What the development tools read beyond the product's Config (parsed in dev/cli.ts).
export interface DevOptions {
  once: boolean;
  kubeconfigOut?: string;
}
