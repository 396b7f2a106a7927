// The one DNS-1123 label check: names of tenants, repos, clusters, assignments and namespaces.
// Safe as Kubernetes object names, NATS subject tokens and KV keys.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters. */
export function isDnsLabel(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}
