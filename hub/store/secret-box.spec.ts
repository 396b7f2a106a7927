import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { fuzzParams } from '../../test/fuzz/fuzz-params.js';
import { isSealed, SecretBox, SecretBoxError, sealedKeyId, secretKeyId } from './secret-box.js';

const k1 = randomBytes(32);
const k2 = randomBytes(32);

describe('SecretBox', () => {
  it('seals so that the plaintext is nowhere in the value, and opens it again', () => {
    const box = new SecretBox(k1);
    const sealed = box.seal('hunter2-password');
    expect(sealed).not.toContain('hunter2');
    expect(Buffer.from(sealed).includes(Buffer.from('hunter2'))).toBe(false);
    expect(isSealed(sealed)).toBe(true);
    expect(sealedKeyId(sealed)).toBe(secretKeyId(k1));
    expect(box.open(sealed)).toBe('hunter2-password');
    expect(box.seal('x')).not.toBe(box.seal('x')); // a fresh IV every time
  });

  it('round-trips any string (property)', () => {
    const box = new SecretBox(k1);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (s) => box.open(box.seal(s)) === s),
      fuzzParams(200),
    );
  });

  it('refuses a value sealed with a key it does not hold, naming the key id and not the value', () => {
    const sealed = new SecretBox(k2).seal('pw-secret');
    const box = new SecretBox(k1);
    expect(box.canOpen(sealed)).toBe(false);
    expect(() => box.open(sealed)).toThrow(SecretBoxError);
    expect(() => box.open(sealed)).toThrow(`sealed with secret key ${secretKeyId(k2)}, which is not loaded`);
  });

  it('detects tampering: a flipped byte, a relabelled key id, a truncated value, plaintext', () => {
    const box = new SecretBox(k1, [k2]);
    const sealed = box.seal('pw');
    const raw = Buffer.from(sealed.split(':')[2], 'base64');
    raw[raw.length - 1] ^= 1;
    expect(() => box.open(`gfs1:${box.keyId}:${raw.toString('base64')}`)).toThrow('does not authenticate');
    expect(() => box.open(sealed.replace(box.keyId, secretKeyId(k2)))).toThrow('does not authenticate');
    expect(() => box.open(`gfs1:${box.keyId}:AAAA`)).toThrow('truncated');
    expect(() => box.open('plain-password')).toThrow('not a sealed value');
  });

  it('rotates: old values open with the old key and re-seal under the new one', () => {
    const old = new SecretBox(k1).seal('pw');
    const rotating = new SecretBox(k2, [k1]);
    const resealed = rotating.reseal(old);
    expect(sealedKeyId(resealed)).toBe(secretKeyId(k2));
    expect(new SecretBox(k2).open(resealed)).toBe('pw');
    expect(rotating.reseal(resealed)).toBe(resealed);
  });

  it('refuses keys of the wrong size', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow('must be 32 bytes, got 16');
  });
});
