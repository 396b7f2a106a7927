// SOPS-encrypted documents (https://github.com/getsops/sops), decrypted on the parsed objects
// with age identities. The format, as sops 3.x writes it:
// - a top-level `sops` mapping holds the metadata: the data key wrapped for each age recipient
//   (`age[].enc`, an armored age file whose plaintext is the 32-byte data key), `lastmodified`,
//   `mac`, and at most one rule saying which values are encrypted (`encrypted_regex`,
//   `unencrypted_regex`, `encrypted_suffix`, `unencrypted_suffix`; none = `unencrypted_suffix:
//   _unencrypted`);
// - every encrypted value is `ENC[AES256_GCM,data:…,iv:…,tag:…,type:str|int|float|bool|bytes|time]`,
//   AES-256-GCM under the data key with the value's path as additional data (the mapping keys
//   from the root, each followed by ':'; list indexes are not part of it);
// - the MAC is SHA-512 over the plaintext of every value in tree order (only of the encrypted
//   ones, after a fixed prefix, with `mac_only_encrypted`), written as uppercase hex and itself
//   encrypted under the data key with `lastmodified` (RFC 3339, whole seconds) as additional data.
// A multi-document file is one sops tree: its documents share one data key and one MAC over all
// of them, and every document carries the same metadata; documents are grouped by file and MAC.
// Plaintext values are never put into errors or logs: messages name the file, the object and at
// most the path of a value.
import { createDecipheriv, createHash } from 'node:crypto';
import { Decrypter, armor } from 'age-encryption';
import { buildError } from '../../errors.js';
import { isPlainObject } from '../../kube/objects.js';
import type { ParsedObject } from '../plain/plain-renderer.js';

/** The top-level key of sops metadata. */
export const SOPS_KEY = 'sops';

/** sops' default rule when a file names none: values under keys ending so stay in clear. */
const DEFAULT_UNENCRYPTED_SUFFIX = '_unencrypted';

/** The fixed start of a mac_only_encrypted MAC (sops' MACOnlyEncryptedInitialization). */
const MAC_ONLY_ENCRYPTED_INIT = Buffer.from(
  '8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69',
  'hex',
);

/** Longest regex a file may give (sops' rules are short; this bounds matching time too). */
const MAX_RULE_LENGTH = 256;

// linear: the character classes never contain the separators
const ENCRYPTED_VALUE =
  /^ENC\[AES256_GCM,data:([A-Za-z0-9+/=]*),iv:([A-Za-z0-9+/=]+),tag:([A-Za-z0-9+/=]+),type:([a-z]+)\]$/;

/** True when the object carries sops metadata (a top-level `sops` mapping). */
export function isSopsEncrypted(object: Record<string, unknown>): boolean {
  return isPlainObject(object[SOPS_KEY]);
}

/** Where an object came from, for messages: `apps/secret.yaml (document 1) Secret "db"`. */
export function describeParsed(p: ParsedObject): string {
  const name = typeof p.object.metadata?.name === 'string' ? p.object.metadata.name : '';
  return `${p.file} (document ${p.document}) ${String(p.object.kind)} ${JSON.stringify(name.slice(0, 100))}`;
}

interface Rules {
  unencryptedSuffix?: string;
  encryptedSuffix?: string;
  unencryptedRegex?: RegExp;
  encryptedRegex?: RegExp;
  macOnlyEncrypted: boolean;
}

interface Metadata {
  lastModified: string;
  mac: string;
  ageStanzas: Array<{ recipient: string; enc: string }>;
  rules: Rules;
}

/**
 * Decrypts, in place, every SOPS-encrypted object of `objects` with the age `identities`
 * (`AGE-SECRET-KEY-1…`): the MAC of each file is verified before any object is changed, and the
 * `sops` key is removed. `keysFrom` names where the identities came from, for messages.
 * Throws a BuildFailed error (stalled) naming the file and object.
 */
