import { afterAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSecretKey, ensureSecretKeyFile, readSecretKeyFile } from './secret-key.js';

const dir = mkdtempSync(join(tmpdir(), 'gitfleet-secret-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keyFile(name: string, content: string | Buffer, mode = 0o600): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  chmodSync(p, mode);
  return p;
}

describe('secret key files', () => {
  const key = randomBytes(32);

  it('reads raw, hex and base64 keys', () => {
    expect(readSecretKeyFile(keyFile('raw', key))).toEqual(key);
    expect(readSecretKeyFile(keyFile('hex', `${key.toString('hex')}\n`))).toEqual(key);
    expect(readSecretKeyFile(keyFile('b64', `${key.toString('base64')}\n`))).toEqual(key);
  });

  it.each([
    ['short', 'abc', 'not a 32-byte key'],
    ['hex31', randomBytes(31).toString('hex'), 'not a 32-byte key'],
    ['big', 'x'.repeat(10_000), '10000 bytes is not a 32-byte key'],
  ])('refuses a %s key with what to do', (name, content, msg) => {
    const p = keyFile(name, content);
    expect(() => readSecretKeyFile(p)).toThrow(msg);
    expect(() => readSecretKeyFile(p)).toThrow(p);
  });

  it.each([0o644, 0o640, 0o604, 0o660])('refuses a key file with mode %s', (mode) => {
    const p = keyFile(`mode-${mode}`, key.toString('hex'), mode);
    expect(() => readSecretKeyFile(p)).toThrow(`group or others may access it`);
    expect(() => readSecretKeyFile(p)).toThrow(`chmod 600 ${p}`);
  });

  it('refuses a missing file and a directory', () => {
    expect(() => readSecretKeyFile(join(dir, 'absent'))).toThrow('cannot read it (ENOENT)');
    expect(() => readSecretKeyFile(dir)).toThrow('not a regular file');
  });

  it('creates the default key once, mode 0600, and reads it back after', () => {
    const p = join(dir, 'hub.db.key');
    const first = ensureSecretKeyFile(p);
    expect(first.created).toBe(true);
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(readFileSync(p, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    const second = ensureSecretKeyFile(p);
    expect(second).toEqual({ key: first.key, created: false });
  });

  it('decodes nothing else', () => {
    expect(decodeSecretKey(Buffer.from(''))).toBeUndefined();
    expect(decodeSecretKey(Buffer.from('z'.repeat(64)))).toBeUndefined();
  });
});
