// Post-render substitution, as Flux's postBuild: `${name}`, `${name:=default}` and
// `${name:-default}` in the string values of the rendered objects, with the variables the hub
// merged for this cluster (DesiredAssignment.substitute). Pure, and on the parsed objects, never
// on YAML text: keys are never touched, and a value that holds YAML (or another `${...}`) is
// inserted as it is, neither parsed nor expanded again, so no variable can inject structure.
//   - `$${` is a literal `${` (Flux's escape); `$name` without braces is left alone (as in Flux).
//   - An unset variable without a default is "" (Flux's default), or fails the revision in strict
//     mode, naming the file, the object, the field and the variable. The colon forms use their
//     default when the variable is unset or empty.
//   - Objects annotated `gitfleet.io/substitute: disabled` (or Flux's
//     `kustomize.toolkit.fluxcd.io/substitute: disabled`) are left exactly as rendered.
//   - Output is bounded: no string, and no object's growth, past maxDocumentBytes; the revision's
//     growth not past maxRenderedBytes (finalizeObjects then counts the whole revision again).
import { Reason, type Substitution } from '../../proto/index.js';
import { buildError } from '../errors.js';
import { isPlainObject, type ManifestObject } from '../kube/objects.js';
import { DEFAULT_SOURCE_LIMITS, limitError, type SourceLimits } from '../limits.js';

/** Annotations that turn substitution off for one object (value "disabled"). */
export const SUBSTITUTE_ANNOTATIONS = ['gitfleet.io/substitute', 'kustomize.toolkit.fluxcd.io/substitute'];

/** An object to substitute in, with where it came from (for messages). */
export interface SubstitutableObject {
  object: ManifestObject;
  file: string;
  document: number;
}

type Limits = Pick<SourceLimits, 'maxDocumentBytes' | 'maxRenderedBytes'>;

const REFERENCE = /^([_a-zA-Z][_a-zA-Z0-9]*)(?:(:=|:-)([\s\S]*))?$/;

/** Why one string could not be substituted; the caller adds the object and the field. */
class StringProblem extends Error {
  constructor(
    message: string,
    readonly overLimit = false,
  ) {
    super(message);
  }
}

export function substitutionDisabled(object: ManifestObject): boolean {
  const annotations = object.metadata?.annotations;
  if (!isPlainObject(annotations)) return false;
  return SUBSTITUTE_ANNOTATIONS.some((key) => annotations[key] === 'disabled');
}

/**
 * Substitutes the references of one string. `secret` keeps the text of a malformed reference out
 * of the message (it may be part of a password). Throws a StringProblem.
 */
export function substituteString(
  text: string,
  vars: ReadonlyMap<string, string>,
  strict: boolean,
  maxLength: number,
  secret = false,
): string {
  if (!text.includes('${')) return text;
  let out = '';
  let from = 0;
  const append = (part: string) => {
    if (out.length + part.length > maxLength) {
      throw new StringProblem(`the value would have more than ${maxLength} characters`, true);
    }
    out += part;
  };
  for (let i = text.indexOf('${'); i !== -1; i = text.indexOf('${', from)) {
    if (i > from && text[i - 1] === '$') {
      // "$${" is a literal "${": drop the first '$', keep the rest as text
      append(text.slice(from, i - 1));
      append('${');
      from = i + 2;
      continue;
    }
    append(text.slice(from, i));
    const end = text.indexOf('}', i + 2);
    const shown = (ref: string) => (secret ? 'a reference' : JSON.stringify(ref.slice(0, 60)));
    if (end === -1) {
      throw new StringProblem(`${shown(text.slice(i))}: "\${" without a closing "}"${HINT}`);
    }
    const inner = text.slice(i + 2, end);
    const m = REFERENCE.exec(inner);
    if (!m || m[3]?.includes('${')) {
      throw new StringProblem(
        `${shown(text.slice(i, end + 1))} is not a substitution: use \${name}, \${name:=default} or \${name:-default}${HINT}`,
      );
    }
    const [, name, op, fallback] = m;
    const value = vars.get(name);
    if (op !== undefined && (value === undefined || value === '')) {
      append(fallback);
    } else if (value !== undefined) {
      append(value);
    } else if (strict) {
      throw new StringProblem(
        `variable ${JSON.stringify(name)} is not set (strict substitution): set it with --var ${name}=VALUE on the assignment or the tenant, or give a default \${${name}:=VALUE}`,
      );
    } // else: unset without a default is "", as Flux
    from = end + 1;
  }
  append(text.slice(from));
  return out;
}

