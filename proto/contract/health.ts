// Health options of an assignment (wait, health checks, timeout, CEL expressions per kind): their
// syntax, limits and the one CEL environment. The hub checks them on every request and the agent
// on every desired set with the same function, and the agent compiles expressions with the same
// environment, so an expression the hub accepted is one the agent can evaluate.
import { Environment, type ParseResult } from '@marcbachmann/cel-js';
import type { HealthExpr, HealthOptions } from '../gen/gitfleet/v1/resources.js';
import { ValidationError, checkDnsLabel, isDnsSubdomain, quote } from './validation.js';

/** How long objects may take to become healthy when the assignment names no timeout (as Flux's 5m). */
export const DEFAULT_HEALTH_TIMEOUT_SECONDS = 300;
export const MAX_HEALTH_TIMEOUT_SECONDS = 24 * 3600;
export const MAX_HEALTH_CHECKS = 64;
export const MAX_HEALTH_EXPRS = 32;
/** Longest CEL expression, in characters (the AST limits below bound its work). */
export const MAX_HEALTH_EXPR_LENGTH = 2048;
/** How many objects a status lists as not healthy (its message gives the total). */
export const MAX_NOT_READY = 20;
/** Longest entry of that list, in characters. */
export const MAX_NOT_READY_LENGTH = 512;

/**
 * Expressions see the object's top-level fields as variables (metadata, spec, status, ...) as in
 * Flux; optional field access (`status.?phase.orValue("")`) is on. The limits bound parsing and
 * evaluation of hostile input: an expression is at most this many nodes and this deep.
 */
export const healthCel = new Environment({
  unlistedVariablesAreDyn: true,
  enableOptionalTypes: true,
  homogeneousAggregateLiterals: false,
  limits: { maxAstNodes: 256, maxDepth: 24, maxListElements: 64, maxMapEntries: 64, maxCallArguments: 8 },
});

/** The expression roles of a HealthExpr, in the order they are tried. */
export const HEALTH_EXPR_ROLES = ['inProgress', 'failed', 'current'] as const;
export type HealthExprRole = (typeof HEALTH_EXPR_ROLES)[number];

/** The proto field name of a role, for messages ("in_progress"). */
export function healthExprField(role: HealthExprRole): string {
  return role === 'inProgress' ? 'in_progress' : role;
}

/** The first line of a CEL error (its later lines draw the input with a caret). */
export function celErrorLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0].trim();
}

/**
 * Parses and type-checks one expression; throws a ValidationError naming `field` and echoing the
 * expression when it does not parse, exceeds the limits, or cannot give a bool.
 */
export function compileHealthExpr(field: string, expr: string): ParseResult {
  if (expr.length > MAX_HEALTH_EXPR_LENGTH) {
    throw new ValidationError(field, `${quote(expr)} is longer than ${MAX_HEALTH_EXPR_LENGTH} characters`);
  }
  let parsed: ParseResult;
  try {
    parsed = healthCel.parse(expr);
  } catch (err) {
    throw new ValidationError(field, `${quote(expr)} is not a valid CEL expression: ${celErrorLine(err)}`);
  }
  const checked = parsed.check();
  if (!checked.valid) {
    throw new ValidationError(
      field,
      `${quote(expr)} is not a valid CEL expression: ${celErrorLine(checked.error)}`,
    );
  }
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    throw new ValidationError(field, `${quote(expr)} gives a ${checked.type}, not a bool`);
  }
  return parsed;
}

/** One parsed health check: "Kind[.group]/namespace/name" or "Kind[.group]/name" (cluster-scoped). */
export interface HealthCheckRef {
  kind: string;
  /** "" for the core group. */
  group: string;
  /** "" for a cluster-scoped object. */
  namespace: string;
  name: string;
}

const KIND = /^[A-Z][A-Za-z0-9]{0,62}$/;

/** Parses a health check; throws a ValidationError naming `field` with the syntax when it is malformed. */
export function parseHealthCheck(field: string, value: string): HealthCheckRef {
  const syntax =
    'use Kind/namespace/name, or Kind/name for a cluster-scoped object; add the group after the kind (Widget.example.com/ns/name) for kinds outside the core, apps and batch groups that the assignment does not apply';
  const parts = value.split('/');
  if (parts.length < 2 || parts.length > 3) throw new ValidationError(field, `${quote(value)}: ${syntax}`);
  const [qualified, ...rest] = parts;
  const dot = qualified.indexOf('.');
  const kind = dot < 0 ? qualified : qualified.slice(0, dot);
  const group = dot < 0 ? '' : qualified.slice(dot + 1);
  if (!KIND.test(kind)) {
    throw new ValidationError(
      field,
      `${quote(value)}: ${quote(qualified)} is not a kind (PascalCase, e.g. Deployment); ${syntax}`,
    );
  }
  if (dot >= 0 && !isDnsSubdomain(group)) {
    throw new ValidationError(
      field,
      `${quote(value)}: ${quote(group)} is not an API group (e.g. example.com)`,
    );
  }
  const namespace = rest.length === 2 ? checkDnsLabel(`${field} namespace`, rest[0]) : '';
  const name = rest[rest.length - 1];
  if (!isDnsSubdomain(name) && !/^[A-Za-z0-9][-A-Za-z0-9_.:]{0,252}$/.test(name)) {
    throw new ValidationError(field, `${quote(value)}: ${quote(name)} is not an object name`);
  }
  return { kind, group, namespace, name };
}

