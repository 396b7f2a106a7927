// Validation of a whole desired set as an agent receives it (from the bus, or persisted in its
// cluster): every field by the same rules the hub applies to the requests that produce it
// (./validation.ts). The agent refuses an invalid set as a whole, so a forged or corrupted value
// can neither run git with hostile arguments, escape the checkout, nor prune what is applied.
import type { DesiredSet } from '../gen/gitfleet/v1/bus.js';
import {
  ValidationError,
  checkCommit,
  checkDnsLabel,
  checkGitRevision,
  checkDigest,
  checkGitUrl,
  checkOciUrl,
  checkHelmOptions,
  checkRepoPath,
  checkSecretName,
  checkDriftOptions,
  checkVars,
  checkDependsOn,
  checkRetryInterval,
  hasControlChars,
  MAX_MERGED_VARS,
  isDnsSubdomain,
  quote,
} from './validation.js';
import { checkHealthOptions } from './health.js';
import { checkMaintenanceWindows } from './maintenance-window.js';
import { parseGitRevision, parseOciRevision } from './revision.js';

/**
 * Highest generation an agent accepts. The hub counts up by one per change; 2^48 is ~9,000
 * years of one change a millisecond, and far enough below 2^53 that a forged set with a huge
 * generation is refused instead of locking the agent out of every later (smaller) one.
 */
export const MAX_GENERATION = 2 ** 48;

// a renderer this agent may not know is reported per assignment by the reconciler, not here
const RENDERER_TOKEN = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * Throws a ValidationError naming the first bad field ("desired_set.assignments[2].source.url")
 * unless `set` is a well-formed desired set for `cluster`.
 */
