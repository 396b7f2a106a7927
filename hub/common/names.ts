// Name rules shared by every resource: DNS-1123 labels for names and namespaces (lib/names),
// Kubernetes label keys and values for cluster labels and selectors.
import { isDnsLabel } from '../../lib/names.js';
import { ValidationError } from './errors.js';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Throws a ValidationError naming `field` unless `value` is a DNS-1123 label. */
export function checkDnsLabel(field: string, value: string): string {
  if (value === '') throw new ValidationError(field, 'required');
  if (!isDnsLabel(value)) {
    throw new ValidationError(
      field,
      `${JSON.stringify(value)} is not a valid name: use lowercase letters, digits and '-', starting and ending with a letter or digit (DNS-1123 label, at most 63 characters)`,
    );
  }
  return value;
}

/** Why `key` is not a valid Kubernetes label key, or undefined when it is. */
export function labelKeyProblem(key: string): string | undefined {
  if (key === '') return 'label key must not be empty';
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) {
    return `label key ${JSON.stringify(key)}: prefix must be a DNS subdomain (lowercase, at most 253 characters)`;
  }
  if (name.length > 63 || !LABEL_NAME.test(name)) {
    return `label key ${JSON.stringify(key)}: name must be at most 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

/** Why `value` is not a valid Kubernetes label value, or undefined when it is. */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !LABEL_NAME.test(value)) {
    return `label value ${JSON.stringify(value)}: must be at most 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
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
    if (problem) throw new ValidationError(`${field}[${JSON.stringify(key)}]`, problem);
    out[key] = value;
  }
  return out;
}

/** True when `s` has an ASCII control character (0x00-0x1f, 0x7f). */
export function hasControlChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
