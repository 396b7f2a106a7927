// The one validation of the fields that cross the API and the bus (names, repo URLs, paths, refs,
// revisions), used by the hub on every request and by the agent on every desired set it reads:
// a forged or corrupted message must be refused by the agent exactly as the hub would refuse
// the request that could have produced it. Pure, linear in its input, and it fails fast on
// huge values; messages name the field and echo at most QUOTE_MAX characters of a bad value.
import { isDnsLabel } from '../../lib/names.js';
import { isDigest, ociUrlProblem } from '../../lib/oci/oci-reference.js';
import { parseGitRevision } from './revision.js';

/** A field is malformed. The message always starts with the field path ("repo.url: …"). */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** Longest repo URL accepted (git itself and every host stay far below). */
export const MAX_URL_LENGTH = 2048;
/** Longest path inside a repo. */
export const MAX_PATH_LENGTH = 1024;
/** Longest branch or tag name. */
export const MAX_REF_LENGTH = 255;
/** How much of a bad value an error message echoes. */
export const QUOTE_MAX = 64;

/** A value for an error message: JSON-quoted, cut to QUOTE_MAX characters with its length. */
export function quote(value: string): string {
  if (value.length <= QUOTE_MAX) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, QUOTE_MAX))}… (${value.length} characters)`;
}

/** True when `s` has an ASCII control character (0x00-0x1f, 0x7f). */
export function hasControlChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * Throws a ValidationError naming `field` unless `value` is a DNS-1123 label: the names of
 * tenants, repos, clusters, assignments and namespaces, which are also NATS subject tokens and
 * KV keys (so never '.', '*' or '>').
 */
export function checkDnsLabel(field: string, value: string): string {
  if (value === '') throw new ValidationError(field, 'required');
  if (!isDnsLabel(value)) {
    throw new ValidationError(
      field,
      `${quote(value)} is not a valid name: use lowercase letters, digits and '-', starting and ending with a letter or digit (DNS-1123 label, at most 63 characters)`,
    );
  }
  return value;
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A DNS-1123 subdomain (ServiceAccount names, label key prefixes): at most 253 characters. */
export function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}

/**
 * The name of a Kubernetes Secret an assignment refers to (SOPS decryption keys), or '' for none:
 * a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters), so it is
 * safe in an API path the agent builds.
 */
export function checkSecretName(field: string, value: string): string {
  if (value === '') return '';
  if (!isDnsSubdomain(value)) {
    throw new ValidationError(
      field,
      `${quote(value)} is not a valid Secret name: use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (DNS-1123 subdomain, at most 253 characters)`,
    );
  }
  return value;
}

// user@host:path, where user and host cannot start with '-' (git would read an option)
const SCP_LIKE = /^(?:[A-Za-z0-9._~][A-Za-z0-9._~-]*@)?[A-Za-z0-9][A-Za-z0-9.-]*:(?!\/\/)[^\s]+$/;
// git's "<transport>::<address>" (remote helpers such as ext:: and fd::)
const REMOTE_HELPER = /^[A-Za-z][A-Za-z0-9+.-]*::/;
const URL_SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
const ALLOWED_SCHEMES = ['http', 'https', 'ssh', 'git'];

/**
 * Checks a git remote URL: http(s)://, ssh://, git:// or scp-like user@host:path. Refuses other
 * transports (file://, ext::, fd::, local paths), anything git could read as an option, spaces,
 * control characters, credentials in the URL and more than MAX_URL_LENGTH characters.
 */
/** An oci://host[:port]/repository URL (no tag or digest in it: those are separate fields). */
export function checkOciUrl(field: string, url: string): string {
  if (!url) throw new ValidationError(field, 'required');
  if (/\s/.test(url) || hasControlChars(url))
    throw new ValidationError(field, 'must not contain spaces or control characters');
  const problem = ociUrlProblem(url);
  if (problem) throw new ValidationError(field, problem);
  return url;
}

/** A manifest digest: "sha256:" and 64 lowercase hex digits. */
export function checkDigest(field: string, digest: string): string {
  if (!isDigest(digest))
    throw new ValidationError(
      field,
      `${quote(digest.slice(0, 80))} is not a digest ("sha256:" and 64 hex digits)`,
    );
  return digest;
}

export function checkGitUrl(field: string, url: string): string {
  const bad = (why: string): never => {
    throw new ValidationError(field, why);
  };
  if (!url) bad('required');
  if (url.length > MAX_URL_LENGTH) bad(`is ${url.length} characters long (at most ${MAX_URL_LENGTH})`);
  if (/\s/.test(url) || hasControlChars(url)) bad('must not contain spaces or control characters');
  if (url.startsWith('-')) bad('must not start with "-" (git would read it as an option)');
  if (REMOTE_HELPER.test(url))
    bad('remote helpers ("<transport>::") are not allowed: use an http(s), ssh or git URL');
  const scheme = URL_SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (SCP_LIKE.test(url)) {
      const path = url.slice(url.indexOf(':') + 1);
      if (path.startsWith('-')) bad('the path must not start with "-"');
      return url;
    }
    bad('must be an http(s), ssh or git URL (e.g. https://host/org/repo.git or git@host:org/repo.git)');
  }
  if (!ALLOWED_SCHEMES.includes(scheme!)) bad('must be an http(s), ssh or git URL');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return bad('is not a valid URL');
  }
  if (!parsed.hostname) bad('has no host');
  if (parsed.hostname.startsWith('-') || /^(?:-|%2d)/i.test(parsed.username)) {
    bad('host and user must not start with "-"');
  }
  if (parsed.password || (parsed.username && scheme !== 'ssh')) {
    bad('must not contain credentials: put them in repo.credentials');
  }
  return url;
}

/** Why `name` is not usable as a branch or tag name, or undefined (a subset of git check-ref-format). */
export function refNameProblem(name: string): string | undefined {
  if (name.length > MAX_REF_LENGTH) return 'is too long';
  if (name.startsWith('refs/')) return 'give the short name, without "refs/heads/" or "refs/tags/"';
  if (name.startsWith('-')) return 'must not start with "-"';
  if (hasControlChars(name) || /[ ~^:?*[\\]/.test(name))
    return 'contains a character git does not allow in ref names';
  if (name.includes('..') || name.includes('@{') || name.includes('//') || name === '@') {
    return 'is not a valid git ref name';
  }
  if (name.startsWith('/') || name.endsWith('/') || name.endsWith('.') || name.endsWith('.lock')) {
    return 'is not a valid git ref name';
  }
  if (name.split('/').some((part) => part.startsWith('.'))) return 'is not a valid git ref name';
  return undefined;
}

/** A path inside the repo, normalized: relative, no "..", "." for the root. */
export function checkRepoPath(field: string, path: string): string {
  if (path.length > MAX_PATH_LENGTH)
    throw new ValidationError(field, `is ${path.length} characters long (at most ${MAX_PATH_LENGTH})`);
  if (hasControlChars(path)) throw new ValidationError(field, 'must not contain control characters');
  if (path.includes('\\')) throw new ValidationError(field, 'use "/" as the separator');
  if (path.startsWith('/'))
    throw new ValidationError(field, 'must be relative to the repo root (no leading "/")');
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new ValidationError(field, 'must not contain ".."');
  return parts.length ? parts.join('/') : '.';
}

const COMMIT = /^[0-9a-f]{40}$/;

/** A full commit SHA: 40 lowercase hex characters. */
export function checkCommit(field: string, commit: string): string {
  if (!COMMIT.test(commit))
    throw new ValidationError(field, `${quote(commit)} is not a full 40-character commit SHA`);
  return commit;
}

/** A git revision "<ref>@sha1:<commit>" (proto/contract/revision.ts) whose ref is a valid ref name. */
export function checkGitRevision(field: string, revision: string): string {
  if (revision.length > MAX_REF_LENGTH + 46)
    throw new ValidationError(field, `${quote(revision)} is too long`);
  let ref: string;
  try {
    ref = parseGitRevision(revision).ref;
  } catch {
    throw new ValidationError(field, `${quote(revision)} is not a git revision (want "<ref>@sha1:<40 hex>")`);
  }
  const problem = ref ? refNameProblem(ref) : undefined;
  if (problem) throw new ValidationError(field, `ref ${quote(ref)} ${problem}`);
  return revision;
}

/** A substitution variable's name, as Flux's postBuild requires (`${name}` in manifests). */
export const VAR_NAME = /^[_a-zA-Z][_a-zA-Z0-9]*$/;
/** Variables a tenant or an assignment may set. */
export const MAX_VARS = 100;
/** Longest variable name (a label-derived one, cluster_label_<prefix/name>, stays below). */
export const MAX_VAR_NAME_LENGTH = 512;
/** Longest variable value, in bytes of UTF-8. */
export const MAX_VAR_VALUE_BYTES = 4096;
/**
 * Variables of a merged substitution in a desired set: the tenant's and the assignment's, plus
 * cluster_name and one per cluster label. Generous; the bus's payload limit bounds it too.
 */
export const MAX_MERGED_VARS = 1000;

/**
 * Checks a map of substitution variables: at most `max` of them, names like `cluster_region`
 * (letters, digits and '_', not starting with a digit, at most MAX_VAR_NAME_LENGTH), values of at
 * most MAX_VAR_VALUE_BYTES without NUL or control characters other than tab and line breaks.
 * Returns a copy with sorted names (a stable desired-set hash).
 */
export function checkVars(
  field: string,
  vars: Record<string, string> | undefined | null,
  max: number = MAX_VARS,
): Record<string, string> {
  const given = vars ?? {};
  const names = Object.keys(given);
  if (names.length > max) throw new ValidationError(field, `${names.length} variables (at most ${max})`);
  const out: Record<string, string> = {};
  for (const name of names.sort()) {
    const value = given[name];
    const f = `${field}[${quote(name)}]`;
    if (name.length > MAX_VAR_NAME_LENGTH || !VAR_NAME.test(name)) {
      throw new ValidationError(
        f,
        `${quote(name)} is not a variable name: use letters, digits and '_', not starting with a digit (as Flux's postBuild)`,
      );
    }
    // a valid name, but an object key JavaScript treats as the prototype (decoders, spreads)
    if (name === '__proto__') throw new ValidationError(f, '"__proto__" is reserved: choose another name');
    if (typeof value !== 'string') throw new ValidationError(f, 'the value must be a string');
    if (Buffer.byteLength(value) > MAX_VAR_VALUE_BYTES) {
      throw new ValidationError(
        f,
        `the value has ${Buffer.byteLength(value)} bytes (at most ${MAX_VAR_VALUE_BYTES})`,
      );
    }
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(value)) {
      throw new ValidationError(
        f,
        'the value contains NUL or a control character (only tab and line breaks)',
      );
    }
    out[name] = value;
  }
  return out;
}