const HINT = '; write $${ for a literal ${, or annotate the object gitfleet.io/substitute: disabled';

/** A node of the walk: where a string sits, to name its field only when something is wrong. */
interface Slot {
  container: Record<string, unknown> | unknown[];
  key: string | number;
  parent?: Slot;
}

function fieldPath(slot: Slot): string {
  const parts: string[] = [];
  for (let s: Slot | undefined = slot; s; s = s.parent) {
    parts.push(
      typeof s.key === 'number'
        ? `[${s.key}]`
        : /^[A-Za-z_][A-Za-z0-9_-]*$/.test(s.key)
          ? `.${s.key}`
          : `[${JSON.stringify(s.key.slice(0, 60))}]`,
    );
  }
  return parts.reverse().join('').replace(/^\./, '');
}

function describe(o: SubstitutableObject): string {
  const name = typeof o.object.metadata?.name === 'string' ? o.object.metadata.name : '';
  return `${o.file} (document ${o.document}) ${String(o.object.kind)} ${JSON.stringify(name.slice(0, 100))}`;
}

/**
 * Substitutes in place in every object that does not opt out. Does nothing when `substitution`
 * is undefined or not enabled. Throws a BuildFailed ReconcileError (stalled) naming the file, the
 * object, the field and the variable or limit.
 */
export function substituteObjects(
  objects: readonly SubstitutableObject[],
  substitution: Substitution | undefined,
  limits: Limits = DEFAULT_SOURCE_LIMITS,
): void {
  if (!substitution?.enabled) return;
  const vars = new Map(Object.entries(substitution.vars ?? {}));
  let revisionGrowth = 0;
  for (const o of objects) {
    if (substitutionDisabled(o.object)) continue;
    const secret = o.object.kind === 'Secret';
    let objectGrowth = 0;
    // iterative: a deeply nested document cannot overflow the stack
    const stack: Slot[] = [];
    const push = (value: unknown, parent: Slot | undefined) => {
      if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--) stack.push({ container: value, key: i, parent });
      } else if (isPlainObject(value)) {
        for (const key of Object.keys(value).reverse()) stack.push({ container: value, key, parent });
      }
    };
    push(o.object, undefined);
    while (stack.length > 0) {
      const slot = stack.pop()!;
      const value = (slot.container as Record<string | number, unknown>)[slot.key];
      if (typeof value !== 'string') {
        push(value, slot);
        continue;
      }
      let next: string;
      try {
        next = substituteString(value, vars, substitution.strict, limits.maxDocumentBytes, secret);
      } catch (err) {
        if (!(err instanceof StringProblem)) throw err;
        const where = `${describe(o)}: ${fieldPath(slot)}`;
        if (err.overLimit) {
          const what = 'substitution makes the value longer';
          throw limitError(Reason.BuildFailed, where, what, 'maxDocumentBytes', limits.maxDocumentBytes);
        }
        throw buildError(`${where}: ${err.message}`);
      }
      if (next === value) continue;
      const growth = Math.max(0, next.length - value.length);
      objectGrowth += growth;
      revisionGrowth += growth;
      if (objectGrowth > limits.maxDocumentBytes) {
        throw limitError(
          Reason.BuildFailed,
          `${describe(o)}: ${fieldPath(slot)}`,
          'substitution grows the object by more characters',
          'maxDocumentBytes',
          limits.maxDocumentBytes,
        );
      }
      if (revisionGrowth > limits.maxRenderedBytes) {
        throw limitError(
          Reason.BuildFailed,
          `${describe(o)}: ${fieldPath(slot)}`,
          'substitution grows the revision by more characters',
          'maxRenderedBytes',
          limits.maxRenderedBytes,
        );
      }
      (slot.container as Record<string | number, unknown>)[slot.key] = next;
    }
    checkIdentity(o);
  }
}

/** What the renderer checked before must still hold after substitution (e.g. no empty name). */
function checkIdentity(o: SubstitutableObject): void {
  const { object } = o;
  const missing: string[] = [];
  if (typeof object.apiVersion !== 'string' || object.apiVersion === '') missing.push('apiVersion');
  if (typeof object.kind !== 'string' || object.kind === '') missing.push('kind');
  if (typeof object.metadata?.name !== 'string' || object.metadata.name === '') missing.push('metadata.name');
  if (missing.length > 0) {
    throw buildError(
      `${o.file} (document ${o.document}): ${missing.join(', ')} empty after substitution (an unset variable?): set the variable, give a default, or use strict substitution`,
    );
  }
}
