// The plain renderer: every .yaml/.yml/.json file under the assignment path, in a deterministic
// order, parsed as multi-document YAML (JSON is YAML). Documents with neither apiVersion nor kind
// (a values.yaml or package.json beside the manifests) are skipped and named in the status. Objects get the assignment's target namespace when they are
// namespaced and have none, and gitfleet's ownership labels. Anything malformed is a BuildFailed
// error naming the file (and the line or document), and nothing of the revision is applied.
// Reading is bounded (agent/limits.ts): files stay inside the checkout, documents are parsed one
// at a time (a file's whole syntax tree costs ~40 times its size), and counts and sizes are capped.
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, posix, relative, resolve, sep } from 'node:path';
import { Composer, isScalar, LineCounter, Parser, visit, type Document, type Scalar, type Tags } from 'yaml';
import {
  LABEL_ASSIGNMENT,
  LABEL_MANAGED_BY,
  MANAGED_BY,
  LABEL_TENANT,
  Reason,
} from '../../../proto/index.js';
import { buildError } from '../../errors.js';
import { DEFAULT_SOURCE_LIMITS, limitError, type SourceLimits } from '../../limits.js';
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
  /** Default DEFAULT_SOURCE_LIMITS. */
  limits?: SourceLimits;
}

/** A document as parsed, before namespaces and labels. */
export interface ParsedObject {
  object: ManifestObject;
  file: string;
  document: number;
}

const MANIFEST_FILE = /\.(?:ya?ml|json)$/i;
/** Larger files are refused rather than read into memory (the source limit is usually lower). */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

type ParseLimits = Pick<SourceLimits, 'maxDocumentBytes' | 'maxObjects' | 'maxYamlAliases'>;

/** Where a skipped document was: `file` and its 1-based document index. */
export interface SkippedDocument {
  file: string;
  document: number;
}

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

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/**
 * Refuses a document larger than the limit before any of it is parsed. A line starting with
 * `---` or `...` always ends a YAML document (no scalar may hold one), so this linear scan finds
 * every document's extent. Sizes are in characters of the text.
 */
function checkDocumentSizes(file: string, text: string, max: number): void {
  if (text.length <= max) return;
  let start = 0;
  const check = (end: number) => {
    if (end - start > max) {
      throw limitError(
        Reason.BuildFailed,
        `${file} (the YAML document at line ${lineAt(text, start)})`,
        `the document has ${end - start} bytes`,
        'maxDocumentBytes',
        max,
      );
    }
  };
  for (const m of text.matchAll(/^(?:---|\.\.\.)(?=[ \t\r\n]|$)/gm)) {
    check(m.index);
    start = m.index;
  }
  check(text.length);
}

/**
 * The first repeated key of any mapping in the document. yaml's own check (uniqueKeys) compares
 * every key with every earlier one, quadratic in a mapping's size; this one is linear.
 */
function duplicateKey(doc: Document.Parsed): Scalar | undefined {
  let found: Scalar | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const { key } of map.items) {
        if (!isScalar(key)) continue;
        // YAML 1.1 merge keys may repeat
        if (key.value === '<<' && !key.type?.startsWith('QUOTE')) continue;
        const id = `${typeof key.value}:${String(key.value)}`;
        if (seen.has(id)) {
          found = key;
          return visit.BREAK;
        }
        seen.add(id);
      }
      return undefined;
    },
  });
  return found;
}

/**
 * Parses one file's text into Kubernetes objects (List kinds expanded), one document at a time.
 * `counted` is the number of objects already rendered from earlier files of the revision.
 */