export function validateDesiredSet(set: DesiredSet, cluster: string): DesiredSet {
  const f = 'desired_set';
  if (set.cluster !== cluster) {
    throw new ValidationError(`${f}.cluster`, `${quote(set.cluster)} is not this cluster (${cluster})`);
  }
  const g = set.generation;
  if (!Number.isSafeInteger(g) || g < 1 || g > MAX_GENERATION) {
    throw new ValidationError(`${f}.generation`, `${g} is not between 1 and 2^48`);
  }
  // when new revisions may reach this cluster: the hub's rules (count, length, syntax, time zone)
  checkMaintenanceWindows(`${f}.maintenance_windows`, set.maintenanceWindows);

  const namespacesOf = new Map<string, Set<string>>();
  set.tenants.forEach((t, i) => {
    const tf = `${f}.tenants[${i}]`;
    checkDnsLabel(`${tf}.name`, t.name);
    if (namespacesOf.has(t.name)) throw new ValidationError(`${tf}.name`, `${quote(t.name)} is listed twice`);
    if (t.namespaces.length === 0) throw new ValidationError(`${tf}.namespaces`, 'at least one is required');
    t.namespaces.forEach((ns, j) => checkDnsLabel(`${tf}.namespaces[${j}]`, ns));
    namespacesOf.set(t.name, new Set(t.namespaces));
    // empty: the agent's defaults
    if (t.serviceAccount && !isDnsSubdomain(t.serviceAccount)) {
      throw new ValidationError(
        `${tf}.service_account`,
        `${quote(t.serviceAccount)} is not a valid ServiceAccount name`,
      );
    }
    if (
      t.clusterRole &&
      (t.clusterRole.length > 253 || /[/%\s]/.test(t.clusterRole) || hasControlChars(t.clusterRole))
    ) {
      throw new ValidationError(
        `${tf}.cluster_role`,
        `${quote(t.clusterRole)} is not a valid ClusterRole name`,
      );
    }
  });

  const seen = new Set<string>();
  set.assignments.forEach((a, i) => {
    const af = `${f}.assignments[${i}]`;
    checkDnsLabel(`${af}.tenant`, a.tenant);
    checkDnsLabel(`${af}.name`, a.name);
    checkDnsLabel(`${af}.repo`, a.repo);
    const key = `${a.tenant}/${a.name}`;
    if (seen.has(key)) throw new ValidationError(`${af}.name`, `assignment ${key} is listed twice`);
    seen.add(key);
    const namespaces = namespacesOf.get(a.tenant);
    if (!namespaces)
      throw new ValidationError(`${af}.tenant`, `${quote(a.tenant)} is not in desired_set.tenants`);
    if (a.targetNamespace) {
      checkDnsLabel(`${af}.target_namespace`, a.targetNamespace);
      if (!namespaces.has(a.targetNamespace)) {
        throw new ValidationError(
          `${af}.target_namespace`,
          `${quote(a.targetNamespace)} is not one of tenant ${a.tenant}'s namespaces`,
        );
      }
    }
    checkRepoPath(`${af}.path`, a.path);
    if (a.renderer && !RENDERER_TOKEN.test(a.renderer)) {
      throw new ValidationError(`${af}.renderer`, `${quote(a.renderer)} is not a renderer name`);
    }
    // the merged variables: cluster_name, cluster_label_*, the tenant's and the assignment's
    if (a.substitute) checkVars(`${af}.substitute.vars`, a.substitute.vars, MAX_MERGED_VARS);
    // release name, values files (inside the chart: no "..", no URL) and --set entries
    checkHelmOptions(`${af}.helm`, a.helm);
    // the Secret with the SOPS age identities, read in the tenant's namespace: a name, never a path
    checkSecretName(`${af}.decryption_secret`, a.decryptionSecret);
    // health checks and CEL expressions, compiled by the agent: the hub's rules exactly
    checkHealthOptions(`${af}.health`, a.health);
    // names of the same tenant's assignments; a cycle is the reconciler's to report, per assignment
    checkDependsOn(`${af}.depends_on`, a.dependsOn, a.name);
    checkRetryInterval(`${af}.retry_interval_seconds`, a.retryIntervalSeconds);
    // drift mode and ignore rules (KIND:/pointer; never the object's identity or ownership labels)
    checkDriftOptions(`${af}.drift`, a.drift);
    const s = a.source;
    if (!s) throw new ValidationError(`${af}.source`, 'required');
    if (s.type === 'oci') {
      // pulled by digest: the revision names the same digest, and there is no commit
      checkOciUrl(`${af}.source.url`, s.url);
      checkDigest(`${af}.source.digest`, s.digest);
      if (s.commit) throw new ValidationError(`${af}.source.commit`, 'an OCI source has no commit');
      let revisionDigest = '';
      try {
        revisionDigest = parseOciRevision(s.revision).digest;
      } catch (err) {
        throw new ValidationError(`${af}.source.revision`, (err as Error).message);
      }
      if (revisionDigest !== s.digest)
        throw new ValidationError(`${af}.source.revision`, `${quote(s.revision)} is not digest ${s.digest}`);
    } else if (s.type === 'git') {
      checkGitUrl(`${af}.source.url`, s.url);
      checkCommit(`${af}.source.commit`, s.commit);
      checkGitRevision(`${af}.source.revision`, s.revision);
      if (parseGitRevision(s.revision).commit !== s.commit) {
        throw new ValidationError(`${af}.source.revision`, `${quote(s.revision)} is not commit ${s.commit}`);
      }
      if (s.digest) throw new ValidationError(`${af}.source.digest`, 'a git source has no digest');
    } else {
      throw new ValidationError(
        `${af}.source.type`,
        `${quote(s.type)} is not supported (only "git" or "oci")`,
      );
    }
    const c = s.credentials;
    if (c && (c.username || c.password)) {
      if (!c.username || /[\r\n:]/.test(c.username) || hasControlChars(c.username)) {
        throw new ValidationError(
          `${af}.source.credentials.username`,
          "required, without ':' or control characters",
        );
      }
      if (!c.password || hasControlChars(c.password)) {
        throw new ValidationError(
          `${af}.source.credentials.password`,
          'required, without control characters',
        );
      }
      if (!/^(?:https?|oci):\/\//i.test(s.url)) {
        throw new ValidationError(
          `${af}.source.credentials`,
          'basic-auth credentials need an http(s) or oci URL',
        );
      }
    }
    if (c?.bearerToken) {
      if (!/^[\x21-\x7e]{1,8192}$/.test(c.bearerToken))
        throw new ValidationError(
          `${af}.source.credentials.bearer_token`,
          'must be one line of at most 8192 visible ASCII characters',
        );
      if (!/^https?:\/\//i.test(s.url))
        throw new ValidationError(`${af}.source.credentials`, 'a bearer token needs an http(s) URL');
    }
    if (c && (c.sshPrivateKey || c.knownHosts)) {
      // the hub checked their format; here only what could reach git's environment badly
      if (!c.sshPrivateKey || c.sshPrivateKey.length > 16_384 || c.sshPrivateKey.includes('\0'))
        throw new ValidationError(`${af}.source.credentials.ssh_private_key`, 'required, at most 16 KiB');
      if (!c.knownHosts.trim() || c.knownHosts.length > 65_536 || c.knownHosts.includes('\0'))
        throw new ValidationError(
          `${af}.source.credentials.known_hosts`,
          'required with a key, at most 64 KiB',
        );
      if (/^https?:\/\//i.test(s.url) || /^git:\/\//i.test(s.url))
        throw new ValidationError(`${af}.source.credentials`, 'an SSH key needs an ssh URL');
    }
  });
  return set;
}
