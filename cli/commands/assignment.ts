// gitfleet assignment create | update | get | list | delete
import type { Command } from 'commander';
import {
  formatLabelSelector,
  parseLabelSelector,
  type Assignment,
  type HealthOptions,
  type RolloutOptions,
} from '../../proto/index.js';
import { type Column } from '../output.js';
import {
  collect,
  parseDuration,
  parseGroupVars,
  parseHealthExprs,
  parseSelectorFlag,
  parseVars,
} from '../parse.js';
import { flagNames, givenFields, type FieldTable } from '../update-fields.js';
import { pinNote } from './control.js';
import { nounCommand, writeVerb } from './verbs.js';

const columns: Column<Assignment>[] = [
  { header: 'TENANT', get: (a) => a.tenant },
  { header: 'NAME', get: (a) => a.name },
  { header: 'REPO', get: (a) => a.repo },
  { header: 'PATH', get: (a) => a.path || '.' },
  {
    header: 'CLUSTERS',
    get: (a) => {
      const sel = selectorText(a);
      return [...a.clusters, ...(sel ? [`{${sel}}`] : []), ...(a.groups ?? []).map((g) => `group:${g}`)].join(
        ',',
      );
    },
  },
  { header: 'NAMESPACE', get: (a) => a.targetNamespace },
  { header: 'RENDERER', get: (a) => a.renderer || 'auto' },
  { header: 'PRUNE', get: (a) => a.prune },
  { header: 'SUSPEND', get: (a) => a.suspend },
  { header: 'HEALTH', get: (a) => healthColumn(a.health) },
  { header: 'PINNED', get: (a) => pinNote(a) || '-' },
  { header: 'DEPENDS ON', get: (a) => (a.dependsOn?.length ? a.dependsOn.join(',') : '-') },
  { header: 'RETRY', get: (a) => (a.retryIntervalSeconds ? `${a.retryIntervalSeconds}s` : 'default') },
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

/** The assignment's label selector in kubectl's syntax ("" when it has none). */
function selectorText(a: Assignment): string {
  return formatLabelSelector({ matchLabels: a.selector, matchExpressions: a.matchExpressions ?? [] });
}

/** "wait,2 checks,1 expr,5m" or "-" when Ready means applied only. */
function healthColumn(h: HealthOptions | undefined): string {
  if (!h) return '-';
  const parts = [
    ...(h.wait ? ['wait'] : []),
    ...(h.checks.length ? [`${h.checks.length} check(s)`] : []),
    ...(h.exprs.length ? [`${h.exprs.length} expr(s)`] : []),
  ];
  return [...parts, `${h.timeoutSeconds || 300}s`].join(',');
}

interface AssignmentFlags {
  tenant: string;
  repo: string;
  path: string;
  cluster?: string[];
  selector?: string;
  group?: string[];
  groupVar?: string[];
  namespace?: string;
  /** undefined: not given (create: on) */
  prune?: boolean;
  suspend?: boolean;
  renderer?: string;
  helmRelease?: string;
  valuesFile?: string[];
  set?: string[];
  substitute?: boolean;
  var?: string[];
  substituteStrict?: boolean;
  decryptionSecret?: string;
  wait?: boolean;
  healthCheck?: string[];
  timeout?: string;
  healthExpr?: string[];
  dependsOn?: string[];
  retryInterval?: string;
  drift?: string;
  driftIgnore?: string[];
  force?: boolean;
  rolloutStage?: string[];
  maxUnavailable?: string;
  soak?: string;
  maxFailures?: string;
}

/** --rollout-stage, --max-unavailable, --soak, --max-failures; undefined when none is given. The hub checks the values. */
function rolloutOptions(o: Partial<AssignmentFlags>): RolloutOptions | undefined {
  if (
    !o.rolloutStage?.length &&
    o.maxUnavailable === undefined &&
    o.soak === undefined &&
    o.maxFailures === undefined
  )
    return undefined;
  let soakSeconds = 0;
  if (o.soak !== undefined) {
    try {
      soakSeconds = parseDuration(o.soak);
    } catch (err) {
      throw new Error(`--soak: ${(err as Error).message}`);
    }
  }
  let maxFailures = 0;
  if (o.maxFailures !== undefined) {
    if (!/^\s*\d{1,6}\s*$/.test(o.maxFailures))
      throw new Error(
        `--max-failures ${JSON.stringify(o.maxFailures.slice(0, 40))}: use a whole number (0 = pause on the first failure)`,
      );
    maxFailures = Number(o.maxFailures);
  }
  return {
    stages: (o.rolloutStage ?? []).map((s, i) => parseLabelSelector(s, `--rollout-stage[${i + 1}]`)),
    maxUnavailable: o.maxUnavailable ?? '',
    soakSeconds,
    maxFailures,
  };
}

function assignmentSpec(name: string, o: AssignmentFlags) {
  if (!o.cluster?.length && !o.selector && !o.group?.length)
    throw new Error(
      "name target clusters with --cluster <name>..., --selector 'env in (prod,staging)' or --group <name>...",
    );
  return {
    tenant: o.tenant,
    name,
    repo: o.repo,
    path: o.path,
    clusters: o.cluster ?? [],
    ...parseSelectorFlag(o.selector),
    groups: o.group ?? [],
    groupVars: parseGroupVars(o.groupVar),
    targetNamespace: o.namespace ?? '',
    prune: o.prune ?? true,
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
    health: healthOptions(o),
    // names of the same tenant's assignments; the hub refuses unknown ones and cycles
    dependsOn: o.dependsOn ?? [],
    retryIntervalSeconds: o.retryInterval === undefined ? 0 : retryInterval(o.retryInterval),
    // the hub checks the mode and each KIND:/pointer rule
    drift:
      o.drift !== undefined || o.driftIgnore?.length
        ? { mode: o.drift ?? '', ignore: o.driftIgnore ?? [] }
        : undefined,
    force: Boolean(o.force),
    rollout: rolloutOptions(o),
  };
}

/** --wait, --health-check, --timeout, --health-expr; the hub checks the rest (and the CEL). */
function healthOptions(o: Partial<AssignmentFlags>): HealthOptions | undefined {
  const checks = o.healthCheck ?? [];
  const exprs = parseHealthExprs(o.healthExpr);
  if (!o.wait && !checks.length && !exprs.length && o.timeout === undefined) return undefined;
  let timeoutSeconds = 0;
  if (o.timeout !== undefined) {
    try {
      timeoutSeconds = parseDuration(o.timeout);
    } catch (err) {
      throw new Error(`--timeout: ${(err as Error).message}`);
    }
  }
  return { wait: Boolean(o.wait), checks, timeoutSeconds, exprs };
}

/**
 * The flags `assignment update` sends: each flag the user gave → the fields it changes (the
 * others keep their stored values). Flags added to the verb add a row here.
 */
export const ASSIGNMENT_UPDATE_FIELDS: FieldTable = {
  repo: ['repo'],
  path: ['path'],
  cluster: ['clusters'],
  // the hub takes the match labels and the expressions with it
  selector: ['selector'],
  group: ['groups'],
  groupVar: ['group_vars'],
  namespace: ['target_namespace'],
  prune: ['prune'],
  suspend: ['suspend'],
  renderer: ['renderer'],
  // --no-helm: drop every helm option (before the rows that set one again)
  helm: ['helm'],
  helmRelease: ['helm.release_name'],
  valuesFile: ['helm.values_files'],
  set: ['helm.set'],
  substitute: ['substitute.enabled'],
  // --var implies --substitute (as on create)
  var: ['substitute.vars', 'substitute.enabled'],
  substituteStrict: ['substitute.strict'],
  decryptionSecret: ['decryption_secret'],
  dependsOn: ['depends_on'],
  retryInterval: ['retry_interval_seconds'],
  drift: ['drift.mode'],
  driftIgnore: ['drift.ignore'],
  force: ['force'],
  wait: ['health.wait'],
  healthCheck: ['health.checks'],
  timeout: ['health.timeout_seconds'],
  healthExpr: ['health.exprs'],
  // --no-rollout: drop the rollout options (before the rows that set one again)
  rollout: ['rollout'],
  rolloutStage: ['rollout.stages'],
  maxUnavailable: ['rollout.max_unavailable'],
  soak: ['rollout.soak_seconds'],
  maxFailures: ['rollout.max_failures'],
};

/**
 * The request of `assignment update`: the given flags' values (a field not named in `fields`
 * is ignored by the hub, so its value here does not matter). `--cluster ''` and `--selector ''`
 * clear the clusters and the selector.
 */
export function assignmentUpdate(name: string, o: Partial<AssignmentFlags>, cmd: Command) {
  let fields = givenFields(cmd, ASSIGNMENT_UPDATE_FIELDS);
  // --no-substitute drops the variables and strict mode with it (the hub refuses them while off)
  if (o.substitute === false) fields = fields.map((f) => (f === 'substitute.enabled' ? 'substitute' : f));
  if (fields.length === 0)
    throw new Error(`nothing to change: give at least one of ${flagNames(ASSIGNMENT_UPDATE_FIELDS)}`);
  const vars = parseVars(o.var);
  if (o.substitute === false && Object.keys(vars).length > 0)
    throw new Error('--var needs substitution: drop --no-substitute');
  return {
    fields,
    assignment: {
      tenant: o.tenant ?? '',
      name,
      repo: o.repo ?? '',
      path: o.path ?? '',
      clusters: (o.cluster ?? []).filter(Boolean),
      ...parseSelectorFlag(o.selector),
      groups: (o.group ?? []).filter(Boolean),
      groupVars: parseGroupVars((o.groupVar ?? []).filter(Boolean)),
      targetNamespace: o.namespace ?? '',
      prune: o.prune ?? true,
      suspend: o.suspend ?? false,
      renderer: o.renderer ?? '',
      helm: { releaseName: o.helmRelease ?? '', valuesFiles: o.valuesFile ?? [], set: o.set ?? [] },
      substitute: {
        enabled: o.substitute ?? Object.keys(vars).length > 0,
        vars,
        strict: o.substituteStrict ?? false,
      },
      decryptionSecret: o.decryptionSecret ?? '',
      dependsOn: o.dependsOn ?? [],
      retryIntervalSeconds: o.retryInterval === undefined ? 0 : retryInterval(o.retryInterval),
      drift: { mode: o.drift ?? '', ignore: o.driftIgnore ?? [] },
      force: o.force ?? false,
      health: healthOptions(o) ?? { wait: false, checks: [], timeoutSeconds: 0, exprs: [] },
      // --no-rollout (rollout false): none, every cluster gets a new revision at once again
      rollout: (o as { rollout?: boolean }).rollout === false ? undefined : rolloutOptions(o),
    },
  };
}

/** --retry-interval: a duration of at least a second (the hub bounds it to a day). */
function retryInterval(value: string): number {
  const seconds = parseDuration(value);
  if (seconds < 1)
    throw new Error(`--retry-interval ${JSON.stringify(value)}: use at least 1s, e.g. 30s or 5m`);
  return seconds;
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
    const sel = selectorText(a);
    const by = sel ? ` matching ${sel}` : '';
    process.stderr.write(
      `gitfleet: warning: assignment ${a.tenant}/${a.name} selects no cluster yet: no registered cluster${by}; it applies to clusters that join or get these labels later\n`,
    );
  }
  return a;
}