export function parseManifests(
  file: string,
  text: string,
  limits: ParseLimits = DEFAULT_SOURCE_LIMITS,
  counted = 0,
  /** Receives the documents that have neither apiVersion nor kind (not objects: skipped). */
  skipped?: SkippedDocument[],
): ParsedObject[] {
  checkDocumentSizes(file, text, limits.maxDocumentBytes);
  const lineCounter = new LineCounter();
  const parser = new Parser(lineCounter.addNewLine);
  const composer = new Composer({ version: '1.1', customTags: kubectlTags, uniqueKeys: false });
  const out: ParsedObject[] = [];
  let document = 0;
  const add = (object: ManifestObject) => {
    if (counted + out.length >= limits.maxObjects) {
      throw limitError(
        Reason.BuildFailed,
        `${file} (document ${document})`,
        `the revision has more objects`,
        'maxObjects',
        limits.maxObjects,
      );
    }
    out.push({ object, file, document });
  };
  const take = (doc: Document.Parsed) => {
    document++;
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
      const what = e.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
      throw buildError(`${file}: YAML syntax error at line ${pos.line}, column ${pos.col}: ${what}`, e);
    }
    const dup = duplicateKey(doc);
    if (dup) {
      const pos = lineCounter.linePos(dup.range?.[0] ?? 0);
      const key = JSON.stringify(String(dup.value).slice(0, 100));
      throw buildError(`${file}: duplicate key ${key} at line ${pos.line}, column ${pos.col}`);
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: limits.maxYamlAliases });
    } catch (err) {
      const message = (err as Error).message;
      if (/alias/i.test(message) && /resource|exhaust|count/i.test(message)) {
        throw limitError(
          Reason.BuildFailed,
          `${file} (document ${document})`,
          'YAML aliases expand to more nodes',
          'maxYamlAliases',
          limits.maxYamlAliases,
        );
      }
      throw buildError(`${file} (document ${document}): ${message}`, err);
    }
    if (value === null || value === undefined) return; // empty document or only comments
    const line = lineCounter.linePos(doc.contents?.range[0] ?? doc.range[0]).line;
    const where = `${file} (document ${document}, line ${line})`;
    if (!isPlainObject(value)) throw buildError(`${where}: not a Kubernetes object (a YAML mapping)`);
    if (value.apiVersion === undefined && value.kind === undefined && skipped) {
      skipped.push({ file, document });
      return;
    }
    if (isListKind(value)) {
      // its items would leave the sops metadata behind and reach the cluster still encrypted
      if ('sops' in value)
        throw buildError(
          `${where}: a SOPS-encrypted ${String(value.kind)} cannot be decrypted: encrypt each object as its own document`,
        );
      (value.items as unknown[]).forEach((item, j) => add(validObject(item, `${where}, item ${j + 1}`)));
    } else {
      add(validObject(value, where));
    }
  };
  for (const token of parser.parse(text)) for (const doc of composer.next(token)) take(doc);
  for (const doc of composer.end()) take(doc);
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

function inside(realRoot: string, target: string): boolean {
  return target === realRoot || target.startsWith(realRoot + sep);
}

/**
 * Lists manifest files under `dir`, relative to `root`, sorted; dot-entries are skipped. Every
 * symbolic link must resolve inside the checkout (a link to /etc/passwd or to the agent's
 * ServiceAccount token would otherwise be read and echoed into status); entries are counted
 * against maxFiles as the walk goes, so a huge tree is refused without listing all of it.
 */
