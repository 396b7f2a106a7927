// The plain renderer: every .yaml/.yml file under the assignment path, in a deterministic order,
// parsed as multi-document YAML. Objects get the assignment's target namespace when they are
// namespaced and have none, and gitfleet's ownership labels. Anything malformed is a BuildFailed
// error naming the file (and the line or document), and nothing of the revision is applied.
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, posix, relative, resolve, sep } from 'node:path';
import { LineCounter, parseAllDocuments, type Tags } from 'yaml';
import { LABEL_ASSIGNMENT, LABEL_MANAGED_BY, MANAGED_BY, LABEL_TENANT } from '../../../proto/index.js';
import { buildError } from '../../errors.js';
import { setNativeDefaults } from '../defaults.js';
import {
  describeRef,
  groupOf,
  isPlainObject,
  labelValue,
  refKey,
  refOf,
  type ManifestObject,
  type Scope,
} from '../../kube/objects.js';

/** Whether a kind is namespaced, from the API server's discovery; undefined when unknown. */
export type ScopeResolver = (apiVersion: string, kind: string) => Promise<Scope | undefined>;

export interface RenderedObject {
  object: ManifestObject;
  /** File relative to the checkout root, with forward slashes. */
  file: string;
  /** 1-based index of the YAML document in the file. */
  document: number;
}

export interface RenderOptions {
  /** Root of the checkout. */
  root: string;
  /** The assignment's path inside the checkout ("" or "." for the root). */
  path: string;
  /** Namespace for namespaced objects that name none. */
  targetNamespace: string;
  tenant: string;
  assignment: string;
  scopeOf: ScopeResolver;
}

/** A document as parsed, before namespaces and labels. */
export interface ParsedObject {
  object: ManifestObject;
  file: string;
  document: number;
}

const MANIFEST_FILE = /\.ya?ml$/i;
/** Larger files are refused rather than read into memory. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

/**
 * YAML 1.1 as kubectl reads it (go-yaml v2): `0644` is octal and `yes`/`on` are booleans; but
 * no timestamps, sexagesimal numbers or !!binary, which kubectl leaves as strings.
 */
function kubectlTags(tags: Tags): Tags {
  const dropped = (t: Tags[number]): boolean => {
    if (typeof t === 'string')
      return t === 'timestamp' || t === 'binary' || t === 'intTime' || t === 'floatTime';
    return (
      t.tag === 'tag:yaml.org,2002:timestamp' ||
      t.tag === 'tag:yaml.org,2002:binary' ||
      ('format' in t && t.format === 'TIME')
    );
  };
  return tags.filter((t) => !dropped(t));
}

/** Parses one file's text into Kubernetes objects (List kinds expanded). */
export function parseManifests(file: string, text: string): ParsedObject[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, version: '1.1', customTags: kubectlTags });
  const out: ParsedObject[] = [];
  // parseAllDocuments returns an EmptyStream (an empty array) for a file without documents
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    const document = i + 1;
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
      const what = e.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
      throw buildError(`${file}: YAML syntax error at line ${pos.line}, column ${pos.col}: ${what}`, e);
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      throw buildError(`${file} (document ${document}): ${(err as Error).message}`, err);
    }
    if (value === null || value === undefined) return; // empty document or only comments
    const line = lineCounter.linePos(doc.contents?.range[0] ?? doc.range[0]).line;
    const where = `${file} (document ${document}, line ${line})`;
    if (!isPlainObject(value)) throw buildError(`${where}: not a Kubernetes object (a YAML mapping)`);
    if (isListKind(value)) {
      (value.items as unknown[]).forEach((item, j) => {
        out.push({ object: validObject(item, `${where}, item ${j + 1}`), file, document });
      });
    } else {
      out.push({ object: validObject(value, where), file, document });
    }
  });
  return out;
}

function isListKind(value: Record<string, unknown>): boolean {
  return (
    typeof value.kind === 'string' &&
    value.kind.endsWith('List') &&
    typeof value.apiVersion === 'string' &&
    Array.isArray(value.items)
  );
}

function validObject(value: unknown, where: string): ManifestObject {
  if (!isPlainObject(value)) throw buildError(`${where}: not a Kubernetes object (a YAML mapping)`);
  const missing: string[] = [];
  if (typeof value.apiVersion !== 'string' || value.apiVersion === '') missing.push('apiVersion');
  if (typeof value.kind !== 'string' || value.kind === '') missing.push('kind');
  const meta = value.metadata;
  if (!isPlainObject(meta) || typeof meta.name !== 'string' || meta.name === '')
    missing.push('metadata.name');
  if (missing.length > 0) throw buildError(`${where}: missing ${missing.join(', ')}`);
  const m = meta as Record<string, unknown>;
  if (m.namespace !== undefined && m.namespace !== null && typeof m.namespace !== 'string') {
    throw buildError(`${where}: metadata.namespace must be a string`);
  }
  for (const field of ['labels', 'annotations'] as const) {
    const v = m[field];
    if (v !== undefined && v !== null && !isPlainObject(v)) {
      throw buildError(`${where}: metadata.${field} must be a mapping`);
    }
  }
  return value as unknown as ManifestObject;
}

