// The decryption step of a render: when a revision holds SOPS-encrypted documents, the age
// identities are read from the Secret the assignment names, in the tenant's first namespace and
// AS THE TENANT (its impersonated ServiceAccount): the agent's own right to read every Secret is
// never lent to a tenant, so no tenant can decrypt with another tenant's keys. The keys live in
// memory for one pass only; neither they nor any plaintext is logged or reported.
import { buildError } from '../../errors.js';
import { isForbidden, kubeErrorMessage } from '../../kube/errors.js';
import type { KubeClient } from '../../kube/kube-client.js';
import type { ParsedObject } from '../plain/plain-renderer.js';
import { decryptSopsObjects, describeParsed, isSopsEncrypted } from './sops-document.js';

/** Secret entries holding age identities, as Flux reads them. */
export const AGE_KEY_SUFFIX = '.agekey';

export interface DecryptionInput {
  objects: readonly ParsedObject[];
  /** The assignment's decryption Secret ('' = none). */
  secretName: string;
  /** The tenant's first namespace: where the Secret is read. */
  namespace: string;
  /** A client acting as the tenant. */
  tenant: KubeClient;
}

/**
 * Decrypts every SOPS-encrypted object in place; returns how many sops files were decrypted.
 * Reads the Secret only when there is something to decrypt. Throws BuildFailed (stalled) errors
 * naming the file, the object or the Secret.
 */
export async function decryptRender(input: DecryptionInput): Promise<number> {
  const encrypted = input.objects.find((p) => isSopsEncrypted(p.object));
  if (!encrypted) return 0;
  if (!input.secretName) {
    throw buildError(
      `${describeParsed(encrypted)} is SOPS-encrypted, but the assignment names no decryption Secret: create a Secret with the age key in an entry "<name>${AGE_KEY_SUFFIX}" in namespace ${input.namespace} and set it with gitfleet assignment update ... --decryption-secret NAME`,
    );
  }
  const where = `Secret ${input.namespace}/${input.secretName}`;
  const identities = await readAgeIdentities(input.tenant, input.namespace, input.secretName, where);
  return decryptSopsObjects(input.objects, identities, where);
}

/** The age identities of every `*.agekey` entry of the Secret, read as the tenant. */
export async function readAgeIdentities(
  client: KubeClient,
  namespace: string,
  name: string,
  where: string,
): Promise<string[]> {
  let secret: Record<string, unknown> | undefined;
  try {
    secret = await client.get({ apiVersion: 'v1', kind: 'Secret', namespace, name });
  } catch (err) {
    const why = kubeErrorMessage(err);
    throw buildError(
      isForbidden(err)
        ? `SOPS: the tenant may not read the decryption ${where}: ${why} (the Secret must be in the tenant's own namespace ${namespace})`
        : `SOPS: cannot read the decryption ${where}: ${why}`,
      err,
    );
  }
  if (!secret) {
    throw buildError(
      `SOPS: the decryption ${where} does not exist: create it in the tenant's namespace with the age key in an entry "<name>${AGE_KEY_SUFFIX}"`,
    );
  }
  const data = (secret.data ?? {}) as Record<string, unknown>;
  const entries = Object.keys(data)
    .filter((k) => k.endsWith(AGE_KEY_SUFFIX))
    .sort();
  if (entries.length === 0) {
    throw buildError(
      `SOPS: the decryption ${where} has no "*${AGE_KEY_SUFFIX}" entry: put each age identity (AGE-SECRET-KEY-1…) in an entry named like "identity${AGE_KEY_SUFFIX}"`,
    );
  }
  const identities: string[] = [];
  for (const entry of entries) {
    const value = data[entry];
    const text = typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : '';
    const found = parseAgeIdentities(text);
    if (found.badLine !== undefined) {
      throw buildError(
        `SOPS: line ${found.badLine} of entry ${JSON.stringify(entry)} of the decryption ${where} is not an age identity (AGE-SECRET-KEY-1…) or a "#" comment`,
      );
    }
    if (found.identities.length === 0) {
      throw buildError(
        `SOPS: entry ${JSON.stringify(entry)} of the decryption ${where} holds no age identity (lines "AGE-SECRET-KEY-1…"; "#" starts a comment)`,
      );
    }
    identities.push(...found.identities);
  }
  return identities;
}

/**
 * Identities of an age identity file: one per line, blank lines and '#' comments ignored. A line
 * that is neither is reported by its number (never its text: it may be a damaged key).
 */
export function parseAgeIdentities(text: string): { identities: string[]; badLine?: number } {
  const identities: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    if (!/^AGE-SECRET-KEY-(?:PQ-)?1[0-9A-Z]+$/.test(line)) return { identities, badLine: i + 1 };
    identities.push(line);
  }
  return { identities };
}