export async function decryptSopsObjects(
  objects: readonly ParsedObject[],
  identities: readonly string[],
  keysFrom: string,
): Promise<number> {
  // one sops tree per file and MAC: the documents of a multi-document file share both
  const groups = new Map<string, ParsedObject[]>();
  for (const p of objects) {
    if (!isSopsEncrypted(p.object)) continue;
    const sops = p.object[SOPS_KEY] as Record<string, unknown>;
    const key = `${p.file}\u0000${typeof sops.mac === 'string' ? sops.mac : ''}`;
    const group = groups.get(key);
    if (group) group.push(p);
    else groups.set(key, [p]);
  }
  for (const group of groups.values()) await decryptTree(group, identities, keysFrom);
  return groups.size;
}

async function decryptTree(
  docs: readonly ParsedObject[],
  identities: readonly string[],
  keysFrom: string,
): Promise<void> {
  const where = describeParsed(docs[0]);
  const fail = (why: string): never => {
    throw buildError(`${where}: SOPS: ${why}`);
  };
  const meta = readMetadata(docs[0].object[SOPS_KEY] as Record<string, unknown>, fail);
  const dataKey = await openDataKey(meta, identities, keysFrom, fail);

  const hash = createHash('sha512');
  if (meta.rules.macOnlyEncrypted) hash.update(MAC_ONLY_ENCRYPTED_INIT);
  // every decrypted value, written back only once the MAC has been verified
  const writes: Array<() => void> = [];
  for (const doc of docs) {
    const describeDoc = describeParsed(doc);
    const visit = (container: Record<string, unknown> | unknown[], key: string | number, path: string[]) => {
      const value = (container as Record<string | number, unknown>)[key];
      if (value === null || value === undefined) return; // sops skips nulls, in the MAC too
      if (Array.isArray(value)) {
        // list items share their list's path
        for (let i = 0; i < value.length; i++) visit(value, i, path);
        return;
      }
      if (isPlainObject(value)) {
        for (const k of Object.keys(value)) visit(value, k, [...path, k]);
        return;
      }
      const encrypted = shouldBeEncrypted(path, meta.rules);
      if (!encrypted) {
        if (!meta.rules.macOnlyEncrypted) hash.update(macBytes(value));
        return;
      }
      if (typeof value !== 'string') {
        throw buildError(
          `${describeDoc}: SOPS: ${path.join('.')} should be encrypted but is a ${typeof value}: the file was changed after encryption; re-encrypt it with sops`,
        );
      }
      const plain = decryptValue(value, dataKey, `${path.join(':')}:`, (why) => {
        throw buildError(`${describeDoc}: SOPS: cannot decrypt ${path.join('.')}: ${why}`);
      });
      hash.update(plain.bytes);
      writes.push(() => {
        (container as Record<string | number, unknown>)[key] = plain.value;
      });
    };
    for (const k of Object.keys(doc.object)) if (k !== SOPS_KEY) visit(doc.object, k, [k]);
  }

  const computed = hash.digest('hex').toUpperCase();
  const stored = decryptValue(meta.mac, dataKey, rfc3339Seconds(meta.lastModified, fail), (why) =>
    fail(`cannot decrypt the MAC (${why}): the file was changed after it was encrypted`),
  );
  if (stored.value !== computed) {
    fail(
      'MAC mismatch: the file was changed after it was encrypted (a value, key or the metadata was edited without sops); refusing it, re-encrypt it with sops',
    );
  }
  for (const write of writes) write();
  for (const doc of docs) delete doc.object[SOPS_KEY];
}