/** Longest helm release name: helm refuses more (its names end up in labels with suffixes). */
export const MAX_HELM_RELEASE_LENGTH = 53;
/** Most values files an assignment lists. */
export const MAX_HELM_VALUES_FILES = 32;
/** Most inline "key=value" entries an assignment sets (larger values belong in a values file). */
export const MAX_HELM_SET = 64;
/** Longest inline "key=value" entry. */
export const MAX_HELM_SET_LENGTH = 1024;
/** Longest key of an inline entry. */
export const MAX_HELM_KEY_LENGTH = 253;

// a helm --set path: segments of [A-Za-z0-9_/-] or escaped dots ("prometheus\.io/scrape"),
// joined by ".", each with optional list indexes ("a[0].b"); unambiguous, so linear to match
const HELM_KEY =
  /^(?:[A-Za-z0-9_/-]|\\\.)+(?:\[(?:0|[1-9]\d{0,4})\])*(?:\.(?:[A-Za-z0-9_/-]|\\\.)+(?:\[(?:0|[1-9]\d{0,4})\])*)*$/;

/** The helm options of an assignment (the rendering side of HelmOptions), normalized. */
export interface HelmSpec {
  releaseName: string;
  valuesFiles: string[];
  set: string[];
}

/**
 * Checks an assignment's helm options; undefined when none is set (so assignments without them
 * keep their desired sets byte for byte). Release name: a DNS-1123 label of at most 53
 * characters, as helm requires. Values files: files inside the chart directory (relative, no
 * "..", no URL, not "-", which helm reads as stdin), normalized. Inline values: "key=value" with
 * a helm path as key, one pair per entry (helm's --set reads an unescaped ',' as the start of
 * another pair; "{a,b}" lists are fine), no control characters. Counts and lengths are bounded.
 */
