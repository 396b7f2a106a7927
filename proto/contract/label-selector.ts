// Label selectors in kubectl's syntax, for choosing clusters: `env in (prod,staging)`,
// `tier!=gold`, `!canary`, `region`, `team=a` — requirements separated by commas, all of which
// must hold. Stored as Kubernetes stores them (matchLabels plus matchExpressions), so a selector
// reads back the same from the API, the CLI and a fleet file. Pure; shared by the hub (which
// validates and matches) and the CLI (which parses the flag).
import type { LabelSelector, LabelSelectorRequirement } from '../gen/gitfleet/v1/resources.js';
import { ValidationError, hasControlChars, isDnsSubdomain, quote } from './validation.js';

export type { LabelSelector, LabelSelectorRequirement };

export const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
export type SelectorOperator = (typeof SELECTOR_OPERATORS)[number];

/** Longest selector text accepted. */
export const MAX_SELECTOR_LENGTH = 4096;
/** Most requirements (labels plus expressions) in one selector. */
export const MAX_SELECTOR_REQUIREMENTS = 64;
/** Most values in one In / NotIn requirement. */
export const MAX_SELECTOR_VALUES = 64;

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

/** True when the selector has no requirement (it matches every cluster). */
export function isEmptySelector(sel: LabelSelector | undefined): boolean {
  return (
    !sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0)
  );
}

function has(labels: Record<string, string>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(labels, key);
}

/** Whether one requirement holds for `labels` (NotIn and DoesNotExist hold when the key is absent, as on Kubernetes). */
export function matchesRequirement(labels: Record<string, string>, r: LabelSelectorRequirement): boolean {
  switch (r.operator) {
    case 'In':
      return has(labels, r.key) && r.values.includes(labels[r.key]);
    case 'NotIn':
      return !has(labels, r.key) || !r.values.includes(labels[r.key]);
    case 'Exists':
      return has(labels, r.key);
    case 'DoesNotExist':
      return !has(labels, r.key);
    default:
      return false; // an operator nobody validated selects nothing rather than everything
  }
}

/** Whether every requirement of `sel` holds for `labels` (an empty selector matches everything). */
export function matchesLabelSelector(labels: Record<string, string>, sel: LabelSelector): boolean {
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) {
    if (!has(labels, key) || labels[key] !== value) return false;
  }
  for (const r of sel.matchExpressions ?? []) if (!matchesRequirement(labels, r)) return false;
  return true;
}

/**
 * Validates a selector from the API or a store row and returns it normalized: match labels by
 * key, expressions by key then operator, values sorted and unique. Throws a ValidationError
 * naming `field`.
 */
export function checkLabelSelector(
  field: string,
  sel: Partial<LabelSelector> | undefined | null,
): LabelSelector {
  const matchLabels: Record<string, string> = {};
  const labels = sel?.matchLabels ?? {};
  for (const key of Object.keys(labels).sort()) {
    const value = labels[key] ?? '';
    const problem = labelKeyProblem(key) ?? labelValueProblem(value);
    if (problem) throw new ValidationError(`${field}.matchLabels[${quote(key)}]`, problem);
    matchLabels[key] = value;
  }
  const expressions = sel?.matchExpressions ?? [];
  if (Object.keys(matchLabels).length + expressions.length > MAX_SELECTOR_REQUIREMENTS) {
    throw new ValidationError(field, `at most ${MAX_SELECTOR_REQUIREMENTS} requirements`);
  }
  const matchExpressions = expressions.map((r, i) => {
    const f = `${field}.matchExpressions[${i}]`;
    const key = r?.key ?? '';
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) throw new ValidationError(`${f}.key`, keyProblem);
    const operator = r?.operator ?? '';
    if (!(SELECTOR_OPERATORS as readonly string[]).includes(operator)) {
      throw new ValidationError(
        `${f}.operator`,
        `${quote(operator)} is not one of ${SELECTOR_OPERATORS.join(', ')}`,
      );
    }
    const values = [...new Set(r?.values ?? [])].sort();
    if (operator === 'In' || operator === 'NotIn') {
      if (values.length === 0)
        throw new ValidationError(`${f}.values`, `${operator} needs at least one value`);
      if (values.length > MAX_SELECTOR_VALUES) {
        throw new ValidationError(`${f}.values`, `at most ${MAX_SELECTOR_VALUES} values`);
      }
      for (const v of values) {
        const problem = labelValueProblem(v);
        if (problem) throw new ValidationError(`${f}.values`, problem);
      }
    } else if (values.length > 0) {
      throw new ValidationError(`${f}.values`, `${operator} takes no values`);
    }
    return { key, operator, values };
  });
  matchExpressions.sort(
    (a, b) => cmp(a.key, b.key) || cmp(a.operator, b.operator) || cmp(a.values.join(','), b.values.join(',')),
  );
  return { matchLabels, matchExpressions };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