function readMetadata(sops: Record<string, unknown>, fail: (why: string) => never): Metadata {
  const str = (field: string): string | undefined => {
    const v = sops[field];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') fail(`sops.${field} must be a string`);
    return v as string;
  };
  const mac = str('mac') ?? fail('sops.mac is missing: the file is not encrypted by sops');
  const lastModified = str('lastmodified') ?? fail('sops.lastmodified is missing');

  const ageStanzas: Metadata['ageStanzas'] = [];
  const addAge = (list: unknown, field: string) => {
    if (list === undefined || list === null) return;
    if (!Array.isArray(list)) fail(`${field} must be a list`);
    for (const entry of list as unknown[]) {
      if (!isPlainObject(entry) || typeof entry.enc !== 'string') fail(`${field} has an entry without "enc"`);
      const e = entry as { recipient?: unknown; enc: string };
      ageStanzas.push({ recipient: typeof e.recipient === 'string' ? e.recipient : '', enc: e.enc });
    }
  };
  addAge(sops.age, 'sops.age');
  const groups = sops.key_groups;
  if (Array.isArray(groups) && groups.length > 0) {
    if (groups.length > 1) {
      fail(
        `the data key is split over ${groups.length} key groups (Shamir's secret sharing), which gitfleet does not support yet: encrypt with one key group`,
      );
    }
    addAge(isPlainObject(groups[0]) ? groups[0].age : undefined, 'sops.key_groups[0].age');
  }

  const rule = (field: string): string | undefined => {
    const v = str(field);
    if (v !== undefined && v.length > MAX_RULE_LENGTH)
      fail(`sops.${field} is longer than ${MAX_RULE_LENGTH} characters`);
    return v;
  };
  const given = {
    unencrypted_suffix: rule('unencrypted_suffix'),
    encrypted_suffix: rule('encrypted_suffix'),
    unencrypted_regex: rule('unencrypted_regex'),
    encrypted_regex: rule('encrypted_regex'),
    unencrypted_comment_regex: rule('unencrypted_comment_regex'),
    encrypted_comment_regex: rule('encrypted_comment_regex'),
  };
  const set = Object.entries(given).filter(([, v]) => v !== undefined);
  if (set.length > 1) fail(`more than one of ${set.map(([k]) => k).join(', ')} (sops allows one)`);
  if (given.unencrypted_comment_regex || given.encrypted_comment_regex) {
    // these select values by their YAML comments, which parsed objects no longer have
    fail(
      'encrypted_comment_regex and unencrypted_comment_regex are not supported yet: use encrypted_regex or a suffix rule',
    );
  }
  const macOnly = sops.mac_only_encrypted;
  if (macOnly !== undefined && macOnly !== null && typeof macOnly !== 'boolean')
    fail('sops.mac_only_encrypted must be true or false');
  const rules: Rules = {
    unencryptedSuffix: set.length === 0 ? DEFAULT_UNENCRYPTED_SUFFIX : given.unencrypted_suffix,
    encryptedSuffix: given.encrypted_suffix,
    unencryptedRegex:
      given.unencrypted_regex === undefined
        ? undefined
        : compileRule('unencrypted_regex', given.unencrypted_regex, fail),
    encryptedRegex:
      given.encrypted_regex === undefined
        ? undefined
        : compileRule('encrypted_regex', given.encrypted_regex, fail),
    macOnlyEncrypted: macOnly === true,
  };
  return { mac, lastModified, ageStanzas, rules };
}

/**
 * A sops rule's regex (RE2 syntax in sops). JavaScript's engine backtracks, so patterns that
 * could take exponential time (a quantified group holding a quantifier, back-references) are
 * refused; the rules sops users write (`^(data|stringData)$`) pass.
 */
