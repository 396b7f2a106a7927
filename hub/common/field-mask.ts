// Partial updates (UpdateAssignmentRequest.fields, UpdateRepoRequest.fields): the snake_case
// names of the spec fields to change, as a google.protobuf.FieldMask's paths ("suspend",
// "helm.set"). The named fields are taken from the request, every other one keeps its stored
// value; the caller validates the merged spec as a whole. Pure.
import { ValidationError, quote } from '../../proto/contract/validation.js';

/** At most this many paths per request (a spec has a few dozen fields; more is not an update). */
export const MAX_FIELD_PATHS = 100;

/** What a noun's spec allows a mask to name. */
export interface MaskRules {
  /** Request field the errors name, e.g. "assignment.fields". */
  field: string;
  /** Fields of the spec (camelCase, as ts-proto names them). */
  fields: readonly string[];
  /** Message-typed fields whose own fields may be named as "parent.child": child → its default. */
  nested?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export function camelToSnake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function snakeToCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The snake_case paths a mask may hold under `rules`, for error messages and help. */
export function allowedPaths(rules: MaskRules): string[] {
  const out = rules.fields.map(camelToSnake);
  for (const [parent, children] of Object.entries(rules.nested ?? {})) {
    for (const child of Object.keys(children)) out.push(`${camelToSnake(parent)}.${camelToSnake(child)}`);
  }
  return out;
}

/**
 * `current` with the fields named by `paths` taken from `input` (a field the input leaves out
 * becomes its default: naming it is how it is cleared). Throws a ValidationError naming the
 * first path that is not a field of the spec.
 */
export function mergeFields<T extends object>(
  current: T,
  input: Partial<T>,
  paths: readonly string[],
  rules: MaskRules,
  defaults: Partial<T>,
): T {
  if (paths.length > MAX_FIELD_PATHS)
    throw new ValidationError(rules.field, `${paths.length} paths (at most ${MAX_FIELD_PATHS})`);
  const merged: Record<string, unknown> = { ...(current as Record<string, unknown>) };
  const given = input as Record<string, unknown>;
  const defaultOf = defaults as Record<string, unknown>;
  paths.forEach((path, i) => {
    const unknown = () =>
      new ValidationError(
        `${rules.field}[${i}]`,
        `${quote(path)} is not a field that can be changed (use ${allowedPaths(rules).join(', ')})`,
      );
    const dot = path.indexOf('.');
    if (dot < 0) {
      const name = snakeToCamel(path);
      if (camelToSnake(name) !== path || !rules.fields.includes(name)) throw unknown();
      merged[name] = name in given && given[name] !== undefined ? given[name] : defaultOf[name];
      return;
    }
    const parent = snakeToCamel(path.slice(0, dot));
    const child = snakeToCamel(path.slice(dot + 1));
    const children = Object.prototype.hasOwnProperty.call(rules.nested ?? {}, parent)
      ? rules.nested![parent]
      : undefined;
    if (
      !children ||
      camelToSnake(parent) !== path.slice(0, dot) ||
      camelToSnake(child) !== path.slice(dot + 1) ||
      !Object.prototype.hasOwnProperty.call(children, child)
    ) {
      throw unknown();
    }
    const from = (given[parent] ?? {}) as Record<string, unknown>;
    const base = (merged[parent] ?? children) as Record<string, unknown>;
    merged[parent] = {
      ...children,
      ...base,
      [child]: child in from && from[child] !== undefined ? from[child] : children[child],
    };
  });
  return merged as T;
}