export function checkHelmOptions(
  field: string,
  helm: Partial<HelmSpec> | null | undefined,
): HelmSpec | undefined {
  if (!helm) return undefined;
  const releaseName = helm.releaseName ?? '';
  const files = helm.valuesFiles ?? [];
  const set = helm.set ?? [];
  if (!releaseName && files.length === 0 && set.length === 0) return undefined;

  if (releaseName && (releaseName.length > MAX_HELM_RELEASE_LENGTH || !isDnsLabel(releaseName))) {
    throw new ValidationError(
      `${field}.release_name`,
      `${quote(releaseName)} is not a valid helm release name: use lowercase letters, digits and '-', starting and ending with a letter or digit, at most ${MAX_HELM_RELEASE_LENGTH} characters`,
    );
  }

  if (files.length > MAX_HELM_VALUES_FILES)
    throw new ValidationError(
      `${field}.values_files`,
      `${files.length} files (at most ${MAX_HELM_VALUES_FILES})`,
    );
  const valuesFiles = files.map((file, i) => checkValuesFile(`${field}.values_files[${i}]`, file));

  if (set.length > MAX_HELM_SET)
    throw new ValidationError(
      `${field}.set`,
      `${set.length} entries (at most ${MAX_HELM_SET}): put the values in a values file`,
    );
  set.forEach((entry, i) => checkHelmSet(`${field}.set[${i}]`, entry));

  return { releaseName, valuesFiles, set: [...set] };
}

