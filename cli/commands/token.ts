// gitfleet token create | list | revoke: API tokens (admin only).
import type { Command } from 'commander';
import type { ApiToken } from '../../proto/api.js';
import { age, print, type Column } from '../output.js';
import { parseDuration } from '../parse.js';
import { withHub } from './verbs.js';

const columns: Column<ApiToken>[] = [
  { header: 'ID', get: (t) => t.id },
  { header: 'ROLE', get: (t) => t.role },
  { header: 'TENANT', get: (t) => t.tenant || '-' },
  { header: 'AGE', get: (t) => age(t.createdAtMs) },
  {
    header: 'EXPIRES',
    get: (t) =>
      !t.expiresAtMs
        ? 'never'
        : t.expiresAtMs > Date.now()
          ? new Date(t.expiresAtMs).toISOString()
          : 'expired',
  },
  { header: 'REVOKED', get: (t) => (t.revokedAtMs ? `${age(t.revokedAtMs)} ago` : '-') },
  { header: 'LAST-USED', get: (t) => (t.lastUsedAtMs ? `${age(t.lastUsedAtMs)} ago` : '-') },
  { header: 'DESCRIPTION', get: (t) => t.description },
];

interface CreateFlags {
  role: string;
  tenant?: string;
  ttl?: string;
  description?: string;
}

export function registerToken(program: Command): void {
  const token = program
    .command('token')
    .description('API tokens: admin, tenant (one tenant) or viewer (read-only)');
  token
    .command('create')
    .description('create a token; the token itself is printed once, alone on the last line of stdout')
    .requiredOption('--role <role>', 'admin, tenant or viewer')
    .option('--tenant <t>', 'the tenant of a tenant token')
    .option('--ttl <dur>', 'expire after this long (e.g. 24h; default never)')
    .option('--description <text>', 'what the token is for')
    .action(async (o: CreateFlags, cmd: Command) =>
      withHub(cmd, async (hub, format) => {
        const res = await hub.tokens.createToken({
          role: o.role,
          tenant: o.tenant ?? '',
          ttlSeconds: o.ttl ? parseDuration(o.ttl) : 0,
          description: o.description ?? '',
        });
        if (format === 'table') {
          process.stdout.write(
            `token ${res.token!.id} (${res.token!.role}${res.token!.tenant ? ` ${res.token!.tenant}` : ''}) created; it is shown only now:\n`,
          );
          process.stdout.write(`${res.secret}\n`);
        } else print(format, res, []);
      }),
    );
  token
    .command('list')
    .description('list tokens (never their secrets)')
    .action(async (_o: unknown, cmd: Command) =>
      withHub(cmd, async (hub, format) =>
        print(format, (await hub.tokens.listTokens({})).tokens, columns, 'tokens'),
      ),
    );
  token
    .command('revoke <id>')
    .description('revoke a token at once')
    .action(async (id: string, _o: unknown, cmd: Command) =>
      withHub(cmd, async (hub) => {
        await hub.tokens.revokeToken({ id });
        process.stdout.write(`token "${id}" revoked\n`);
      }),
    );
}
