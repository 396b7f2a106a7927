// gitfleet suspend | resume | history | rollback assignment NAME: steering one assignment without
// repeating its spec. Suspend and resume are partial updates of `suspend`; history lists the
// revisions its clusters applied; rollback pins it to one of them until --unpin.
import type { Command } from 'commander';
import { shortRevision, type Assignment, type AssignmentRevision } from '../../proto/index.js';
import { print, type Column, type OutputFormat } from '../output.js';
import { withHub } from './verbs.js';

/** "2025-01-02 15:04:05Z" (UTC, to the second) */
function when(ms: number): string {
  return ms
    ? new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
    : '-';
}

const historyColumns: Column<AssignmentRevision>[] = [
  { header: 'REVISION', get: (r) => r.revision },
  { header: 'FIRST APPLIED', get: (r) => when(r.firstAppliedAtMs) },
  { header: 'LAST APPLIED', get: (r) => when(r.lastAppliedAtMs) },
  { header: 'CLUSTERS', get: (r) => r.clusters },
  { header: 'CURRENT', get: (r) => (r.current ? '*' : '') },
];

/** "pinned to main@sha1:1a2b3c4d by rollback" or "" */
export function pinNote(a: Pick<Assignment, 'pinnedRevision'>): string {
  return a.pinnedRevision ? `pinned to ${shortRevision(a.pinnedRevision)} by rollback` : '';
}

/** Prints what a control verb did: one line for tables, the assignment for json/yaml. */
function report(format: OutputFormat, a: Assignment, line: string): void {
  if (format === 'table') process.stdout.write(`${line}\n`);
  else print(format, a, []);
}

/** Adds `<verb> assignment <name> --tenant T`. */
function assignmentVerb(program: Command, verb: string, description: string): Command {
  return program
    .command(verb)
    .description(description)
    .command('assignment <name>')
    .description(description)
    .requiredOption('--tenant <t>', 'owning tenant');
}

export function registerControl(program: Command): void {
  for (const [verb, suspend] of [
    ['suspend', true],
    ['resume', false],
  ] as const) {
    assignmentVerb(
      program,
      verb,
      suspend
        ? 'stop reconciling an assignment; its clusters keep what is applied'
        : 'reconcile a suspended assignment again',
    ).action(async (name: string, o: { tenant: string }, cmd: Command) =>
      withHub(cmd, async (hub, format) => {
        const a = await hub.assignments.updateAssignment({
          assignment: { tenant: o.tenant, name, suspend },
          fields: ['suspend'],
        });
        const what = suspend
          ? 'suspended: its clusters keep what is applied'
          : 'resumed: its clusters reconcile it';
        report(format, a, `assignment "${a.tenant}/${a.name}" ${what}`);
      }),
    );
  }

  assignmentVerb(
    program,
    'history',
    'the revisions an assignment\'s clusters applied, newest first (the newest 50; "*" marks the current one)',
  ).action(async (name: string, o: { tenant: string }, cmd: Command) =>
    withHub(cmd, async (hub, format) => {
      const { revisions } = await hub.assignments.listAssignmentHistory({ tenant: o.tenant, name });
      print(format, revisions, historyColumns, 'revisions');
    }),
  );

  assignmentVerb(
    program,
    'rollback',
    'pin an assignment alone to a revision its clusters applied before (default: the one before the current one), until --unpin',
  )
    .option('--to <revision>', 'a revision from gitfleet history (a unique commit or digest prefix will do)')
    .option('--unpin', 'drop the pin: follow the repo again')
    .action(async (name: string, o: { tenant: string; to?: string; unpin?: boolean }, cmd: Command) =>
      withHub(cmd, async (hub, format) => {
        if (o.unpin && o.to !== undefined) throw new Error('give --to or --unpin, not both');
        const a = await hub.assignments.rollbackAssignment({
          tenant: o.tenant,
          name,
          toRevision: o.to ?? '',
          unpin: Boolean(o.unpin),
        });
        const id = `assignment "${a.tenant}/${a.name}"`;
        report(
          format,
          a,
          a.pinnedRevision
            ? `${id} ${pinNote(a)}; its clusters get that revision until --unpin`
            : `${id} unpinned: it follows its repo again`,
        );
      }),
    );
}