function checkValuesFile(field: string, file: string): string {
  if (file === '') throw new ValidationError(field, 'is empty: give a file inside the chart directory');
  if (file.length > MAX_PATH_LENGTH)
    throw new ValidationError(field, `is ${file.length} characters long (at most ${MAX_PATH_LENGTH})`);
  if (file.includes(':'))
    throw new ValidationError(
      field,
      `${quote(file)}: must be a file inside the chart directory, not a URL (no ':')`,
    );
  if (file.startsWith('-')) throw new ValidationError(field, `${quote(file)} must not start with "-"`);
  const path = checkRepoPath(field, file);
  if (path === '.') throw new ValidationError(field, `${quote(file)} is a directory: give a values file`);
  return path;
}

function checkHelmSet(field: string, entry: string): void {
  if (entry.length > MAX_HELM_SET_LENGTH) {
    throw new ValidationError(
      field,
      `is ${entry.length} characters long (at most ${MAX_HELM_SET_LENGTH}): put large values in a values file`,
    );
  }
  if (hasControlChars(entry))
    throw new ValidationError(field, 'must not contain control characters (line breaks included)');
  const eq = entry.indexOf('=');
  if (eq < 0) throw new ValidationError(field, `${quote(entry)} is not "key=value"`);
  const key = entry.slice(0, eq);
  const value = entry.slice(eq + 1);
  // never '-' first: the agent's argv then never holds an entry helm could read as an option
  if (!key || key.length > MAX_HELM_KEY_LENGTH || key.startsWith('-') || !HELM_KEY.test(key)) {
    throw new ValidationError(
      field,
      `key ${quote(key)} is not a helm value path (e.g. "image.tag", "ingress.hosts[0].host", "podAnnotations.prometheus\\.io/scrape")`,
    );
  }
  if (!(value.startsWith('{') && value.endsWith('}')) && hasUnescapedComma(value)) {
    throw new ValidationError(
      field,
      `${quote(entry)}: helm reads an unescaped ',' as the start of another key=value: give one pair per entry (escape a literal comma as "\\,")`,
    );
  }
}

