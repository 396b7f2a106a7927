// Flag values the CLI accepts: durations ("90s", "5m", "1h30m"), byte sizes ("64Mi"), k=v label lists and health expressions.
import {
  parseLabelSelector,
  type GroupVars,
  type HealthExpr,
  type LabelSelector,
  type LabelSelectorRequirement,
} from '../proto/index.js';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/** Go-style duration ("30s", "5m", "1h30m", or plain seconds "45") → seconds. */
export function parseDuration(value: string): number {
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const re = /(\d+)([smh])/g;
  let total = 0;
  let consumed = 0;
  for (const m of v.matchAll(re)) {
    total += Number(m[1]) * UNIT_SECONDS[m[2]];
    consumed += m[0].length;
  }
  if (consumed !== v.length || consumed === 0) {
    throw new Error(`invalid duration ${JSON.stringify(value)}: use e.g. 30s, 5m, 1h30m`);
  }
  return total;
}

/** "64Mi", "2M", "1048576" → bytes; for the --max-*-bytes flags. */
export function parseByteSize(value: string): number {
  const m = /^\s*(\d+)\s*(Ki|Mi|Gi|K|M|G)?B?\s*$/.exec(value);
  const unit: Record<string, number> = {
    Ki: 1024,
    Mi: 1024 * 1024,
    Gi: 1024 * 1024 * 1024,
    K: 1e3,
    M: 1e6,
    G: 1e9,
  };
  const n = m ? Number(m[1]) * (m[2] ? unit[m[2]] : 1) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new Error(`invalid size ${JSON.stringify(value).slice(0, 40)}: use bytes or e.g. 512Ki, 64Mi, 1Gi`);
  }
  return n;
}

/** A positive whole number flag value. */
export function parseCount(flag: string, value: string): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new Error(`invalid ${flag} ${JSON.stringify(value).slice(0, 40)}: use a positive whole number`);
  }
  return n;
}

/** "k=v,k2=v2" (possibly repeated) → map. */
export function parseLabels(values: string[] | undefined): Record<string, string> {
  const entries: Array<[string, string]> = [];
  for (const part of (values ?? []).flatMap((v) => v.split(','))) {
    if (!part.trim()) continue;
    const i = part.indexOf('=');
    if (i <= 0) throw new Error(`invalid label ${JSON.stringify(part.slice(0, 64))}: use key=value`);
    entries.push([part.slice(0, i).trim(), part.slice(i + 1).trim()]);
  }
  // fromEntries: a key such as "__proto__" stays an own key (and the hub refuses it by name)
  return Object.fromEntries(entries);
}

/**
 * Repeated "--var name=value" → map. The value is everything after the first '=', kept as given
 * (commas, spaces and '=' included); the hub checks names and values.
 */
export function parseVars(values: string[] | undefined): Record<string, string> {
  const entries: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const item of values ?? []) {
    const i = item.indexOf('=');
    if (i <= 0) throw new Error(`invalid --var ${JSON.stringify(item.slice(0, 64))}: use name=value`);
    const name = item.slice(0, i);
    if (seen.has(name)) throw new Error(`--var ${JSON.stringify(name.slice(0, 64))} is given twice`);
    seen.add(name);
    entries.push([name, item.slice(i + 1)]);
  }
  // fromEntries: a name such as "__proto__" stays an own key (and the hub refuses it by name)
  return Object.fromEntries(entries);
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * --health-expr values, "apiVersion/Kind:role=EXPR" (role current, inProgress or failed; the
 * expression is everything after the first '='): one HealthExpr per kind, in the order given.
 */
export function parseHealthExprs(values: string[] | undefined): HealthExpr[] {
  const byKind = new Map<string, HealthExpr>();
  for (const v of values ?? []) {
    const m = /^([^:=\s]+)\/([A-Za-z0-9]+):(current|inProgress|failed)=(.*)$/s.exec(v);
    if (!m) {
      throw new Error(
        `--health-expr ${JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v)}: use apiVersion/Kind:role=EXPR with role current, inProgress or failed, e.g. 'example.com/v1/Widget:current=status.phase == "Ready"'`,
      );
    }
    const [, apiVersion, kind, role, expr] = m;
    const key = `${apiVersion}/${kind}`;
    const e = byKind.get(key) ?? { apiVersion, kind, current: '', inProgress: '', failed: '' };
    e[role as 'current' | 'inProgress' | 'failed'] = expr;
    byKind.set(key, e);
  }
  return [...byKind.values()];
}

/**
 * --selector in kubectl's syntax ("env in (prod,staging),tier!=gold,!canary,region") → the match
 * labels and expressions the API carries; '' is the empty selector. Errors name the flag.
 */
export function parseSelectorFlag(text: string | undefined): {
  selector: Record<string, string>;
  matchExpressions: LabelSelectorRequirement[];
} {
  const sel = parseLabelSelector(text ?? '', '--selector');
  return { selector: sel.matchLabels, matchExpressions: sel.matchExpressions };
}

/** --selector of a cluster group: the label selector itself. */
export function parseLabelSelectorFlag(text: string | undefined): LabelSelector {
  return parseLabelSelector(text ?? '', '--selector');
}

/**
 * Repeated "--group-var GROUP:name=value" → one GroupVars per group, in the order given. The hub
 * checks group names, variable names and values.
 */
export function parseGroupVars(values: string[] | undefined): GroupVars[] {
  const byGroup = new Map<string, string[]>();
  for (const item of values ?? []) {
    const colon = item.indexOf(':');
    const eq = item.indexOf('=');
    if (colon <= 0 || eq < colon + 2) {
      throw new Error(`invalid --group-var ${JSON.stringify(item.slice(0, 64))}: use GROUP:name=value`);
    }
    const group = item.slice(0, colon);
    byGroup.set(group, [...(byGroup.get(group) ?? []), item.slice(colon + 1)]);
  }
  return [...byGroup].map(([group, vars]) => {
    try {
      return { group, vars: parseVars(vars) };
    } catch (err) {
      throw new Error(`--group-var ${group}: ${(err as Error).message}`);
    }
  });
}
