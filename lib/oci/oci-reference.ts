// OCI repository URLs ("oci://host[:port]/path") and digests ("sha256:<64 hex>"), as Flux writes
// them. Pure: the hub, the agent and the CLI all parse the same way.

/** A digest this code accepts: sha256 only (what registries and Flux use). */
export const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** A tag as the distribution spec allows it. */
export const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** A repository path component sequence as the distribution spec allows it. */
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

export interface OciRepository {
  /** host[:port] */
  host: string;
  /** path inside the registry ("org/app") */
  repository: string;
  /** https://host or, for a loopback host only, http://host */
  baseUrl: string;
}

/** Why `url` is not an oci://host[:port]/repository URL, or undefined when it is one. */
export function ociUrlProblem(url: string): string | undefined {
  if (!url.startsWith('oci://')) return 'must start with oci:// (e.g. oci://ghcr.io/org/manifests)';
  if (url.length > 2048) return `is ${url.length} characters long (at most 2048)`;
  const rest = url.slice('oci://'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return 'needs a host and a repository path (oci://host[:port]/repository)';
  const host = rest.slice(0, slash);
  const repository = rest.slice(slash + 1);
  if (!HOST.test(host)) return `host ${JSON.stringify(host.slice(0, 80))} is not a host[:port]`;
  if (/[@:]/.test(repository))
    return 'must not name a tag or digest (give --tag, --semver or --digest instead)';
  if (!REPOSITORY.test(repository) || repository.length > 255)
    return `repository ${JSON.stringify(repository.slice(0, 80))} is not a lowercase OCI repository path`;
  return undefined;
}

/** Parses an oci:// URL; throws an Error saying what is wrong. */
export function parseOciUrl(url: string): OciRepository {
  const problem = ociUrlProblem(url);
  if (problem) throw new Error(`OCI URL ${JSON.stringify(url.slice(0, 200))} ${problem}`);
  const rest = url.slice('oci://'.length);
  const slash = rest.indexOf('/');
  const host = rest.slice(0, slash);
  return {
    host,
    repository: rest.slice(slash + 1),
    baseUrl: `${isLoopback(host) ? 'http' : 'https'}://${host}`,
  };
}

/**
 * Loopback registries are spoken to in plain HTTP (a local test or mirror registry); every other
 * host over HTTPS. Plain HTTP to other hosts ("insecure" registries) is not supported yet.
 */
export function isLoopback(host: string): boolean {
  const name = host.replace(/:[0-9]+$/, '').toLowerCase();
  return name === 'localhost' || /^127\.[0-9.]+$/.test(name) || name === '[::1]';
}

export function isDigest(s: string): boolean {
  return DIGEST.test(s);
}