/** "Deployment/web/podinfo" — how messages name a checked object. */
export function describeHealthCheck(c: HealthCheckRef): string {
  return `${c.kind}${c.group ? `.${c.group}` : ''}/${c.namespace ? `${c.namespace}/` : ''}${c.name}`;
}

const API_VERSION = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?v[0-9]+((alpha|beta)[0-9]+)?$/;

function checkHealthExpr(field: string, e: Partial<HealthExpr>): HealthExpr {
  const apiVersion = e.apiVersion ?? '';
  const kind = e.kind ?? '';
  if (!apiVersion) throw new ValidationError(`${field}.api_version`, 'required (e.g. example.com/v1)');
  if (apiVersion.length > 253 || !API_VERSION.test(apiVersion)) {
    throw new ValidationError(
      `${field}.api_version`,
      `${quote(apiVersion)} is not an apiVersion (group/version or v1)`,
    );
  }
  if (!KIND.test(kind)) {
    throw new ValidationError(`${field}.kind`, `${quote(kind)} is not a kind (PascalCase, e.g. Widget)`);
  }
  const out: HealthExpr = {
    apiVersion,
    kind,
    current: e.current ?? '',
    inProgress: e.inProgress ?? '',
    failed: e.failed ?? '',
  };
  if (!out.current) {
    throw new ValidationError(
      `${field}.current`,
      `required: the expression that is true when a ${kind} is healthy`,
    );
  }
  for (const role of HEALTH_EXPR_ROLES) {
    if (out[role]) compileHealthExpr(`${field}.${healthExprField(role)}`, out[role]);
  }
  return out;
}

/**
 * Validates an assignment's health options and returns them normalized, or undefined when there
 * are none (desired sets stay as they were). Expressions and a timeout without wait or checks are
 * refused rather than silently ignored.
 */
export function checkHealthOptions(
  field: string,
  input: Partial<HealthOptions> | undefined,
): HealthOptions | undefined {
  if (!input) return undefined;
  const checks = input.checks ?? [];
  const exprs = input.exprs ?? [];
  const timeoutSeconds = Number(input.timeoutSeconds ?? 0);
  if (checks.length > MAX_HEALTH_CHECKS) {
    throw new ValidationError(
      `${field}.checks`,
      `${checks.length} health checks; at most ${MAX_HEALTH_CHECKS}`,
    );
  }
  if (exprs.length > MAX_HEALTH_EXPRS) {
    throw new ValidationError(
      `${field}.exprs`,
      `${exprs.length} health expressions; at most ${MAX_HEALTH_EXPRS}`,
    );
  }
  const seenChecks = new Set<string>();
  const outChecks: string[] = [];
  checks.forEach((c, i) => {
    const ref = parseHealthCheck(`${field}.checks[${i}]`, c);
    const key = describeHealthCheck(ref);
    if (!seenChecks.has(key)) outChecks.push(c);
    seenChecks.add(key);
  });
  const seenKinds = new Set<string>();
  const outExprs = exprs.map((e, i) => {
    const checked = checkHealthExpr(`${field}.exprs[${i}]`, e);
    const key = `${checked.apiVersion}/${checked.kind}`;
    if (seenKinds.has(key)) {
      throw new ValidationError(`${field}.exprs[${i}]`, `${key} has expressions twice: give each kind once`);
    }
    seenKinds.add(key);
    return checked;
  });
  if (
    !Number.isInteger(timeoutSeconds) ||
    timeoutSeconds < 0 ||
    timeoutSeconds > MAX_HEALTH_TIMEOUT_SECONDS
  ) {
    throw new ValidationError(
      `${field}.timeout_seconds`,
      `${String(input.timeoutSeconds)} is not a timeout: use whole seconds from 1 to ${MAX_HEALTH_TIMEOUT_SECONDS} (0 = ${DEFAULT_HEALTH_TIMEOUT_SECONDS})`,
    );
  }
  const wait = Boolean(input.wait);
  if (!wait && outChecks.length === 0) {
    if (outExprs.length > 0 || timeoutSeconds > 0) {
      throw new ValidationError(
        `${field}.wait`,
        'a timeout or health expressions are given but nothing is waited for: set wait (--wait) or name objects (--health-check)',
      );
    }
    return undefined;
  }
  return { wait, checks: outChecks, timeoutSeconds, exprs: outExprs };
}

/** Whether the assignment waits for health at all. */
export function waitsForHealth(h: HealthOptions | undefined): h is HealthOptions {
  return Boolean(h && (h.wait || h.checks.length > 0));
}

/** The timeout in effect, in milliseconds. */
export function healthTimeoutMs(h: HealthOptions): number {
  return (h.timeoutSeconds || DEFAULT_HEALTH_TIMEOUT_SECONDS) * 1000;
}
