// gitfleet repo create | update | get | list | resolve | delete
import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { DEFAULT_REPO_INTERVAL_SECONDS, shortRevision, type Repo } from '../../proto/index.js';
import { age, print, type Column } from '../output.js';
import { parseDuration } from '../parse.js';
import type { HubClient } from '../client/hub-client.js';
import { flagNames, givenFields, type FieldTable } from '../update-fields.js';
import { nounCommand, withHub, writeVerb } from './verbs.js';

function refOf(r: Repo): string {
  if (r.digest) return `digest ${r.digest.slice(0, 19)}`;
  if (r.commit) return `commit ${r.commit.slice(0, 12)}`;
  if (r.semver) return `semver ${r.semver}`;
  if (r.tag) return `tag ${r.tag}`;
  return `branch ${r.branch || 'main'}`;
}

const columns: Column<Repo>[] = [
  { header: 'TENANT', get: (r) => r.tenant },
  { header: 'NAME', get: (r) => r.name },
  { header: 'URL', get: (r) => r.url },
  { header: 'REF', get: refOf },
  { header: 'REVISION', get: (r) => (r.revision ? shortRevision(r.revision) : '<unresolved>') },
  { header: 'RESOLVED', get: (r) => age(r.resolvedAtMs) },
  { header: 'ERROR', get: (r) => r.resolveError },
];

interface RepoFlags {
  tenant: string;
  /** Not given: update keeps the stored URL. */
  url?: string;
  branch?: string;
  tag?: string;
  commit?: string;
  semver?: string;
  digest?: string;
  interval?: string;
  username?: string;
  sshKeyFile?: string;
  knownHostsFile?: string;
  bearerTokenFile?: string;
}

/** A secret read from a file (never a flag value: argv is visible to every user of the machine). */
export function readSecretFile(flag: string, path: string, maxBytes: number): string {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new Error(`${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'cannot read it'}`);
  }
  if (!st.isFile()) throw new Error(`${flag} ${path}: not a regular file`);
  if (st.size > maxBytes) throw new Error(`${flag} ${path}: ${st.size} bytes (at most ${maxBytes})`);
  return readFileSync(path, 'utf8');
}

function credentialsOf(o: RepoFlags, oci: boolean) {
  const given = [
    o.username !== undefined && '--username',
    o.bearerTokenFile !== undefined && '--bearer-token-file',
    (o.sshKeyFile !== undefined || o.knownHostsFile !== undefined) && '--ssh-key-file',
  ].filter(Boolean);
  if (given.length > 1) throw new Error(`use one of ${given.join(', ')}`);
  const none = { username: '', password: '', bearerToken: '', sshPrivateKey: '', knownHosts: '' };
  if (o.username) {
    const passwordVar = oci ? 'GITFLEET_OCI_PASSWORD' : 'GITFLEET_GIT_PASSWORD';
    const password = process.env[passwordVar];
    if (!password) throw new Error(`--username needs the password in ${passwordVar}`);
    return { ...none, username: o.username, password };
  }
  if (o.bearerTokenFile !== undefined) {
    // a token file ends with a newline; the token is the one line
    const bearerToken = readSecretFile('--bearer-token-file', o.bearerTokenFile, 16 * 1024).trim();
    if (!bearerToken) throw new Error(`--bearer-token-file ${o.bearerTokenFile}: the file is empty`);
    return { ...none, bearerToken };
  }
  if (o.sshKeyFile !== undefined || o.knownHostsFile !== undefined) {
    if (!o.sshKeyFile) throw new Error('--known-hosts-file needs --ssh-key-file');
    if (!o.knownHostsFile)
      throw new Error(
        '--ssh-key-file needs --known-hosts-file (e.g. `ssh-keyscan -p PORT HOST > known_hosts`)',
      );
    return {
      ...none,
      sshPrivateKey: readSecretFile('--ssh-key-file', o.sshKeyFile, 64 * 1024),
      knownHosts: readSecretFile('--known-hosts-file', o.knownHostsFile, 256 * 1024),
    };
  }
  return undefined;
}

/** `url`: the URL given, or on update the stored one (what oci:// checks look at). */
function repoSpec(name: string, o: RepoFlags, url = o.url ?? '') {
  const oci = url.startsWith('oci://');
  const refs = [o.branch, o.tag, o.commit, o.semver, o.digest].filter((r) => r !== undefined);
  if (refs.length > 1) throw new Error('use at most one of --branch, --tag, --commit, --semver, --digest');
  if (oci && (o.branch !== undefined || o.commit !== undefined))
    throw new Error('an oci:// repo follows --tag, --semver or --digest (not --branch or --commit)');
  if (!oci && o.digest !== undefined) throw new Error('--digest is for oci:// repos (use --commit for git)');
  if (o.semver !== undefined && !o.semver.trim())
    throw new Error("--semver needs a range, e.g. '>=1.0.0 <2.0.0'");
  return {
    tenant: o.tenant,
    name,
    type: oci ? 'oci' : 'git',
    url,
    branch: o.branch ?? '',
    tag: o.tag ?? '',
    commit: o.commit ?? '',
    semver: o.semver ?? '',
    digest: o.digest ?? '',
    intervalSeconds: parseDuration(o.interval ?? `${DEFAULT_REPO_INTERVAL_SECONDS}s`),
    credentials: credentialsOf(o, oci),
  };
}

