// Name rules shared by every resource: DNS-1123 labels for names and namespaces (the contract's
// validation, which the agent applies too), Kubernetes label keys and values for cluster labels
// and selectors.
import { ValidationError, isDnsSubdomain, quote } from '../../proto/contract/validation.js';

export { checkDnsLabel, hasControlChars } from '../../proto/contract/validation.js';

const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Why `key` is not a valid Kubernetes label key, or undefined when it is. */
export function labelKeyProblem(key: string): string | undefined {
  if (key === '') return 'label key must not be empty';
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && !isDnsSubdomain(prefix)) {
    return `label key ${quote(key)}: prefix must be a DNS subdomain (lowercase, at most 253 characters)`;
  }
  if (name.length > 63 || !LABEL_NAME.test(name)) {
    return `label key ${quote(key)}: name must be at most 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

/** Why `value` is not a valid Kubernetes label value, or undefined when it is. */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !LABEL_NAME.test(value)) {
    return `label value ${quote(value)}: must be at most 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

/** Validates a label map (cluster labels or a selector); returns a copy with sorted keys. */
export function checkLabels(
  field: string,
  labels: Record<string, string> | undefined | null,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(labels ?? {}).sort()) {
    const value = (labels ?? {})[key] ?? '';
    const problem = labelKeyProblem(key) ?? labelValueProblem(value);
    if (problem) throw new ValidationError(`${field}[${quote(key)}]`, problem);
    out[key] = value;
  }
  return out;
}
