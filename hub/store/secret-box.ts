// Repo credentials at rest: AES-256-GCM with the hub's secret key. Each stored value names the
// key that sealed it ("gfs1:<key id>:<base64 iv|tag|ciphertext>"), so a store sealed with an old
// key is readable while the hub re-seals it under a new one (rotation), and a hub started with
// the wrong key refuses to start instead of handing agents garbage.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export const SECRET_KEY_BYTES = 32;
const PREFIX = 'gfs1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A stored value that cannot be opened: its key is not loaded, or it was tampered with. */
export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
}

/** Short public id of a key: the first 16 hex digits of sha256(key). Safe to log. */
export function secretKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** Is this a sealed value (as opposed to plaintext from before encryption at rest)? */
export function isSealed(stored: string): boolean {
  return stored.startsWith(`${PREFIX}:`);
}

/** The key id a sealed value names, or undefined for anything else. */
export function sealedKeyId(stored: string): string | undefined {
  const m = /^gfs1:([0-9a-f]{16}):/.exec(stored);
  return m?.[1];
}

export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  /** Id of the key new values are sealed with. */
  readonly keyId: string;

  /** `current` seals and opens; `old` keys only open (rotation). */
  constructor(current: Buffer, old: readonly Buffer[] = []) {
    for (const k of [current, ...old]) {
      if (k.length !== SECRET_KEY_BYTES) {
        throw new SecretBoxError(`a secret key must be ${SECRET_KEY_BYTES} bytes, got ${k.length}`);
      }
    }
    this.keyId = secretKeyId(current);
    this.keys.set(this.keyId, current);
    for (const k of old) if (!this.keys.has(secretKeyId(k))) this.keys.set(secretKeyId(k), k);
  }

  seal(plaintext: string): string {
    const key = this.keys.get(this.keyId)!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    // the key id is authenticated too: a value cannot be relabelled to another key
    cipher.setAAD(Buffer.from(`${PREFIX}:${this.keyId}`));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const blob = Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
    return `${PREFIX}:${this.keyId}:${blob}`;
  }

  /** Can this box open the value (its key is loaded)? */
  canOpen(stored: string): boolean {
    const id = sealedKeyId(stored);
    return id !== undefined && this.keys.has(id);
  }

  /** Opens a sealed value. Errors never contain the value itself. */
  open(stored: string): string {
    const id = sealedKeyId(stored);
    if (id === undefined) throw new SecretBoxError('not a sealed value (unknown format)');
    const key = this.keys.get(id);
    if (!key) {
      throw new SecretBoxError(
        `sealed with secret key ${id}, which is not loaded (loaded: ${[...this.keys.keys()].join(', ')})`,
      );
    }
    const raw = Buffer.from(stored.slice(PREFIX.length + id.length + 2), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES)
      throw new SecretBoxError(`sealed value for key ${id} is truncated`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(`${PREFIX}:${id}`));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new SecretBoxError(`sealed value for key ${id} does not authenticate (corrupted or tampered)`);
    }
  }

  /** A value sealed under the current key: unchanged when it already is, re-sealed otherwise. */
  reseal(stored: string): string {
    return sealedKeyId(stored) === this.keyId ? stored : this.seal(this.open(stored));
  }
}