/** Lists manifest files under `dir`, relative to `root`, sorted; dot-entries are skipped. */
export async function listManifestFiles(root: string, dir: string): Promise<string[]> {
  const realRoot = await realpath(root);
  const files: string[] = [];
  const walk = async (abs: string): Promise<void> => {
    const entries = await readdir(abs, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const child = join(abs, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        // a checkout must not read files outside itself through a link
        const target = await realpath(child).catch(() => undefined);
        if (!target || !(target === realRoot || target.startsWith(realRoot + sep))) {
          throw buildError(`${toPosix(relative(root, child))}: symbolic link points outside the repository`);
        }
        const st = await stat(target);
        isDir = st.isDirectory();
        isFile = st.isFile();
      }
      if (isDir) await walk(child);
      else if (isFile && MANIFEST_FILE.test(e.name)) files.push(toPosix(relative(root, child)));
    }
  };
  await walk(dir);
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function toPosix(p: string): string {
  return p.split(sep).join(posix.sep);
}

/** Resolves the assignment path inside the checkout; it may not leave it. */
async function resolvePath(root: string, path: string): Promise<{ abs: string; isDir: boolean }> {
  const clean = path.replace(/^\/+/, '') || '.';
  const abs = resolve(root, clean);
  const rel = relative(resolve(root), abs);
  if (rel === '..' || rel.startsWith(`..${sep}`)) {
    throw buildError(`path ${JSON.stringify(path)} points outside the repository`);
  }
  const st = await lstat(abs).catch(() => undefined);
  if (!st) throw buildError(`path ${JSON.stringify(path)} not found in the revision`);
  const real = await realpath(abs);
  const realRoot = await realpath(root);
  if (!(real === realRoot || real.startsWith(realRoot + sep))) {
    throw buildError(`path ${JSON.stringify(path)} points outside the repository`);
  }
  return { abs, isDir: (await stat(abs)).isDirectory() };
}

/** Reads and parses every manifest of the assignment path. */
export async function readManifests(root: string, path: string): Promise<ParsedObject[]> {
  const { abs, isDir } = await resolvePath(root, path);
  const files = isDir ? await listManifestFiles(root, abs) : [toPosix(relative(root, abs))];
  const out: ParsedObject[] = [];
  for (const file of files) {
    const size = (await stat(join(root, file))).size;
    if (size > MAX_FILE_BYTES) {
      throw buildError(
        `${file}: ${size} bytes is more than the ${MAX_FILE_BYTES} bytes a manifest file may have`,
      );
    }
    const text = await readFile(join(root, file), 'utf8');
    out.push(...parseManifests(file, text));
  }
  return out;
}

/**
 * Namespaces, ownership labels and duplicate detection. CRDs of the same revision count as
 * discovery for their custom resources (the CRD is applied first).
 */
export async function finalizeObjects(
  parsed: ParsedObject[],
  opts: Pick<RenderOptions, 'targetNamespace' | 'tenant' | 'assignment' | 'scopeOf'>,
): Promise<RenderedObject[]> {
  const crdScopes = new Map<string, Scope>();
  for (const { object } of parsed) {
    if (object.kind === 'CustomResourceDefinition' && groupOf(object.apiVersion) === 'apiextensions.k8s.io') {
      const spec = object.spec as { group?: string; scope?: string; names?: { kind?: string } } | undefined;
      if (spec?.group && spec.names?.kind && (spec.scope === 'Namespaced' || spec.scope === 'Cluster')) {
        crdScopes.set(`${spec.group}/${spec.names.kind}`, spec.scope);
      }
    }
  }
  const seen = new Map<string, RenderedObject>();
  const out: RenderedObject[] = [];
  for (const p of parsed) {
    const object = structuredClone(p.object);
    const meta = object.metadata;
    const scope =
      (await opts.scopeOf(object.apiVersion, object.kind)) ??
      crdScopes.get(`${groupOf(object.apiVersion)}/${object.kind}`);
    if (scope === 'Cluster') {
      delete meta.namespace;
    } else if (!meta.namespace) {
      // namespaced, or unknown (most custom resources are namespaced; apply reports a missing kind)
      meta.namespace = opts.targetNamespace;
    }
    setNativeDefaults(object);
    meta.labels = {
      ...(meta.labels ?? {}),
      [LABEL_MANAGED_BY]: MANAGED_BY,
      [LABEL_TENANT]: labelValue(opts.tenant),
      [LABEL_ASSIGNMENT]: labelValue(opts.assignment),
    };
    const rendered: RenderedObject = { object, file: p.file, document: p.document };
    const key = refKey(refOf(object));
    const dup = seen.get(key);
    if (dup) {
      throw buildError(
        `duplicate object ${describeRef(refOf(object))}: in ${dup.file} (document ${dup.document}) and in ${p.file} (document ${p.document})`,
      );
    }
    seen.set(key, rendered);
    out.push(rendered);
  }
  return out;
}

/** Renders an assignment path of a checkout into the objects to apply. */
export async function renderPlain(opts: RenderOptions): Promise<RenderedObject[]> {
  const parsed = await readManifests(opts.root, opts.path);
  return finalizeObjects(parsed, opts);
}
