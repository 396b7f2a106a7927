// gitfleet rollout status | pause | resume | abort | undo ASSIGNMENT --tenant T
import type { Command } from 'commander';
import { shortRevision, type Rollout } from '../../proto/index.js';
import { print, type OutputFormat } from '../output.js';
import { withHub } from './verbs.js';

const short = (r: string) => (r ? shortRevision(r) : '(none)');

/** The status as text: the rollout, then per stage its selector, state and clusters. */
export function formatRollout(r: Rollout, now = Date.now()): string {
  const lines = [
    `assignment ${r.tenant}/${r.assignment}: ${r.state} — ${short(r.revision)} (previous ${short(r.previousRevision)}), stage ${r.stage} of ${r.stages.length}`,
  ];
  if (r.message) lines.push(`  ${r.message}`);
  r.stages.forEach((s, i) => {
    const counts = new Map<string, number>();
    for (const c of s.clusters) counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
    const soak =
      s.state === 'Soaking' && s.soakUntilMs
        ? ` until ${new Date(s.soakUntilMs).toISOString()} (${Math.max(0, Math.ceil((s.soakUntilMs - now) / 1000))}s)`
        : '';
    const summary = [...counts].map(([state, n]) => `${n} ${state}`).join(', ') || 'no clusters';
    lines.push(`stage ${i + 1} ${s.selector || '(the rest)'}: ${s.state}${soak} — ${summary}`);
    for (const c of s.clusters) {
      lines.push(
        `  ${c.cluster.padEnd(24)} ${c.state.padEnd(9)} ${short(c.revision)}${c.message ? `  ${c.message}` : ''}`,
      );
    }
  });
  return `${lines.join('\n')}\n`;
}

function show(format: OutputFormat, r: Rollout): void {
  if (format === 'table') process.stdout.write(formatRollout(r));
  else print(format, r, []);
}

const ACTIONS = {
  status: 'show the rollout of an assignment: target and previous revision, state, stages and clusters',
  pause: 'stop starting clusters (those updating finish)',
  resume: 'continue a paused rollout (a stage whose failures are still beyond --max-failures pauses again)',
  abort: 'stop the rollout: clusters keep their pins; the next revision starts a new rollout',
  undo: 'pin the previous revision on every cluster at once and end the rollout',
} as const;

export function registerRollout(program: Command): void {
  const rollout = program.command('rollout').description('staged rollouts of assignments');
  for (const [verb, description] of Object.entries(ACTIONS)) {
    rollout
      .command(`${verb} <assignment>`)
      .description(description)
      .requiredOption('--tenant <t>', 'owning tenant')
      .action(async (assignment: string, o: { tenant: string }, cmd: Command) =>
        withHub(cmd, async (hub, format) => {
          const req = { tenant: o.tenant, assignment };
          const r =
            verb === 'status'
              ? await hub.rollouts.getRollout(req)
              : verb === 'pause'
                ? await hub.rollouts.pauseRollout(req)
                : verb === 'resume'
                  ? await hub.rollouts.resumeRollout(req)
                  : verb === 'abort'
                    ? await hub.rollouts.abortRollout(req)
                    : await hub.rollouts.undoRollout(req);
          show(format, r);
        }),
      );
  }
}
