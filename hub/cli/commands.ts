// The client verbs: tenant, repo, cluster, assignment (create | get | list | delete) and status.
// Each talks to the hub's gRPC API; output in -o table|json|yaml.
import type { Command } from 'commander';
import {
  AssignmentState,
  shortRevision,
  type Assignment,
  type AssignmentStatus,
  type Cluster,
  type Repo,
  type Tenant,
} from '../../proto/index.js';
import { connectHub, DEFAULT_HUB, describeHubError, type HubClient } from './client.js';
import { age, labels, parseFormat, print, type Column, type OutputFormat } from './output.js';
import { collect, parseDuration, parseLabels } from './parse.js';

interface GlobalOpts {
  hub?: string;
  output: string;
}

function globals(cmd: Command): { hub: string; format: OutputFormat } {
  const o = cmd.optsWithGlobals<GlobalOpts>();
  return { hub: o.hub ?? process.env.GITFLEET_HUB ?? DEFAULT_HUB, format: parseFormat(o.output ?? 'table') };
}

async function withHub<T>(
  cmd: Command,
  fn: (hub: HubClient, format: OutputFormat) => Promise<T>,
): Promise<T> {
  const { hub: address, format } = globals(cmd);
  const hub = connectHub(address);
  try {
    return await fn(hub, format);
  } catch (err) {
    throw describeHubError(err, address);
  } finally {
    hub.close();
  }
}

export function stateName(state: AssignmentState): string {
  const name = AssignmentState[state] ?? 'UNSPECIFIED';
  const word = name.replace(/^ASSIGNMENT_STATE_/, '').toLowerCase();
  return word.charAt(0).toUpperCase() + word.slice(1);
}

const tenantColumns: Column<Tenant>[] = [
  { header: 'NAME', get: (t) => t.name },
  { header: 'NAMESPACES', get: (t) => t.namespaces.join(',') },
  { header: 'SERVICE-ACCOUNT', get: (t) => t.serviceAccount },
  { header: 'CLUSTER-ROLE', get: (t) => t.clusterRole },
  { header: 'AGE', get: (t) => age(t.createdAtMs) },
];

function repoRef(r: Repo): string {
  return r.commit
    ? `commit ${r.commit.slice(0, 12)}`
    : r.tag
      ? `tag ${r.tag}`
      : `branch ${r.branch || 'main'}`;
}

const repoColumns: Column<Repo>[] = [
  { header: 'TENANT', get: (r) => r.tenant },
  { header: 'NAME', get: (r) => r.name },
  { header: 'URL', get: (r) => r.url },
  { header: 'REF', get: repoRef },
  { header: 'REVISION', get: (r) => (r.revision ? shortRevision(r.revision) : '<unresolved>') },
  { header: 'RESOLVED', get: (r) => age(r.resolvedAtMs) },
  { header: 'ERROR', get: (r) => r.resolveError },
];

const clusterColumns: Column<Cluster>[] = [
  { header: 'NAME', get: (c) => c.name },
  { header: 'LABELS', get: (c) => labels(c.labels) },
  { header: 'AGENT', get: (c) => c.agentVersion || '-' },
  { header: 'HEARTBEAT', get: (c) => age(c.lastHeartbeatMs) },
  { header: 'GENERATION', get: (c) => `${c.observedGeneration}/${c.desiredGeneration}` },
  { header: 'AGE', get: (c) => age(c.createdAtMs) },
];

const assignmentColumns: Column<Assignment>[] = [
  { header: 'TENANT', get: (a) => a.tenant },
  { header: 'NAME', get: (a) => a.name },
  { header: 'REPO', get: (a) => a.repo },
  { header: 'PATH', get: (a) => a.path || '.' },
  {
    header: 'CLUSTERS',
    get: (a) =>
      [...a.clusters, ...(Object.keys(a.selector).length ? [`{${labels(a.selector)}}`] : [])].join(','),
  },
  { header: 'NAMESPACE', get: (a) => a.targetNamespace },
  { header: 'PRUNE', get: (a) => a.prune },
  { header: 'SUSPEND', get: (a) => a.suspend },
];

