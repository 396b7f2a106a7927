// The hub's secret key file (AES-256-GCM key for repo credentials at rest): read and checked once
// at start. The file holds 32 bytes: raw, as 64 hex digits (`openssl rand -hex 32`) or as base64
// (`openssl rand -base64 32`), a trailing newline allowed. It must be readable by its owner only.
import { closeSync, existsSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { SECRET_KEY_BYTES } from '../store/secret-box.js';

export class SecretKeyError extends Error {
  override readonly name = 'SecretKeyError';
}

/** Largest key file read at all (a key is at most 64 hex digits and a newline). */
const MAX_KEY_FILE_BYTES = 256;

/** Decodes the file's content into the 32-byte key, or undefined when it is none of the formats. */
export function decodeSecretKey(content: Buffer): Buffer | undefined {
  if (content.length === SECRET_KEY_BYTES) return Buffer.from(content);
  const text = content.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(text)) {
    const key = Buffer.from(text, 'base64');
    if (key.length === SECRET_KEY_BYTES) return key;
  }
  return undefined;
}

/** Reads and checks a key file; errors start with the path and say what to do. */
export function readSecretKeyFile(path: string): Buffer {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new SecretKeyError(`${path}: cannot read it (${(err as NodeJS.ErrnoException).code})`);
  }
  if (!st.isFile()) throw new SecretKeyError(`${path}: not a regular file`);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new SecretKeyError(
      `${path}: group or others may access it (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}); ` +
        `a secret key must be readable by its owner only: chmod 600 ${path}`,
    );
  }
  if (st.size > MAX_KEY_FILE_BYTES) {
    throw new SecretKeyError(`${path}: ${st.size} bytes is not a ${SECRET_KEY_BYTES}-byte key`);
  }
  const key = decodeSecretKey(readFileSync(path));
  if (!key) {
    throw new SecretKeyError(
      `${path}: not a ${SECRET_KEY_BYTES}-byte key (want ${SECRET_KEY_BYTES} raw bytes, 64 hex digits or base64; ` +
        `make one with: openssl rand -hex 32 > ${path}; chmod 600 ${path})`,
    );
  }
  return key;
}

/**
 * The embedded default: the key file beside the SQLite file, created (mode 0600, 64 hex digits)
 * when absent. `created` says whether this start made it.
 */
export function ensureSecretKeyFile(path: string): { key: Buffer; created: boolean } {
  if (existsSync(path)) return { key: readSecretKeyFile(path), created: false };
  const key = randomBytes(SECRET_KEY_BYTES);
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      return { key: readSecretKeyFile(path), created: false };
    }
    throw new SecretKeyError(
      `cannot create the secret key file ${path}: ${(err as NodeJS.ErrnoException).code}`,
    );
  }
  try {
    writeSync(fd, `${key.toString('hex')}\n`);
  } finally {
    closeSync(fd);
  }
  return { key, created: true };
}

/** Where the embedded default keeps the key of a SQLite store. */
export function defaultSecretKeyPath(dbPath: string): string {
  return `${dbPath}.key`;
}
