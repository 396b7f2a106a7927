// gitfleet repo create | update | get | list | resolve | delete
import type { Command } from 'commander';
import { DEFAULT_REPO_INTERVAL_SECONDS, shortRevision, type Repo } from '../../proto/index.js';
import { age, print, type Column } from '../output.js';
import { parseDuration } from '../parse.js';
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
  url: string;
  branch?: string;
  tag?: string;
  commit?: string;
  semver?: string;
  digest?: string;
  interval: string;
  username?: string;
}

function repoSpec(name: string, o: RepoFlags) {
  const oci = o.url.startsWith('oci://');
  const refs = [o.branch, o.tag, o.commit, o.semver, o.digest].filter((r) => r !== undefined);
  if (refs.length > 1) throw new Error('use at most one of --branch, --tag, --commit, --semver, --digest');
  if (oci && (o.branch !== undefined || o.commit !== undefined))
    throw new Error('an oci:// repo follows --tag, --semver or --digest (not --branch or --commit)');
  if (!oci && o.digest !== undefined) throw new Error('--digest is for oci:// repos (use --commit for git)');
  if (o.semver !== undefined && !o.semver.trim())
    throw new Error("--semver needs a range, e.g. '>=1.0.0 <2.0.0'");
  const passwordVar = oci ? 'GITFLEET_OCI_PASSWORD' : 'GITFLEET_GIT_PASSWORD';
  const password = process.env[passwordVar];
  if (o.username && !password) throw new Error(`--username needs the password in ${passwordVar}`);
  return {
    tenant: o.tenant,
    name,
    type: oci ? 'oci' : 'git',
    url: o.url,
    branch: o.branch ?? '',
    tag: o.tag ?? '',
    commit: o.commit ?? '',
    semver: o.semver ?? '',
    digest: o.digest ?? '',
    intervalSeconds: parseDuration(o.interval),
    credentials: o.username ? { username: o.username, password } : undefined,
  };
}

const repoFlags = (c: Command) =>
  c
    .requiredOption('--tenant <t>', 'owning tenant')
    .requiredOption('--url <url>', 'git clone URL (http(s), ssh or git), or oci://host[:port]/repository')
    .option('--branch <b>', 'git: follow a branch (default main)')
    .option('--tag <t>', 'pin a tag (oci: follow it, default latest)')
    .option('--commit <sha>', 'git: pin a commit')
    .option('--semver <range>', "follow the highest tag in a SemVer range, e.g. '>=1.0.0 <2.0.0'")
    .option('--digest <sha256:hex>', 'oci: pin a manifest digest')
    .option('--interval <dur>', 'how often to re-resolve the ref', `${DEFAULT_REPO_INTERVAL_SECONDS}s`)
    .option(
      '--username <user>',
      'basic-auth user (password from GITFLEET_GIT_PASSWORD, for oci:// from GITFLEET_OCI_PASSWORD)',
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
        repoFlags,
        columns,
        (hub, name, o) => hub.repos.createRepo({ repo: repoSpec(name, o) }),
      );
      writeVerb<Repo, RepoFlags>(
        repo,
        'update <name>',
        "replace a repo's source (credentials are kept unless --username is given)",
        repoFlags,
        columns,
        (hub, name, o) => hub.repos.updateRepo({ repo: repoSpec(name, o) }),
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