function hasUnescapedComma(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === ',') return true;
  }
  return false;
}

/** Most dependencies an assignment lists (depends_on). */
export const MAX_DEPENDS_ON = 32;
/** Longest retry interval (the base of the failure backoff): one day. */
export const MAX_RETRY_INTERVAL_SECONDS = 86_400;

/**
 * An assignment's dependencies: names of assignments of the same tenant (so plain DNS labels:
 * "team-b/db" is refused with a hint), never itself, each once, at most MAX_DEPENDS_ON. Returns
 * them in the given order without duplicates. Whether they exist, and cycles, the hub checks
 * against its store (./dependencies.ts).
 */
export function checkDependsOn(field: string, names: readonly string[] | undefined, self: string): string[] {
  const given = names ?? [];
  if (given.length > MAX_DEPENDS_ON) {
    throw new ValidationError(field, `${given.length} dependencies (at most ${MAX_DEPENDS_ON})`);
  }
  const out: string[] = [];
  given.forEach((name, i) => {
    const f = `${field}[${i}]`;
    if (typeof name === 'string' && name.includes('/')) {
      throw new ValidationError(
        f,
        `${quote(name)}: dependencies are assignments of the same tenant; give the name only (no "tenant/")`,
      );
    }
    checkDnsLabel(f, name);
    if (name === self) throw new ValidationError(f, `${quote(name)} is the assignment itself`);
    if (!out.includes(name)) out.push(name);
  });
  return out;
}

/** The base of an assignment's failure backoff in seconds: 0 (the agent's default) up to a day. */
export function checkRetryInterval(field: string, seconds: number | undefined): number {
  const s = seconds ?? 0;
  if (!Number.isSafeInteger(s) || s < 0 || s > MAX_RETRY_INTERVAL_SECONDS) {
    throw new ValidationError(
      field,
      `${String(s)} is not a whole number of seconds between 0 (the agent's default) and ${MAX_RETRY_INTERVAL_SECONDS} (one day)`,
    );
  }
  return s;
}

// ---- drift ----------------------------------------------------------------------------------

/** What the agent does with drift: re-apply at once, or only report it. */
export const DRIFT_MODES = ['correct', 'report'] as const;
export type DriftMode = (typeof DRIFT_MODES)[number];
/** Most ignore rules an assignment may hold, and the longest one. */
export const MAX_DRIFT_IGNORE = 32;
export const MAX_DRIFT_IGNORE_LENGTH = 256;

/** One parsed `--drift-ignore` rule: `[group/]Kind:/json/pointer`. */
export interface DriftIgnoreRule {
  /** The API group ('' for the core group), or undefined when the rule names only the kind. */
  group?: string;
  kind: string;
  /** The JSON pointer as given (RFC 6901). */
  pointer: string;
  /** The pointer's unescaped reference tokens ("~1" → "/", "~0" → "~"). */
  path: string[];
}

const KIND = /^[A-Z][A-Za-z0-9]{0,62}$/;
// fields that say what the object is and who owns it: ignoring them would make the object another
// object or hide it from the agent's watches and inventory
const UNIGNORABLE = ['/apiVersion', '/kind', '/metadata/name', '/metadata/namespace', '/metadata/uid'];

/**
 * Parses one drift-ignore rule, `Kind:/pointer` or `group/Kind:/pointer` (e.g.
 * `Deployment:/spec/replicas`, `apps/Deployment:/spec/replicas`), or throws a ValidationError
 * naming `field` and what to write instead.
 */