export const statusColumns: Column<AssignmentStatus>[] = [
  { header: 'CLUSTER', get: (s) => s.cluster },
  { header: 'TENANT', get: (s) => s.tenant },
  { header: 'ASSIGNMENT', get: (s) => s.assignment },
  { header: 'STATE', get: (s) => stateName(s.state) },
  { header: 'APPLIED', get: (s) => (s.appliedRevision ? shortRevision(s.appliedRevision) : '-') },
  { header: 'DESIRED', get: (s) => (s.desiredRevision ? shortRevision(s.desiredRevision) : '-') },
  { header: 'OBJECTS', get: (s) => s.objects },
  {
    header: 'CHANGES',
    get: (s) =>
      s.changes
        ? `+${s.changes.created} ~${s.changes.configured} =${s.changes.unchanged} -${s.changes.deleted}`
        : '',
  },
  { header: 'AGE', get: (s) => age(s.finishedAtMs || s.startedAtMs) },
  { header: 'MESSAGE', get: (s) => s.message.split('\n')[0] },
];

/** Status objects as printed by -o json|yaml: the state by name. */
export function statusForOutput(s: AssignmentStatus): Record<string, unknown> {
  return { ...s, state: stateName(s.state) };
}

export function registerClientCommands(program: Command): void {
  // ---- tenant
  const tenant = program.command('tenant').description('tenants: the teams that own repos and assignments');
  tenant
    .command('create <name>')
    .description('create a tenant confined to its namespaces on every cluster')
    .requiredOption('--namespace <ns>', 'a namespace the tenant owns (repeat for more)', collect)
    .option('--service-account <sa>', 'ServiceAccount the agent impersonates', 'gitfleet-reconciler')
    .option('--cluster-role <role>', 'ClusterRole bound in each tenant namespace', 'admin')
    .action(
      async (
        name: string,
        o: { namespace: string[]; serviceAccount: string; clusterRole: string },
        cmd: Command,
      ) =>
        withHub(cmd, async (hub, format) => {
          const t = await hub.tenants.createTenant({
            tenant: {
              name,
              namespaces: o.namespace,
              serviceAccount: o.serviceAccount,
              clusterRole: o.clusterRole,
            },
          });
          print(format, t, tenantColumns);
        }),
    );
  tenant
    .command('get <name>')
    .action(async (name: string, _o: unknown, cmd: Command) =>
      withHub(cmd, async (hub, format) =>
        print(format, await hub.tenants.getTenant({ name }), tenantColumns),
      ),
    );
  tenant.command('list').action(async (_o: unknown, cmd: Command) =>
    withHub(cmd, async (hub, format) => {
      const res = await hub.tenants.listTenants({});
      print(format, res.tenants, tenantColumns, 'tenants');
    }),
  );
  tenant.command('delete <name>').action(async (name: string, _o: unknown, cmd: Command) =>
    withHub(cmd, async (hub) => {
      await hub.tenants.deleteTenant({ name });
      process.stdout.write(`tenant "${name}" deleted\n`);
    }),
  );

  // ---- repo
  const repo = program.command('repo').description("repos: a tenant's sources of manifests");
  interface RepoFlags {
    tenant: string;
    url: string;
    branch?: string;
    tag?: string;
    commit?: string;
    interval: string;
    username?: string;
  }
  const repoSpec = (name: string, o: RepoFlags) => {
    const refs = [o.branch, o.tag, o.commit].filter(Boolean);
    if (refs.length > 1) throw new Error('use at most one of --branch, --tag, --commit');
    const password = process.env.GITFLEET_GIT_PASSWORD;
    if (o.username && !password) throw new Error('--username needs the password in GITFLEET_GIT_PASSWORD');
    return {
      tenant: o.tenant,
      name,
      type: 'git',
      url: o.url,
      branch: o.branch ?? '',
      tag: o.tag ?? '',
      commit: o.commit ?? '',
      intervalSeconds: parseDuration(o.interval),
      credentials: o.username ? { username: o.username, password } : undefined,
    };
  };
  const withRepoFlags = (c: Command) =>
    c
      .requiredOption('--tenant <t>', 'owning tenant')
      .requiredOption('--url <git-url>', 'clone URL (http(s), ssh or git)')
      .option('--branch <b>', 'follow a branch (default main)')
      .option('--tag <t>', 'pin a tag')
      .option('--commit <sha>', 'pin a commit')
      .option('--interval <dur>', 'how often to re-resolve the ref', '1m')
      .option('--username <user>', 'basic-auth user (password from GITFLEET_GIT_PASSWORD)');
  withRepoFlags(
    repo
      .command('create <name>')
      .description('register a git repo; the hub resolves its ref to an exact commit'),
  ).action(async (name: string, o: RepoFlags, cmd: Command) =>
    withHub(cmd, async (hub, format) =>
      print(format, await hub.repos.createRepo({ repo: repoSpec(name, o) }), repoColumns),
    ),
  );
  withRepoFlags(
    repo
      .command('update <name>')
      .description("replace a repo's source (credentials are kept unless --username is given)"),
  ).action(async (name: string, o: RepoFlags, cmd: Command) =>
    withHub(cmd, async (hub, format) =>
      print(format, await hub.repos.updateRepo({ repo: repoSpec(name, o) }), repoColumns),
    ),
  );
  repo
    .command('get <name>')
    .requiredOption('--tenant <t>', 'owning tenant')
    .action(async (name: string, o: { tenant: string }, cmd: Command) =>
      withHub(cmd, async (hub, format) =>
        print(format, await hub.repos.getRepo({ tenant: o.tenant, name }), repoColumns),
      ),
    );
  repo
    .command('list')
    .option('--tenant <t>', 'only this tenant')
    .action(async (o: { tenant?: string }, cmd: Command) =>
      withHub(cmd, async (hub, format) => {
        const res = await hub.repos.listRepos({ tenant: o.tenant ?? '' });
        print(format, res.repos, repoColumns, 'repos');
      }),
    );
  repo
    .command('resolve <name>')
    .description('resolve the ref now (as a webhook would) and roll out a new revision')
    .requiredOption('--tenant <t>', 'owning tenant')
    .action(async (name: string, o: { tenant: string }, cmd: Command) =>
      withHub(cmd, async (hub, format) =>
        print(format, await hub.repos.resolveRepo({ tenant: o.tenant, name }), repoColumns),
      ),
    );
  repo
    .command('delete <name>')
    .requiredOption('--tenant <t>', 'owning tenant')
    .action(async (name: string, o: { tenant: string }, cmd: Command) =>
      withHub(cmd, async (hub) => {
        await hub.repos.deleteRepo({ tenant: o.tenant, name });
        process.stdout.write(`repo "${o.tenant}/${name}" deleted\n`);
      }),
    );

  // ---- cluster
  const cluster = program.command('cluster').description('clusters: the spokes, each running one agent');
  cluster
    .command('create <name>')
    .description('register a cluster (run `gitfleet agent --cluster <name>` in it)')
    .option('--label <k=v>', 'a label for selectors (repeat for more)', collect)
    .action(async (name: string, o: { label?: string[] }, cmd: Command) =>
      withHub(cmd, async (hub, format) => {
        const c = await hub.clusters.createCluster({ cluster: { name, labels: parseLabels(o.label) } });
        print(format, c, clusterColumns);
      }),
    );
  cluster
    .command('update <name>')
    .description("replace a cluster's labels (selectors re-evaluate at once)")
    .option('--label <k=v>', 'a label (repeat for more); none clears them', collect)
    .action(async (name: string, o: { label?: string[] }, cmd: Command) =>
      withHub(cmd, async (hub, format) => {
        const c = await hub.clusters.updateCluster({ cluster: { name, labels: parseLabels(o.label) } });
        print(format, c, clusterColumns);
      }),
    );
  cluster
    .command('get <name>')
    .action(async (name: string, _o: unknown, cmd: Command) =>
      withHub(cmd, async (hub, format) =>
        print(format, await hub.clusters.getCluster({ name }), clusterColumns),
      ),
    );
  cluster
    .command('list')
    .option('--selector <k=v,...>', 'only clusters with these labels')
    .action(async (o: { selector?: string }, cmd: Command) =>
      withHub(cmd, async (hub, format) => {
        const res = await hub.clusters.listClusters({
          selector: parseLabels(o.selector ? [o.selector] : []),
        });
        print(format, res.clusters, clusterColumns, 'clusters');
      }),
    );
  cluster.command('delete <name>').action(async (name: string, _o: unknown, cmd: Command) =>
    withHub(cmd, async (hub) => {
      await hub.clusters.deleteCluster({ name });
      process.stdout.write(`cluster "${name}" deleted\n`);
    }),
  );

  // ---- assignment
  const assignment = program
    .command('assignment')
    .description('assignments: deploy path P of repo R onto selected clusters');
  interface AssignmentFlags {
    tenant: string;
    repo: string;
    path: string;
    cluster?: string[];
    selector?: string;
    namespace?: string;
    prune: boolean;
    suspend?: boolean;
  }
  const assignmentSpec = (name: string, o: AssignmentFlags) => {
    if (!o.cluster?.length && !o.selector)
      throw new Error('name target clusters with --cluster <name>... or --selector k=v,...');
    return {
      tenant: o.tenant,
      name,
      repo: o.repo,
      path: o.path,
      clusters: o.cluster ?? [],
      selector: parseLabels(o.selector ? [o.selector] : []),
      targetNamespace: o.namespace ?? '',
      prune: o.prune,
      suspend: o.suspend ?? false,
      renderer: 'auto',
    };
  };
  const withAssignmentFlags = (c: Command) =>
    c
      .requiredOption('--tenant <t>', 'owning tenant')
      .requiredOption('--repo <r>', "one of the tenant's repos")
      .requiredOption('--path <p>', 'directory in the repo')
      .option('--cluster <name>', 'a target cluster (repeat for more)', collect)
      .option('--selector <k=v,...>', 'target every cluster with these labels')
      .option('--namespace <ns>', "namespace for objects that name none (default: the tenant's first)")
      .option('--no-prune', 'keep objects that leave the repo')
      .option('--suspend', 'stop reconciling, keep what is applied');
  withAssignmentFlags(assignment.command('create <name>').description('create an assignment')).action(
    async (name: string, o: AssignmentFlags, cmd: Command) =>
      withHub(cmd, async (hub, format) => {
        const a = await hub.assignments.createAssignment({ assignment: assignmentSpec(name, o) });
        print(format, a, assignmentColumns);
      }),
  );
  withAssignmentFlags(assignment.command('update <name>').description("replace an assignment's spec")).action(
    async (name: string, o: AssignmentFlags, cmd: Command) =>
      withHub(cmd, async (hub, format) => {
        const a = await hub.assignments.updateAssignment({ assignment: assignmentSpec(name, o) });
        print(format, a, assignmentColumns);
      }),
  );
  assignment
    .command('get <name>')
    .requiredOption('--tenant <t>', 'owning tenant')
    .action(async (name: string, o: { tenant: string }, cmd: Command) =>
      withHub(cmd, async (hub, format) =>
        print(format, await hub.assignments.getAssignment({ tenant: o.tenant, name }), assignmentColumns),
      ),
    );
  assignment
    .command('list')
    .option('--tenant <t>', 'only this tenant')
    .action(async (o: { tenant?: string }, cmd: Command) =>
      withHub(cmd, async (hub, format) => {
        const res = await hub.assignments.listAssignments({ tenant: o.tenant ?? '' });
        print(format, res.assignments, assignmentColumns, 'assignments');
      }),
    );
  assignment
    .command('delete <name>')
    .description('delete an assignment; with prune on, agents delete its objects')
    .requiredOption('--tenant <t>', 'owning tenant')
    .action(async (name: string, o: { tenant: string }, cmd: Command) =>
      withHub(cmd, async (hub) => {
        await hub.assignments.deleteAssignment({ tenant: o.tenant, name });
        process.stdout.write(`assignment "${o.tenant}/${name}" deleted\n`);
      }),
    );

  // ---- status
  program
    .command('status')
    .description('clusters × assignments with revision and state')
    .option('--tenant <t>', 'only this tenant')
    .option('--cluster <c>', 'only this cluster')
    .option('--assignment <a>', 'only this assignment')
    .option('-w, --watch', 'keep printing changes')
    .action(
      async (o: { tenant?: string; cluster?: string; assignment?: string; watch?: boolean }, cmd: Command) =>
        withHub(cmd, async (hub, format) => {
          const filter = { tenant: o.tenant ?? '', cluster: o.cluster ?? '', assignment: o.assignment ?? '' };
          if (!o.watch) {
            const res = await hub.status.getStatus(filter);
            if (format === 'table') print(format, res.statuses, statusColumns);
            else print(format, res.statuses.map(statusForOutput), [], 'statuses');
            return;
          }
          const call = hub.status.watchStatus(filter);
          await new Promise<void>((resolve, reject) => {
            const stop = () => {
              call.cancel();
              resolve();
            };
            process.once('SIGINT', stop);
            call.on('data', (s: AssignmentStatus) => {
              if (format === 'table')
                process.stdout.write(statusColumns.map((c) => String(c.get(s) ?? '')).join('  ') + '\n');
              else if (format === 'json') process.stdout.write(JSON.stringify(statusForOutput(s)) + '\n');
              else print(format, statusForOutput(s), []);
            });
            call.on('error', (err: { code?: number }) => (err.code === 1 ? resolve() : reject(err)));
            call.on('end', resolve);
          });
        }),
    );
}
