import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parseManifests, type ParsedObject } from '../plain/plain-renderer.js';
import { decryptSopsObjects, goFormatFloat } from './sops-document.js';
import { ReconcileError } from '../../errors.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../../test/fixtures/sops/${name}`, import.meta.url), 'utf8');
const keyOf = (name: string) =>
  fixture(name)
    .split('\n')
    .filter((l) => l.startsWith('AGE-SECRET-KEY-'));
const parse = (file: string, text: string): ParsedObject[] => parseManifests(file, text);

async function failure(p: Promise<unknown>): Promise<ReconcileError> {
  try {
    await p;
  } catch (err) {
    return err as ReconcileError;
  }
  throw new Error('expected a failure');
}

describe('decryptSopsObjects (files encrypted by the real sops)', () => {
  it.each([
    ['age-secret.enc.yaml', 'age-secret.key.txt', 'age', 'value'],
    ['global-secret.enc.yaml', 'global-secret.key.txt', 'global-age-secret', 'global-value'],
  ])('%s opens with its key, verifies the MAC and gives the plaintext', async (file, key, name, plain) => {
    const objects = parse(`apps/${file}`, fixture(file));
    const before = structuredClone(objects[0].object);
    expect(await decryptSopsObjects(objects, keyOf(key), 'Secret team-a/sops-age')).toBe(1);
    const o = objects[0].object;
    expect(o.stringData).toEqual({ key: plain });
    expect(o.sops).toBeUndefined();
    // everything in clear stays as it was
    expect(o.metadata).toEqual(before.metadata);
    expect([o.apiVersion, o.kind]).toEqual(['v1', 'Secret']);
    expect(name).toBe(o.metadata.name);
  });

  it('tries every identity it is given (several keys in one Secret)', async () => {
    const objects = parse('a.yaml', fixture('age-secret.enc.yaml'));
    await decryptSopsObjects(
      objects,
      [...keyOf('global-secret.key.txt'), ...keyOf('age-secret.key.txt')],
      'k',
    );
    expect(objects[0].object.stringData).toEqual({ key: 'value' });
  });

  it('refuses a value changed by one character, naming file, object and path but never a value', async () => {
    const text = fixture('age-secret.enc.yaml').replace('data:mHeXsmQ=', 'data:nHeXsmQ=');
    const objects = parse('apps/age-secret.enc.yaml', text);
    const err = await failure(decryptSopsObjects(objects, keyOf('age-secret.key.txt'), 'k'));
    expect(err).toBeInstanceOf(ReconcileError);
    expect(err.stalled).toBe(true);
    expect(err.message).toBe(
      'apps/age-secret.enc.yaml (document 1) Secret "age": SOPS: cannot decrypt stringData.key: authentication failed: the value was changed, moved to another key, or encrypted with another data key',
    );
    expect(objects[0].object.stringData).toEqual({ key: expect.stringMatching(/^ENC\[/) });
  });

  it('refuses a file whose clear values were changed (the MAC covers them too)', async () => {
    const text = fixture('global-secret.enc.yaml').replace('type: Opaque', 'type: Opaquf');
    const objects = parse('apps/global.yaml', text);
    const err = await failure(decryptSopsObjects(objects, keyOf('global-secret.key.txt'), 'k'));
    expect(err.message).toBe(
      'apps/global.yaml (document 1) Secret "global-age-secret": SOPS: MAC mismatch: the file was changed after it was encrypted (a value, key or the metadata was edited without sops); refusing it, re-encrypt it with sops',
    );
    // nothing was decrypted into the object
    expect(String((objects[0].object.stringData as Record<string, string>).key)).toMatch(/^ENC\[/);
    expect(objects[0].object.sops).toBeDefined();
  });

  it('refuses an encrypted value moved to another key (its path is authenticated)', async () => {
    const text = fixture('age-secret.enc.yaml').replace('  key: ENC', '  other: ENC');
    const err = await failure(decryptSopsObjects(parse('s.yaml', text), keyOf('age-secret.key.txt'), 'k'));
    expect(err.message).toContain('SOPS: cannot decrypt stringData.other: authentication failed');
  });

  it('refuses a changed lastmodified (it authenticates the MAC)', async () => {
    const text = fixture('age-secret.enc.yaml').replace('2024-11-12T13:33:42Z', '2024-11-12T13:33:43Z');
    const err = await failure(decryptSopsObjects(parse('s.yaml', text), keyOf('age-secret.key.txt'), 'k'));
    expect(err.message).toContain('SOPS: cannot decrypt the MAC');
  });

  it('refuses a wrong key, naming the file, the key Secret and the recipient', async () => {
    const err = await failure(
      decryptSopsObjects(
        parse('apps/age-secret.enc.yaml', fixture('age-secret.enc.yaml')),
        keyOf('global-secret.key.txt'),
        'Secret team-a/sops-age',
      ),
    );
    expect(err.message).toBe(
      'apps/age-secret.enc.yaml (document 1) Secret "age": SOPS: no age identity in Secret team-a/sops-age opens the data key (it is encrypted for age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29): add the matching AGE-SECRET-KEY to a "*.agekey" entry',
    );
    expect(err.message).not.toContain('AGE-SECRET-KEY-1');
  });

  it('refuses hostile metadata with one clear line', async () => {
    const base = fixture('age-secret.enc.yaml');
    const cases: Array<[string, string]> = [
      [base.replace(/ {2}mac: .*\n/, ''), 'sops.mac is missing'],
      [
        base.replace('encrypted_regex: ^(data|stringData)$', 'encrypted_regex: ^(a+)+$'),
        'can take exponential time',
      ],
      [
        base.replace(
          'encrypted_regex: ^(data|stringData)$',
          'encrypted_regex: ^(data|stringData)$\n  unencrypted_suffix: _x',
        ),
        'more than one of',
      ],
      [base.replace(/ {2}age:\n(?: {4}.*\n)+/, '  age: []\n'), 'the file has no age recipient'],
      [
        base.replace('2024-11-12T13:33:42Z', 'yesterday'),
        'sops.lastmodified "yesterday" is not an RFC 3339 time',
      ],
      [base.replace(/key: ENC\[[^\n]*/, 'key: ENC[AES256_GCM,data:$$$]'), 'stringData.key: not a sops value'],
    ];
    for (const [text, message] of cases) {
      const err = await failure(decryptSopsObjects(parse('s.yaml', text), keyOf('age-secret.key.txt'), 'k'));
      expect(err.message).toContain(message);
      expect(err.message.split('\n')).toHaveLength(1);
    }
  });

  it('leaves documents without sops metadata alone', async () => {
    const objects = parse('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n');
    expect(await decryptSopsObjects(objects, [], 'k')).toBe(0);
    expect(objects[0].object.data).toEqual({ k: 'v' });
  });
});

describe('goFormatFloat (what sops hashes for numbers)', () => {
  it.each([
    [3, '3'],
    [-2.5, '-2.5'],
    [1e21, '1000000000000000000000'],
    [1.5e-7, '0.00000015'],
    [0.1, '0.1'],
  ])('%d → %s', (n, s) => expect(goFormatFloat(n)).toBe(s));
});