/** The flags of create (`update` = false: --repo and --path required) and update (every flag optional). */
const assignmentFlags = (update: boolean) => (c: Command) => {
  const all = (
    update
      ? c
          .requiredOption('--tenant <t>', 'owning tenant')
          .option('--repo <r>', "one of the tenant's repos")
          .option('--path <p>', 'directory in the repo')
          .option('--cluster <name>', "a target cluster (repeat for more; '' for none)", collect)
          .option(
            '--selector <sel>',
            "target every cluster this label selector matches, kubectl's syntax: 'env in (prod,staging),tier!=gold,!canary,region' ('' for none)",
          )
          .option(
            '--group <name>',
            "target every cluster of this group (repeat for more; '' for none)",
            collect,
          )
          .option(
            '--group-var <GROUP:name=value>',
            "a substitution variable for the clusters of GROUP, over --var (repeat; replaces them all; '' for none)",
            collect,
          )
          .option('--prune', 'delete objects that leave the repo')
          .option('--no-prune', 'keep objects that leave the repo')
          .option('--suspend', 'stop reconciling, keep what is applied')
          .option('--no-suspend', 'reconcile again (as gitfleet resume)')
          .option('--no-helm', 'drop every helm option (e.g. when leaving the helm renderer)')
      : c
          .requiredOption('--tenant <t>', 'owning tenant')
          .requiredOption('--repo <r>', "one of the tenant's repos")
          .requiredOption('--path <p>', 'directory in the repo')
          .option('--cluster <name>', 'a target cluster (repeat for more)', collect)
          .option(
            '--selector <sel>',
            "target every cluster this label selector matches, kubectl's syntax: 'env in (prod,staging),tier!=gold,!canary,region'",
          )
          .option('--group <name>', 'target every cluster of this cluster group (repeat for more)', collect)
          .option(
            '--group-var <GROUP:name=value>',
            'a substitution variable for the clusters of GROUP, over --var (repeat for more)',
            collect,
          )
          .option('--no-prune', 'keep objects that leave the repo')
          .option('--suspend', 'stop reconciling, keep what is applied')
  )
    .option('--namespace <ns>', "namespace for objects that name none (default: the tenant's first)")
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
    .option('--wait', 'Ready only once every applied object is healthy (kstatus), within --timeout')
    .option(
      '--health-check <Kind/ns/name>',
      'an object that must be healthy before Ready: Kind/namespace/name, Kind/name if cluster-scoped, Kind.group/... outside core/apps/batch (repeat)',
      collect,
    )
    .option('--timeout <duration>', 'how long objects may take to become healthy after apply (default 5m)')
    .option(
      '--health-expr <apiVersion/Kind:role=CEL>',
      'CEL health of a kind, role current|inProgress|failed, e.g. \'example.com/v1/Widget:current=status.phase == "Ready"\' (repeat; current is required)',
      collect,
    )
    .option(
      '--depends-on <name>',
      'an assignment of the same tenant that must be Ready on a cluster before this one is applied there (repeat for more)',
      collect,
    )
    .option(
      '--retry-interval <dur>',
      'first wait after a failed apply, doubled per failure up to 5m or twice the agent resync (default 1s)',
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
    )
    .option(
      '--rollout-stage <selector>',
      "roll each new revision out in stages: the clusters this selector picks (kubectl syntax, e.g. 'ring=canary'); repeat in order; the clusters no stage picks form the last stage (the first revision goes out at once)",
      collect,
    )
    .option(
      '--max-unavailable <n|p%>',
      'inside a stage, how many clusters may be updating or not Ready at once (default 100%)',
    )
    .option(
      '--soak <duration>',
      'a stage is done once all its clusters were Ready at the new revision this long (default 0)',
    )
    .option('--max-failures <n>', 'failed clusters a stage tolerates before the rollout pauses (default 0)');
  // after their positive flags: commander gives a --no-X defined first a default of true
  return update
    ? all
        .option('--no-substitute', 'stop substituting variables (and forget them)')
        .option('--no-substitute-strict', 'leave unset variables empty')
        .option('--no-force', 'fail on immutable-field changes and fields of other managers again')
        .option('--no-wait', 'Ready once applied again (objects named by --health-check are still checked)')
        .option('--no-rollout', 'no staged rollout: every cluster gets a new revision at once again')
    : all;
};

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
        assignmentFlags(false),
        columns,
        (hub, name, o) =>
          warnIfUnmatched(hub.assignments.createAssignment({ assignment: assignmentSpec(name, o) })),
      );
      writeVerb<Assignment, AssignmentFlags>(
        assignment,
        'update <name>',
        "change an assignment: the flags given (each flag left out keeps the assignment's value)",
        assignmentFlags(true),
        columns,
        (hub, name, o, cmd) =>
          warnIfUnmatched(hub.assignments.updateAssignment(assignmentUpdate(name, o, cmd))),
      );
    },
  );
}