/** The ref flags: one replaces another, so any of them sends all five (the others cleared). */
const REF_FIELDS = ['branch', 'tag', 'commit', 'semver', 'digest'];
const CREDENTIAL_FIELDS = ['credentials'];

/**
 * The flags `repo update` sends: each flag the user gave → the fields it changes (the others
 * keep their stored values; credentials stay unless new ones are given).
 */
export const REPO_UPDATE_FIELDS: FieldTable = {
  url: ['url', 'type'],
  branch: REF_FIELDS,
  tag: REF_FIELDS,
  commit: REF_FIELDS,
  semver: REF_FIELDS,
  digest: REF_FIELDS,
  interval: ['interval_seconds'],
  username: CREDENTIAL_FIELDS,
  bearerTokenFile: CREDENTIAL_FIELDS,
  sshKeyFile: CREDENTIAL_FIELDS,
  knownHostsFile: CREDENTIAL_FIELDS,
};

async function repoUpdate(hub: HubClient, name: string, o: RepoFlags, cmd: Command): Promise<Repo> {
  const fields = givenFields(cmd, REPO_UPDATE_FIELDS);
  if (fields.length === 0)
    throw new Error(`nothing to change: give at least one of ${flagNames(REPO_UPDATE_FIELDS)}`);
  // the oci:// checks need the URL: the stored one unless a new one is given
  const url = o.url ?? (await hub.repos.getRepo({ tenant: o.tenant, name })).url;
  return hub.repos.updateRepo({ repo: repoSpec(name, o, url), fields });
}

/** The flags of create (`update` = false: --url required, --interval defaults) and update (all optional). */
const repoFlags = (update: boolean) => (c: Command) =>
  (update
    ? c.requiredOption('--tenant <t>', 'owning tenant').option('--url <url>', 'a new URL (git or oci://)')
    : c
        .requiredOption('--tenant <t>', 'owning tenant')
        .requiredOption('--url <url>', 'git clone URL (http(s), ssh or git), or oci://host[:port]/repository')
  )
    .option('--branch <b>', 'git: follow a branch (default main)')
    .option('--tag <t>', 'pin a tag (oci: follow it, default latest)')
    .option('--commit <sha>', 'git: pin a commit')
    .option('--semver <range>', "follow the highest tag in a SemVer range, e.g. '>=1.0.0 <2.0.0'")
    .option('--digest <sha256:hex>', 'oci: pin a manifest digest')
    .option(
      '--interval <dur>',
      `how often to re-resolve the ref${update ? '' : ` (default ${DEFAULT_REPO_INTERVAL_SECONDS}s)`}`,
    )
    .option(
      '--username <user>',
      'basic-auth user (password from GITFLEET_GIT_PASSWORD, for oci:// from GITFLEET_OCI_PASSWORD)',
    )
    .option('--bearer-token-file <file>', 'http(s): send the token in this file as "Authorization: Bearer"')
    .option('--ssh-key-file <file>', 'ssh URLs: the deploy key (unencrypted private key file)')
    .option(
      '--known-hosts-file <file>',
      "ssh URLs: the server's host keys (`ssh-keyscan -p PORT HOST`); checked strictly",
    );

export function registerRepo(program: Command): void {
  nounCommand<Repo>(
    program,
    {
      word: 'repo',
      plural: 'repos',
      description: "repos: a tenant's sources of manifests",
      columns,
      scoped: true,
      get: (hub, ref) => hub.repos.getRepo(ref),
      list: async (hub, filter) => (await hub.repos.listRepos(filter)).repos,
      remove: async (hub, ref) => void (await hub.repos.deleteRepo(ref)),
    },
    (repo) => {
      writeVerb<Repo, RepoFlags>(
        repo,
        'create <name>',
        'register a git repo or OCI artifact repository; the hub resolves its ref to an exact commit or digest',
        repoFlags(false),
        columns,
        (hub, name, o) => hub.repos.createRepo({ repo: repoSpec(name, o) }),
      );
      writeVerb<Repo, RepoFlags>(
        repo,
        'update <name>',
        "change a repo: the flags given (each flag left out keeps the repo's value; credentials are kept unless --username, --bearer-token-file or --ssh-key-file is given)",
        repoFlags(true),
        columns,
        repoUpdate,
      );
      repo
        .command('resolve <name>')
        .description('resolve the ref now (as a webhook would) and roll out a new revision')
        .requiredOption('--tenant <t>', 'owning tenant')
        .action(async (name: string, o: { tenant: string }, cmd: Command) =>
          withHub(cmd, async (hub, format) =>
            print(format, await hub.repos.resolveRepo({ tenant: o.tenant, name }), columns),
          ),
        );
    },
  );
}
