// gitfleet reconcile | diff | tree assignment NAME: the hub asks the agents over NATS
// (request/reply) to reconcile now, to dry-run the desired revision, or to list the inventory.
import type { Command } from 'commander';
import { AssignmentState, shortRevision, type ObjectDiff, type ObjectNode } from '../../proto/index.js';
import type { ClusterOutcome } from '../../proto/api.js';
import { print, type Column } from '../output.js';
import { parseDuration } from '../parse.js';
import { stateName } from './status.js';
import { withHub } from './verbs.js';

/** Extra time the CLI gives the hub beyond the agents' timeout (re-resolving the repo first). */
const HUB_MARGIN_MS = 30_000;

/** What a cluster's outcome says in the table: its state, or why there is none. */
function outcomeState(o: ClusterOutcome): string {
  if (o.timedOut) return 'Unknown';
  if (o.error || !o.status) return 'Error';
  return stateName(o.status.state);
}

function outcomeColumns(timeoutSeconds: number): Column<ClusterOutcome>[] {
  return [
    { header: 'CLUSTER', get: (o) => o.cluster },
    { header: 'STATE', get: outcomeState },
    {
      header: 'REVISION',
      get: (o) => (o.status?.desiredRevision ? shortRevision(o.status.desiredRevision) : '-'),
    },
    {
      header: 'MESSAGE',
      get: (o) =>
        o.timedOut
          ? `no answer within ${timeoutSeconds}s`
          : (o.error || o.status?.message || '').split('\n')[0],
    },
  ];
}

/** Whether an outcome is a success (Ready or Suspended). */
function succeeded(o: ClusterOutcome): boolean {
  const s = o.status?.state;
  return (
    !o.timedOut &&
    !o.error &&
    (s === AssignmentState.ASSIGNMENT_STATE_READY || s === AssignmentState.ASSIGNMENT_STATE_SUSPENDED)
  );
}

const diffColumns: Column<ObjectDiff>[] = [
  { header: 'ACTION', get: (d) => d.action },
  { header: 'OBJECT', get: (d) => d.object },
  { header: 'FIELDS', get: (d) => d.fields.join(',') },
];

const treeColumns: Column<ObjectNode>[] = [
  { header: 'KIND', get: (n) => n.kind },
  { header: 'NAMESPACE', get: (n) => n.namespace || '-' },
  { header: 'NAME', get: (n) => n.name },
  { header: 'HEALTH', get: (n) => n.health },
  { header: 'MESSAGE', get: (n) => n.message },
];

interface ReconcileFlags {
  tenant: string;
  cluster?: string;
  withSource?: boolean;
  timeout: string;
}

interface OneClusterFlags {
  tenant: string;
  cluster: string;
}

export function registerAgentControl(program: Command): void {
  program
    .command('reconcile')
    .description('ask agents to reconcile now')
    .command('assignment <name>')
    .description(
      "reconcile an assignment now on each cluster it selects (or --cluster) and print each cluster's outcome",
    )
    .requiredOption('--tenant <t>', 'owning tenant')
    .option('--cluster <c>', 'only this cluster')
    .option('--with-source', 're-resolve the repo first and publish what it resolved to')
    .option('--timeout <duration>', 'how long to wait for the agents (at most 10m)', '60s')
    .action(async (name: string, o: ReconcileFlags, c: Command) => {
      let timeoutSeconds: number;
      try {
        timeoutSeconds = parseDuration(o.timeout);
      } catch (err) {
        throw new Error(`--timeout: ${(err as Error).message}`);
      }
      if (timeoutSeconds < 1 || timeoutSeconds > 600) throw new Error('--timeout: use 1s to 10m');
      await withHub(c, async (hub, format) => {
        const res = await hub.assignments.reconcileAssignment(
          {
            tenant: o.tenant,
            name,
            cluster: o.cluster ?? '',
            withSource: Boolean(o.withSource),
            timeoutSeconds,
          },
          { deadline: Date.now() + timeoutSeconds * 1000 + HUB_MARGIN_MS },
        );
        if (res.outcomes.length === 0) {
          process.stderr.write(`gitfleet: assignment ${o.tenant}/${name} selects no cluster\n`);
          return;
        }
        print(
          format,
          format === 'table'
            ? res.outcomes
            : (res.outcomes.map((x) => ({
                ...x,
                status: x.status && { ...x.status, state: stateName(x.status.state) },
              })) as never),
          outcomeColumns(timeoutSeconds),
          'outcomes',
        );
        const failed = res.outcomes.filter((x) => !succeeded(x)).map((x) => x.cluster);
        if (failed.length > 0) {
          throw new Error(
            `assignment ${o.tenant}/${name} is not Ready on ${failed.length} of ${res.outcomes.length} cluster(s): ${failed.join(', ')}`,
          );
        }
      });
    });

  program
    .command('diff')
    .description('what applying the desired revision would change')
    .command('assignment <name>')
    .description(
      'server-side dry-run of the desired revision on one cluster: created, changed (field paths), deleted (pruned), unchanged; nothing is written and no values are shown',
    )
    .requiredOption('--tenant <t>', 'owning tenant')
    .requiredOption('--cluster <c>', 'the cluster')
    .action(async (name: string, o: OneClusterFlags, c: Command) =>
      withHub(c, async (hub, format) => {
        const res = await hub.assignments.diffAssignment({ tenant: o.tenant, name, cluster: o.cluster });
        if (format !== 'table') return print(format, res, []);
        process.stdout.write(`revision ${shortRevision(res.revision)} on cluster ${o.cluster}\n`);
        print(format, res.objects, diffColumns);
      }),
    );

  program
    .command('tree')
    .description("an assignment's objects on a cluster")
    .command('assignment <name>')
    .description(
      "the objects in an assignment's inventory on one cluster with their health (kstatus, or the assignment's --health-expr): Current, InProgress, Failed, NotFound or Unknown",
    )
    .requiredOption('--tenant <t>', 'owning tenant')
    .requiredOption('--cluster <c>', 'the cluster')
    .action(async (name: string, o: OneClusterFlags, c: Command) =>
      withHub(c, async (hub, format) => {
        const res = await hub.assignments.treeAssignment({ tenant: o.tenant, name, cluster: o.cluster });
        if (format !== 'table') return print(format, res, []);
        process.stdout.write(
          `revision ${res.revision ? shortRevision(res.revision) : '-'} on cluster ${o.cluster}\n`,
        );
        print(format, res.objects, treeColumns);
      }),
    );
}