type Token = { kind: 'word'; text: string } | { kind: 'op'; text: '=' | '==' | '!=' | '!' | '(' | ')' | ',' };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'op', text: c });
      i++;
    } else if (c === '=') {
      const double = text[i + 1] === '=';
      tokens.push({ kind: 'op', text: double ? '==' : '=' });
      i += double ? 2 : 1;
    } else if (c === '!') {
      const ne = text[i + 1] === '=';
      tokens.push({ kind: 'op', text: ne ? '!=' : '!' });
      i += ne ? 2 : 1;
    } else {
      let j = i;
      while (j < text.length && !' \t(),=!'.includes(text[j])) j++;
      tokens.push({ kind: 'word', text: text.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}

/**
 * Parses kubectl's selector syntax into a validated, normalized selector. `key=v` and `key==v`
 * are match labels; `key!=v` is NotIn (v); `key in (a,b)`, `key notin (a,b)`, `key` (Exists) and
 * `!key` (DoesNotExist) are expressions. "" is the empty selector. Throws a ValidationError
 * naming `field` and the position of the problem.
 */
export function parseLabelSelector(text: string, field = 'selector'): LabelSelector {
  if (text.length > MAX_SELECTOR_LENGTH) {
    throw new ValidationError(field, `longer than ${MAX_SELECTOR_LENGTH} characters`);
  }
  if (hasControlChars(text)) throw new ValidationError(field, 'must not contain control characters');
  const tokens = tokenize(text);
  const matchLabels: Record<string, string> = {};
  const matchExpressions: LabelSelectorRequirement[] = [];
  let pos = 0;
  const fail = (why: string): never => {
    throw new ValidationError(
      field,
      `${why} in ${quote(text)} (kubectl's syntax: k=v, k!=v, k in (a,b), k notin (a,b), k, !k; comma-separated)`,
    );
  };
  const word = (what: string): string => {
    const t = tokens[pos];
    if (t?.kind !== 'word') fail(`expected ${what}${t ? ` before ${quote(t.text)}` : ' at the end'}`);
    pos++;
    return (t as { text: string }).text;
  };
  const op = (text: string): boolean => {
    const t = tokens[pos];
    if (t?.kind === 'op' && t.text === text) {
      pos++;
      return true;
    }
    return false;
  };
  const valueSet = (): string[] => {
    if (!op('(')) fail('expected "(" after in/notin');
    const values: string[] = [];
    for (;;) {
      const t = tokens[pos];
      // an empty value is allowed between commas: "k in (a,)" holds for k=a and k=""
      if (t?.kind === 'word') {
        values.push(t.text);
        pos++;
      } else values.push('');
      if (op(')')) return values;
      if (!op(',')) fail('expected "," or ")" in a value set');
    }
  };
  if (tokens.length > 0) {
    for (;;) {
      if (op('!')) {
        matchExpressions.push({ key: word('a label key after "!"'), operator: 'DoesNotExist', values: [] });
      } else {
        const key = word('a label key');
        const t = tokens[pos];
        if (t?.kind === 'op' && (t.text === '=' || t.text === '==' || t.text === '!=')) {
          pos++;
          const next = tokens[pos];
          const value = next?.kind === 'word' ? (pos++, next.text) : '';
          if (t.text === '!=') matchExpressions.push({ key, operator: 'NotIn', values: [value] });
          else if (has(matchLabels, key) && matchLabels[key] !== value) {
            // k=a,k=b: both must hold (so nothing matches), as kubectl reads it
            matchExpressions.push({ key, operator: 'In', values: [value] });
          } else matchLabels[key] = value;
        } else if (t?.kind === 'word' && (t.text === 'in' || t.text === 'notin')) {
          pos++;
          matchExpressions.push({ key, operator: t.text === 'in' ? 'In' : 'NotIn', values: valueSet() });
        } else {
          matchExpressions.push({ key, operator: 'Exists', values: [] });
        }
      }
      if (pos >= tokens.length) break;
      if (!op(',')) fail(`unexpected ${quote(tokens[pos].text)}`);
    }
  }
  try {
    return checkLabelSelector(field, { matchLabels, matchExpressions });
  } catch (err) {
    // name the flag's text, not the structure the user never wrote
    if (err instanceof ValidationError) throw new ValidationError(field, `${err.reason} in ${quote(text)}`);
    throw err;
  }
}

/** kubectl's text for a selector: match labels first (by key), then expressions; "" for the empty one. */
export function formatLabelSelector(sel: LabelSelector | undefined): string {
  if (!sel) return '';
  const parts = Object.keys(sel.matchLabels ?? {})
    .sort()
    .map((k) => `${k}=${sel.matchLabels[k]}`);
  for (const r of sel.matchExpressions ?? []) {
    switch (r.operator) {
      case 'In':
        parts.push(`${r.key} in (${r.values.join(',')})`);
        break;
      case 'NotIn':
        parts.push(
          r.values.length === 1 ? `${r.key}!=${r.values[0]}` : `${r.key} notin (${r.values.join(',')})`,
        );
        break;
      case 'Exists':
        parts.push(r.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${r.key}`);
        break;
      default:
        parts.push(`${r.key} ${r.operator} (${r.values.join(',')})`);
    }
  }
  return parts.join(',');
}