export async function listManifestFiles(
  root: string,
  dir: string,
  maxFiles: number = DEFAULT_SOURCE_LIMITS.maxFiles,
): Promise<string[]> {
  const realRoot = await realpath(root);
  const files: string[] = [];
  let entriesSeen = 0;
  const walk = async (abs: string): Promise<void> => {
    const entries = await readdir(abs, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const child = join(abs, e.name);
      if (++entriesSeen > maxFiles) {
        throw limitError(
          Reason.BuildFailed,
          toPosix(relative(root, dir)) || '.',
          'the path holds more files and directories',
          'maxFiles',
          maxFiles,
        );
      }
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        const target = await realpath(child).catch(() => undefined);
        if (!target || !inside(realRoot, target)) {
          throw buildError(
            `${toPosix(relative(root, child))}: symbolic link points outside the repository (or nowhere); links must stay inside the checkout`,
          );
        }
        const st = await stat(target);
        isDir = st.isDirectory();
        isFile = st.isFile();
        // a link to a directory it is in would be walked forever
        if (isDir && inside(target, await realpath(abs))) {
          throw buildError(
            `${toPosix(relative(root, child))}: symbolic link loops back to a directory it is in`,
          );
        }
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

/**
 * Resolves the assignment path inside the checkout. The hub sends a normalized relative path;
 * the agent checks again (a forged desired set must not read the agent's own disk): no absolute
 * path, no "..", no backslash or control character, and its real path (after links) inside.
 */
export async function resolvePath(root: string, path: string): Promise<{ abs: string; isDir: boolean }> {
  const shown = JSON.stringify(path.slice(0, 200));
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(path)) {
    throw buildError(`path ${shown} has a backslash or a control character`);
  }
  if (path.startsWith('/'))
    throw buildError(`path ${shown} is absolute; it must be relative to the repo root`);
  if (path.split('/').includes('..')) throw buildError(`path ${shown} must not contain ".."`);
  const abs = resolve(root, path || '.');
  const realRoot = await realpath(root);
  if (!inside(resolve(root), abs)) throw buildError(`path ${shown} points outside the repository`);
  const st = await lstat(abs).catch(() => undefined);
  if (!st) throw buildError(`path ${shown} not found in the revision`);
  const real = await realpath(abs).catch(() => undefined);
  if (!real || !inside(realRoot, real)) {
    throw buildError(`path ${shown} is a symbolic link that points outside the repository`);
  }
  return { abs, isDir: (await stat(real)).isDirectory() };
}

/** The manifest files of an assignment path, listed before any is read. */
export interface ManifestListing {
  /** Files relative to the checkout root, sorted. */
  files: string[];
  /** Their sizes together: what reading and parsing them will hold (the render budget's weight). */
  bytes: number;
}

/** Lists the manifest files of the assignment path and their sizes, reading none of them. */
export async function listManifests(
  root: string,
  path: string,
  limits: SourceLimits = DEFAULT_SOURCE_LIMITS,
): Promise<ManifestListing> {
  const { abs, isDir } = await resolvePath(root, path);
  const files = isDir ? await listManifestFiles(root, abs, limits.maxFiles) : [toPosix(relative(root, abs))];
  let bytes = 0;
  for (const file of files) {
    const size = (await stat(join(root, file))).size;
    if (size > MAX_FILE_BYTES) {
      throw buildError(
        `${file}: ${size} bytes is more than the ${MAX_FILE_BYTES} bytes a manifest file may have`,
      );
    }
    bytes += size;
  }
  return { files, bytes };
}

/** A revision parsed: its objects, and the documents skipped for having neither apiVersion nor kind. */
export interface ParsedRevision {
  objects: ParsedObject[];
  skipped: SkippedDocument[];
}

/**
 * The one parse of a revision, whichever renderer made its text: files (or a tool's output) are
 * added one at a time, with the same limits (document size, aliases, object count) and the
 * rendered bytes counted across all of them. Parsing stops as soon as the objects pass
 * maxRenderedBytes (as JSON), so that a revision of many files is refused before all of it is held
 * in memory (finalizeObjects counts again, with the labels it adds).
 */
export class RevisionParser {
  readonly objects: ParsedObject[] = [];
  readonly skipped: SkippedDocument[] = [];
  private parsedBytes = 0;

  constructor(private readonly limits: SourceLimits = DEFAULT_SOURCE_LIMITS) {}

  add(file: string, text: string): void {
    for (const p of parseManifests(file, text, this.limits, this.objects.length, this.skipped)) {
      this.parsedBytes += JSON.stringify(p.object).length;
      if (this.parsedBytes > this.limits.maxRenderedBytes) {
        throw limitError(
          Reason.BuildFailed,
          `${p.file} (document ${p.document})`,
          'the revision renders to more bytes',
          'maxRenderedBytes',
          this.limits.maxRenderedBytes,
        );
      }
      this.objects.push(p);
    }
  }

  result(): ParsedRevision {
    return { objects: this.objects, skipped: this.skipped };
  }
}

/** Reads and parses every manifest of the assignment path. */
export async function readManifests(
  root: string,
  path: string,
  limits: SourceLimits = DEFAULT_SOURCE_LIMITS,
  listing?: ManifestListing,
): Promise<ParsedRevision> {
  const { files } = listing ?? (await listManifests(root, path, limits));
  const parser = new RevisionParser(limits);
  for (const file of files) parser.add(file, await readFile(join(root, file), 'utf8'));
  return parser.result();
}

/** The status note of skipped documents ("" when none): the files, at most five named. */
export function skippedNote(skipped: readonly SkippedDocument[]): string {
  if (skipped.length === 0) return '';
  const files = [...new Set(skipped.map((s) => s.file))];
  const more = files.length > 5 ? ` and ${files.length - 5} more` : '';
  return `skipped ${files.slice(0, 5).join(', ')}${more} (documents with neither apiVersion nor kind are not Kubernetes objects)`;
}

/**
 * Namespaces, ownership labels and duplicate detection. CRDs of the same revision count as
 * discovery for their custom resources (the CRD is applied first).
 */
export async function finalizeObjects(
  parsed: ParsedObject[],
  opts: Pick<RenderOptions, 'targetNamespace' | 'tenant' | 'assignment' | 'scopeOf' | 'limits'>,
  /** Modify the parsed objects in place instead of copies (half the peak memory of a render). */
  consume = false,
): Promise<RenderedObject[]> {
  const maxRenderedBytes = (opts.limits ?? DEFAULT_SOURCE_LIMITS).maxRenderedBytes;
  let renderedBytes = 0;
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
    const object = consume ? p.object : structuredClone(p.object);
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
    renderedBytes += JSON.stringify(object).length;
    if (renderedBytes > maxRenderedBytes) {
      throw limitError(
        Reason.BuildFailed,
        `${p.file} (document ${p.document})`,
        'the revision renders to more bytes',
        'maxRenderedBytes',
        maxRenderedBytes,
      );
    }
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

/**
 * Renders an assignment path of a checkout into the objects to apply; `listing` is the path's
 * listManifests() when the caller took it already (to reserve memory before reading).
 */
export async function renderPlain(opts: RenderOptions, listing?: ManifestListing): Promise<RenderedObject[]> {
  const parsed = await readManifests(opts.root, opts.path, opts.limits, listing);
  return finalizeObjects(parsed.objects, opts, true);
}
