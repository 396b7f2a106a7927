import { describe, expect, it } from '@jest/globals';
import type { KubeClient } from '../../kube/kube-client.js';
import { parseManifests } from '../plain/plain-renderer.js';
import { decryptRender, parseAgeIdentities, readAgeIdentities } from './sops-decryptor.js';

const KEY = 'AGE-SECRET-KEY-1RH87A5Z54ZGUR9S0AS3R6WHFSEFNPLYMAKF5Z2CEU7R06VRJ0A3Q7242AM';

/** A client double that serves one Secret (the real reads are in test/integration/agent/agent-sops). */
const serving = (data: Record<string, string> | undefined): KubeClient =>
  ({
    get: () =>
      Promise.resolve(
        data && {
          data: Object.fromEntries(
            Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          ),
        },
      ),
  }) as unknown as KubeClient;

describe('parseAgeIdentities', () => {
  it('reads one identity a line, skipping comments and blank lines', () => {
    expect(parseAgeIdentities(`# created: 2021\n# public key: age1xyz\n\n${KEY}\r\n${KEY}\n`)).toEqual({
      identities: [KEY, KEY],
    });
  });

  it('reports a line that is not an identity by its number only', () => {
    expect(parseAgeIdentities(`# c\n${KEY}\nAGE-SECRET-KEY-1oops lower\n`)).toEqual({
      identities: [KEY],
      badLine: 3,
    });
  });
});

describe('readAgeIdentities', () => {
  it('takes every *.agekey entry and nothing else', async () => {
    const client = serving({ 'a.agekey': KEY, 'b.agekey': `# x\n${KEY}`, 'other.txt': 'AGE-SECRET-KEY-1X' });
    expect(await readAgeIdentities(client, 'team-a', 'keys', 'Secret team-a/keys')).toEqual([KEY, KEY]);
  });

  it.each([
    [undefined, 'SOPS: the decryption Secret team-a/keys does not exist'],
    [{ 'key.txt': KEY }, 'SOPS: the decryption Secret team-a/keys has no "*.agekey" entry'],
    [
      { 'a.agekey': '# only a comment\n' },
      'SOPS: entry "a.agekey" of the decryption Secret team-a/keys holds no age identity',
    ],
    [
      { 'a.agekey': `${KEY}\nsecret-garbage-9` },
      'SOPS: line 2 of entry "a.agekey" of the decryption Secret team-a/keys is not an age identity',
    ],
  ])('refuses %j clearly, never echoing an entry', async (data, message) => {
    const err = await readAgeIdentities(serving(data), 'team-a', 'keys', 'Secret team-a/keys').catch(
      (e: Error) => e,
    );
    expect((err as Error).message).toContain(message);
    expect((err as Error).message).not.toContain('garbage');
  });
});

describe('decryptRender', () => {
  it('does not read any Secret when nothing is encrypted', async () => {
    const objects = parseManifests('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n');
    const client = { get: () => Promise.reject(new Error('must not be called')) } as unknown as KubeClient;
    expect(await decryptRender({ objects, secretName: 'keys', namespace: 'team-a', tenant: client })).toBe(0);
  });

  it('refuses an encrypted document when no decryption Secret is named', async () => {
    const objects = parseManifests(
      's.yaml',
      'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nsops: {mac: x}\n',
    );
    await expect(
      decryptRender({ objects, secretName: '', namespace: 'team-a', tenant: serving({}) }),
    ).rejects.toThrow(
      's.yaml (document 1) Secret "s" is SOPS-encrypted, but the assignment names no decryption Secret',
    );
  });
});
