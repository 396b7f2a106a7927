// gitfleet assignment create | update | get | list | delete
import type { Command } from 'commander';
import type { Assignment } from '../../proto/index.js';
import { labels, type Column } from '../output.js';
import { collect, parseLabels, parseVars } from '../parse.js';
import { nounCommand, writeVerb } from './verbs.js';

const columns: Column<Assignment>[] = [
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
  { header: 'RENDERER', get: (a) => a.renderer || 'auto' },
  { header: 'PRUNE', get: (a) => a.prune },
  { header: 'SUSPEND', get: (a) => a.suspend },
  {
    header: 'DRIFT',
    get: (a) =>
      [
        a.drift?.mode || 'correct',
        ...(a.drift?.ignore ?? []).map((r) => `ignore ${r}`),
        ...(a.force ? ['force'] : []),
      ].join('; '),
  },
];

interface AssignmentFlags {
  tenant: string;
  repo: string;
  path: string;
  cluster?: string[];
  selector?: string;
  namespace?: string;
  prune: boolean;
  suspend?: boolean;
  renderer?: string;
  helmRelease?: string;
  valuesFile?: string[];
  set?: string[];
  substitute?: boolean;
  var?: string[];
  substituteStrict?: boolean;
  decryptionSecret?: string;
  drift?: string;
  driftIgnore?: string[];
  force?: boolean;
}

function assignmentSpec(name: string, o: AssignmentFlags) {
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
    renderer: o.renderer ?? 'auto',
    // the hub checks these (and that they go with the helm or auto renderer)
    helm:
      o.helmRelease !== undefined || o.valuesFile?.length || o.set?.length
        ? { releaseName: o.helmRelease ?? '', valuesFiles: o.valuesFile ?? [], set: o.set ?? [] }
        : undefined,
    substitute: substitution(o),
    // only the Secret's name: the age keys stay in the tenant's namespace on each cluster
    decryptionSecret: o.decryptionSecret ?? '',
    // the hub checks the mode and each KIND:/pointer rule
    drift:
      o.drift !== undefined || o.driftIgnore?.length
        ? { mode: o.drift ?? '', ignore: o.driftIgnore ?? [] }
        : undefined,
    force: Boolean(o.force),
  };
}

/** --var implies --substitute; --substitute-strict alone does not turn it on (the hub says so). */
function substitution(o: AssignmentFlags) {
  const vars = parseVars(o.var);
  const enabled = Boolean(o.substitute) || Object.keys(vars).length > 0;
  if (!enabled && !o.substituteStrict) return undefined;
  if (!enabled) throw new Error('--substitute-strict needs --substitute (or --var name=value)');
  return { enabled, vars, strict: Boolean(o.substituteStrict) };
}

/** Warns on stderr when an assignment selects no cluster now (it still applies to ones that join). */
async function warnIfUnmatched(result: Promise<Assignment>): Promise<Assignment> {
  const a = await result;
  if (a.matchedClusters === 0) {
    const by = Object.keys(a.selector).length ? ` with labels ${labels(a.selector)}` : '';
    process.stderr.write(
      `gitfleet: warning: assignment ${a.tenant}/${a.name} selects no cluster yet: no registered cluster${by}; it applies to clusters that join or get these labels later\n`,
    );
  }
  return a;
}

const assignmentFlags = (c: Command) =>
  c
    .requiredOption('--tenant <t>', 'owning tenant')
    .requiredOption('--repo <r>', "one of the tenant's repos")
    .requiredOption('--path <p>', 'directory in the repo')
    .option('--cluster <name>', 'a target cluster (repeat for more)', collect)
    .option('--selector <k=v,...>', 'target every cluster with these labels')
    .option('--namespace <ns>', "namespace for objects that name none (default: the tenant's first)")
    .option('--no-prune', 'keep objects that leave the repo')
    .option('--suspend', 'stop reconciling, keep what is applied')
    .option(
      '--renderer <r>',
      'auto (kustomization.yaml → kustomize, Chart.yaml → helm, else plain), plain, kustomize or helm',
    )
    .option('--helm-release <name>', 'helm release name (default: the assignment name)')
    .option('--values-file <file>', 'a values file in the chart directory (repeat; later ones win)', collect)
    .option(
      '--set <key=value>',
      'an inline helm value, as helm --set (repeat; after the values files)',
      collect,
    )
    .option(
      '--substitute',
      "substitute ${var}, ${var:=default} and ${var:-default} in the rendered objects (as Flux postBuild): cluster_name, cluster_label_<key>, the tenant's and these variables",
    )
    .option('--var <name=value>', 'a substitution variable (repeat for more; implies --substitute)', collect)
    .option('--substitute-strict', 'fail the revision on a variable that is not set and has no default')
    .option(
      '--decryption-secret <name>',
      "decrypt SOPS-encrypted documents with the age identities (entries '*.agekey') of this Secret in the tenant's first namespace, read as the tenant",
    )
    .option(
      '--drift <mode>',
      'correct (default: re-apply a change made by someone else at once) or report (show the drifted fields in status, write nothing over them)',
    )
    .option(
      '--drift-ignore <KIND:POINTER>',
      'a field another controller owns, never applied over nor reported, e.g. Deployment:/spec/replicas or apps/Deployment:/spec/replicas (repeat for more)',
      collect,
    )
    .option(
      '--force',
      'recreate objects whose immutable fields changed (a Service clusterIP, a Job template) and take fields other field managers own',
    );

export function registerAssignment(program: Command): void {
  nounCommand<Assignment>(
    program,
    {
      word: 'assignment',
      plural: 'assignments',
      description: 'assignments: deploy path P of repo R onto selected clusters',
      columns,
      scoped: true,
      get: (hub, ref) => hub.assignments.getAssignment(ref),
      list: async (hub, filter) => (await hub.assignments.listAssignments(filter)).assignments,
      remove: async (hub, ref) => void (await hub.assignments.deleteAssignment(ref)),
      deleteDescription: 'delete an assignment; with prune on, agents delete its objects',
    },
    (assignment) => {
      writeVerb<Assignment, AssignmentFlags>(
        assignment,
        'create <name>',
        'create an assignment',
        assignmentFlags,
        columns,
        (hub, name, o) =>
          warnIfUnmatched(hub.assignments.createAssignment({ assignment: assignmentSpec(name, o) })),
      );
      writeVerb<Assignment, AssignmentFlags>(
        assignment,
        'update <name>',
        "replace an assignment's spec",
        assignmentFlags,
        columns,
        (hub, name, o) =>
          warnIfUnmatched(hub.assignments.updateAssignment({ assignment: assignmentSpec(name, o) })),
      );
    },
  );
}
