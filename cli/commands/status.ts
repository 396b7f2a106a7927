// gitfleet status [--watch]: clusters × assignments with revision and state.
import type { Command } from 'commander';
import { AssignmentState, shortRevision, type AssignmentStatus } from '../../proto/index.js';
import { age, print, type Column } from '../output.js';
import { withHub } from './verbs.js';

/** "Ready" for ASSIGNMENT_STATE_READY. */
export function stateName(state: AssignmentState): string {
  const name = AssignmentState[state] ?? 'UNSPECIFIED';
  const word = name.replace(/^ASSIGNMENT_STATE_/, '').toLowerCase();
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** The table's columns; a cluster in `offline` (its heartbeats stopped) is shown as such. */
const statusColumns = (offline: ReadonlySet<string> = new Set()): Column<AssignmentStatus>[] => [
  { header: 'CLUSTER', get: (s) => s.cluster + (offline.has(s.cluster) ? ' (offline)' : '') },
  { header: 'TENANT', get: (s) => s.tenant },
  { header: 'ASSIGNMENT', get: (s) => s.assignment },
  { header: 'STATE', get: (s) => stateName(s.state) },
  { header: 'APPLIED', get: (s) => (s.appliedRevision ? shortRevision(s.appliedRevision) : '-') },
  {
    header: 'DESIRED',
    get: (s) => (s.desiredRevision ? shortRevision(s.desiredRevision) + (s.pinned ? ' (pinned)' : '') : '-'),
  },
  { header: 'OBJECTS', get: (s) => s.objects },
  {
    header: 'CHANGES',
    get: (s) =>
      s.changes
        ? `+${s.changes.created} ~${s.changes.configured} =${s.changes.unchanged} -${s.changes.deleted}`
        : '',
  },
  { header: 'AGE', get: (s) => age(s.finishedAtMs || s.startedAtMs) },
  { header: 'DRIFTED', get: (s) => driftedSummary(s) },
  { header: 'MESSAGE', get: (s) => [s.message.split('\n')[0], retryNote(s)].filter(Boolean).join('; ') },
];
const columns = statusColumns();

/** "retry in 40s" while the agent has a retry of a failed pass scheduled ("" when none is). */
export function retryNote(s: Pick<AssignmentStatus, 'nextRetryAtMs'>, now = Date.now()): string {
  if (!s.nextRetryAtMs) return '';
  // age() of the present seen from the retry: how long until it
  return s.nextRetryAtMs <= now ? 'retry due now' : `retry in ${age(now, s.nextRetryAtMs)}`;
}

/** Status objects as printed by -o json|yaml: the state by name, the conditions as the hub sent them. */
function forOutput(s: AssignmentStatus): Record<string, unknown> {
  return { ...s, state: stateName(s.state) };
}

/** "-", or how many objects drifted and whether they were corrected ("2 corrected", "1 reported"). */
function driftedSummary(s: AssignmentStatus): string {
  const drifted = s.drifted ?? [];
  if (drifted.length === 0) return '-';
  const corrected = drifted.filter((d) => d.corrected).length;
  const reported = drifted.length - corrected;
  return [corrected ? `${corrected} corrected` : '', reported ? `${reported} reported` : '']
    .filter(Boolean)
    .join(', ');
}

interface StatusFlags {
  tenant?: string;
  cluster?: string;
  assignment?: string;
  watch?: boolean;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('clusters × assignments with revision and state')
    .option('--tenant <t>', 'only this tenant')
    .option('--cluster <c>', 'only this cluster')
    .option('--assignment <a>', 'only this assignment')
    .option('-w, --watch', 'keep printing changes')
    .action(async (o: StatusFlags, cmd: Command) =>
      withHub(cmd, async (hub, format) => {
        const filter = { tenant: o.tenant ?? '', cluster: o.cluster ?? '', assignment: o.assignment ?? '' };
        if (!o.watch) {
          const res = await hub.status.getStatus(filter);
          const offline = new Set(res.clusters.filter((c) => c.state === 'Offline').map((c) => c.name));
          if (format === 'table') print(format, res.statuses, statusColumns(offline));
          else print(format, res.statuses.map(forOutput), [], 'statuses');
          return;
        }
        const call = hub.status.watchStatus(filter);
        await new Promise<void>((resolve, reject) => {
          process.once('SIGINT', () => {
            call.cancel();
            resolve();
          });
          call.on('data', (s: AssignmentStatus) => {
            if (format === 'table')
              process.stdout.write(columns.map((c) => String(c.get(s) ?? '')).join('  ') + '\n');
            else if (format === 'json') process.stdout.write(JSON.stringify(forOutput(s)) + '\n');
            else print(format, forOutput(s), []);
          });
          // CANCELLED (1) is our own cancel()
          call.on('error', (err: { code?: number }) => (err.code === 1 ? resolve() : reject(err)));
          call.on('end', resolve);
        });
      }),
    );
}
