// Name rules shared by every resource: DNS-1123 labels for names and namespaces (the contract's
// validation, which the agent applies too), Kubernetes label keys and values for cluster labels
// and selectors.
import { ValidationError, quote } from '../../proto/contract/validation.js';
import { labelKeyProblem, labelValueProblem } from '../../proto/contract/label-selector.js';

export { labelKeyProblem, labelValueProblem };

export { checkDnsLabel, hasControlChars } from '../../proto/contract/validation.js';

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