export function parseDriftIgnore(field: string, entry: string): DriftIgnoreRule {
  const usage = 'write KIND:/json/pointer or GROUP/KIND:/json/pointer, e.g. "apps/Deployment:/spec/replicas"';
  if (entry.length > MAX_DRIFT_IGNORE_LENGTH)
    throw new ValidationError(
      field,
      `is ${entry.length} characters long (at most ${MAX_DRIFT_IGNORE_LENGTH})`,
    );
  if (hasControlChars(entry)) throw new ValidationError(field, 'must not contain control characters');
  const colon = entry.indexOf(':');
  if (colon < 0)
    throw new ValidationError(field, `${quote(entry)} has no ':' between the kind and the pointer: ${usage}`);
  const target = entry.slice(0, colon);
  const pointer = entry.slice(colon + 1);
  const slash = target.lastIndexOf('/');
  const group = slash < 0 ? undefined : target.slice(0, slash);
  const kind = slash < 0 ? target : target.slice(slash + 1);
  if (group !== undefined && group !== '' && !isDnsSubdomain(group))
    throw new ValidationError(
      field,
      `${quote(group)} is not an API group (a DNS subdomain such as "apps"): ${usage}`,
    );
  if (!KIND.test(kind))
    throw new ValidationError(
      field,
      `${quote(kind)} is not a kind (CamelCase such as "Deployment"): ${usage}`,
    );
  if (!pointer.startsWith('/') || pointer === '/')
    throw new ValidationError(
      field,
      `${quote(pointer)} is not a JSON pointer to a field (it starts with '/', as "/spec/replicas"): ${usage}`,
    );
  const path = pointer
    .slice(1)
    .split('/')
    .map((token) => {
      if (/~[^01]|~$/.test(token))
        throw new ValidationError(
          field,
          `${quote(pointer)}: '~' must be written "~0" and '/' inside a key "~1" (RFC 6901)`,
        );
      return token.replace(/~1/g, '/').replace(/~0/g, '~');
    });
  if (path.some((t) => t === ''))
    throw new ValidationError(field, `${quote(pointer)} has an empty key ('//' or a trailing '/')`);
  const identity = UNIGNORABLE.find((u) => pointer === u || pointer.startsWith(`${u}/`));
  const whole = pointer === '/metadata' || pointer === '/metadata/labels';
  const ownership =
    path[0] === 'metadata' && path[1] === 'labels' && (path[2] ?? '').startsWith('gitfleet.dev/');
  if (identity || whole || ownership)
    throw new ValidationError(
      field,
      `${quote(pointer)} says which object this is or that gitfleet owns it, and cannot be ignored: name a field such as "/spec/replicas"`,
    );
  return { ...(group !== undefined ? { group } : {}), kind, pointer, path };
}

/**
 * Checks an assignment's drift options; undefined for the defaults (mode "correct", no ignore
 * rules), so assignments without them keep their desired sets byte for byte.
 */
export function checkDriftOptions(
  field: string,
  drift: { mode?: string; ignore?: string[] } | null | undefined,
): { mode: string; ignore: string[] } | undefined {
  if (!drift) return undefined;
  const mode = drift.mode || 'correct';
  if (!(DRIFT_MODES as readonly string[]).includes(mode))
    throw new ValidationError(
      `${field}.mode`,
      `${quote(mode)} is not a drift mode: use "correct" (re-apply at once) or "report" (show it in status, write nothing)`,
    );
  const given = drift.ignore ?? [];
  if (given.length > MAX_DRIFT_IGNORE)
    throw new ValidationError(`${field}.ignore`, `${given.length} rules (at most ${MAX_DRIFT_IGNORE})`);
  const ignore: string[] = [];
  given.forEach((entry, i) => {
    parseDriftIgnore(`${field}.ignore[${i}]`, entry);
    if (!ignore.includes(entry)) ignore.push(entry);
  });
  if (mode === 'correct' && ignore.length === 0) return undefined;
  return { mode, ignore };
}