function compileRule(field: string, pattern: string, fail: (why: string) => never): RegExp {
  if (/\\[1-9k]|\(\?<?[=!]/.test(pattern)) {
    fail(`sops.${field}: back-references and lookarounds are not RE2 syntax`);
  }
  if (/\([^()]*[*+}][^()]*\)[*+{?]/.test(pattern)) {
    fail(`sops.${field}: a repeated group that holds a repetition is refused (it can take exponential time)`);
  }
  try {
    return new RegExp(pattern, 'u');
  } catch {
    return fail(`sops.${field} is not a valid regular expression`);
  }
}

function shouldBeEncrypted(path: readonly string[], rules: Rules): boolean {
  let encrypted = true;
  if (rules.unencryptedSuffix && path.some((k) => k.endsWith(rules.unencryptedSuffix!))) encrypted = false;
  if (rules.encryptedSuffix) encrypted = path.some((k) => k.endsWith(rules.encryptedSuffix!));
  if (rules.unencryptedRegex && path.some((k) => rules.unencryptedRegex!.test(k))) encrypted = false;
  if (rules.encryptedRegex) encrypted = path.some((k) => rules.encryptedRegex!.test(k));
  return encrypted;
}

/** The data key, from the first age stanza one of the identities opens. */
async function openDataKey(
  meta: Metadata,
  identities: readonly string[],
  keysFrom: string,
  fail: (why: string) => never,
): Promise<Buffer> {
  if (meta.ageStanzas.length === 0) {
    fail(
      'the file has no age recipient (sops.age): only age is supported, re-encrypt it for an age recipient',
    );
  }
  const decrypter = new Decrypter();
  for (const identity of identities) decrypter.addIdentity(identity);
  for (const stanza of meta.ageStanzas) {
    let file: Uint8Array;
    try {
      file = armor.decode(stanza.enc);
    } catch {
      continue; // a damaged stanza: another recipient may still open the key
    }
    let key: Uint8Array;
    try {
      key = await decrypter.decrypt(file);
    } catch {
      continue; // not one of ours (or damaged)
    }
    if (key.length !== 32) fail('the data key is not 32 bytes: the file was not encrypted by sops');
    return Buffer.from(key);
  }
  const recipients = meta.ageStanzas
    .map((s) => s.recipient)
    .filter(Boolean)
    .slice(0, 3)
    .join(', ');
  return fail(
    `no age identity in ${keysFrom} opens the data key (it is encrypted for ${recipients || 'unnamed recipients'}): add the matching AGE-SECRET-KEY to a "*.agekey" entry`,
  );
}

interface Plain {
  value: string | number | boolean;
  /** What sops hashes into the MAC for it. */
  bytes: Buffer;
}

/** One `ENC[AES256_GCM,…]` value; the additional data is its path (or lastmodified for the MAC). */
function decryptValue(value: string, key: Buffer, aad: string, fail: (why: string) => never): Plain {
  if (value === '') return { value: '', bytes: Buffer.alloc(0) }; // sops leaves empty values empty
  const m = ENCRYPTED_VALUE.exec(value);
  if (!m) return fail('not a sops value (ENC[AES256_GCM,data:…,iv:…,tag:…,type:…])');
  const [, data, iv, tag, type] = m;
  const ivBytes = Buffer.from(iv, 'base64');
  const tagBytes = Buffer.from(tag, 'base64');
  if (ivBytes.length === 0 || tagBytes.length !== 16) fail('malformed iv or tag');
  let bytes: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, ivBytes, { authTagLength: 16 });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tagBytes);
    bytes = Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]);
  } catch {
    return fail(
      'authentication failed: the value was changed, moved to another key, or encrypted with another data key',
    );
  }
  const text = bytes.toString('utf8');
  switch (type) {
    case 'str':
    case 'time': // sops' own timestamps; kept as the text it encrypted
      return { value: text, bytes };
    case 'bytes':
      return { value: text, bytes };
    case 'int': {
      if (!/^[+-]?\d{1,16}$/.test(text)) fail('type int, but the plaintext is not an integer');
      const n = Number(text);
      return { value: n, bytes: macBytes(n) };
    }
    case 'float': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) fail('type float, but the plaintext is not a number');
      return { value: n, bytes: macBytes(n) };
    }
    case 'bool': {
      const b = goParseBool(text);
      if (b === undefined) fail('type bool, but the plaintext is not a boolean');
      return { value: b!, bytes: macBytes(b!) };
    }
    default:
      return fail(`unknown value type ${JSON.stringify(type)}`);
  }
}

/** Go's strconv.ParseBool. */
function goParseBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

/** A leaf as sops hashes it: strings as UTF-8, booleans "True"/"False", numbers in plain decimal. */
export function macBytes(value: unknown): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (typeof value === 'boolean') return Buffer.from(value ? 'True' : 'False');
  if (typeof value === 'number') return Buffer.from(goFormatFloat(value));
  if (typeof value === 'bigint') return Buffer.from(value.toString());
  return Buffer.from(String(value));
}

/** Go's strconv.FormatFloat(v, 'f', -1, 64) (and Itoa for integers): never an exponent. */
export function goFormatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  const s = String(v);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, int, frac = '', exp] = m;
  const digits = int + frac;
  const point = int.length + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * `lastmodified` as sops authenticates the MAC with it: Go's time.Format(time.RFC3339) of the
 * parsed time (fractional seconds dropped, a zero offset written "Z").
 */
function rfc3339Seconds(text: string, fail: (why: string) => never): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return fail(`sops.lastmodified ${JSON.stringify(text.slice(0, 40))} is not an RFC 3339 time`);
  const zone = m[2] === '+00:00' || m[2] === '-00:00' ? 'Z' : m[2];
  return `${m[1]}${zone}`;
}
