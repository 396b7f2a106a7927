// gitfleet audit list: who changed what, when, with what outcome (admin only).
import type { Command } from 'commander';
import type { AuditEntry } from '../../proto/api.js';
import { print, type Column } from '../output.js';
import { withHub } from './verbs.js';

const columns: Column<AuditEntry>[] = [
  { header: 'TIME', get: (e) => new Date(e.atMs).toISOString() },
  { header: 'ACTOR', get: (e) => e.actor },
  { header: 'METHOD', get: (e) => e.method },
  { header: 'TARGET', get: (e) => e.target },
  { header: 'OUTCOME', get: (e) => e.outcome },
  { header: 'MESSAGE', get: (e) => e.message.split('\n')[0] },
];

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('the audit log of changes')
    .command('list')
    .description('newest first')
    .option('--limit <n>', 'at most this many entries (default 100, max 1000)')
    .action(async (o: { limit?: string }, cmd: Command) =>
      withHub(cmd, async (hub, format) => {
        const limit = o.limit === undefined ? 0 : Number(o.limit);
        if (!Number.isInteger(limit) || limit < 0) throw new Error('--limit: a whole number');
        print(format, (await hub.audit.listAudit({ limit })).entries, columns, 'entries');
      }),
    );
}
