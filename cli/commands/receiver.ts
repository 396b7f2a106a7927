// gitfleet receiver create | get | list | delete: a tenant's webhook receivers on the hub.
import type { Command } from 'commander';
import type { Receiver } from '../../proto/index.js';
import { age, print, type Column } from '../output.js';
import { collect } from '../parse.js';
import { readSecretFile } from './repo.js';
import { nounCommand, withHub } from './verbs.js';

const columns: Column<Receiver>[] = [
  { header: 'TENANT', get: (r) => r.tenant },
  { header: 'NAME', get: (r) => r.name },
  { header: 'TYPE', get: (r) => r.type },
  {
    header: 'REPOS',
    get: (r) => (r.repos.length ? r.repos.join(',') : r.type === 'generic' ? '<all>' : '<by URL>'),
  },
  { header: 'PATH', get: (r) => r.path },
  {
    header: 'LAST-DELIVERY',
    get: (r) => (r.lastDeliveryAtMs ? `${age(r.lastDeliveryAtMs)} ago: ${r.lastDelivery}` : '-'),
  },
  { header: 'AGE', get: (r) => age(r.createdAtMs) },
];

interface CreateFlags {
  tenant: string;
  type: string;
  repo?: string[];
  secretFile?: string;
}

export function registerReceiver(program: Command): void {
  nounCommand<Receiver>(
    program,
    {
      word: 'receiver',
      plural: 'receivers',
      description:
        "webhook receivers: a git host's push, POSTed to the hub's --webhook-listen address at the receiver's path, resolves the tenant's repos at once",
      columns,
      scoped: true,
      get: (hub, ref) => hub.receivers.getReceiver(ref),
      list: async (hub, filter) => (await hub.receivers.listReceivers(filter)).receivers,
      remove: async (hub, ref) => void (await hub.receivers.deleteReceiver(ref)),
    },
    (receiver) => {
      receiver
        .command('create <name>')
        .description(
          'create a receiver; without --secret-file the hub generates the secret and it is printed once, alone on the last line of stdout',
        )
        .requiredOption('--tenant <t>', 'owning tenant')
        .requiredOption(
          '--type <type>',
          'github (X-Hub-Signature-256, push events), gitlab (X-Gitlab-Token, Push Hook and Tag Push Hook) or generic (X-Signature: sha256=<hex HMAC-SHA256 of the body>)',
        )
        .option(
          '--repo <name>',
          "a repo of the tenant to resolve (repeat for more); default: github and gitlab resolve the tenant's repos whose URL is the pushed repository's, generic all the tenant's repos",
          collect,
        )
        .option(
          '--secret-file <file>',
          'read the shared secret (16 to 256 printable characters) from this file instead of generating one',
        )
        .action(async (name: string, o: CreateFlags, cmd: Command) =>
          withHub(cmd, async (hub, format) => {
            let secret = '';
            if (o.secretFile !== undefined) {
              // a secret file ends with a newline; the secret is the one line
              secret = readSecretFile('--secret-file', o.secretFile, 4096).trim();
              if (!secret) throw new Error(`--secret-file ${o.secretFile}: the file is empty`);
            }
            const res = await hub.receivers.createReceiver({
              receiver: { tenant: o.tenant, name, type: o.type, repos: o.repo ?? [] },
              secret,
            });
            if (format !== 'table') return print(format, res, []);
            const r = res.receiver!;
            process.stdout.write(
              `receiver ${r.tenant}/${r.name} (${r.type}) created: point the webhook at http(s)://<the hub's --webhook-listen address>${r.path}\n`,
            );
            if (res.secret) {
              process.stdout.write('its secret is shown only now:\n');
              process.stdout.write(`${res.secret}\n`);
            }
          }),
        );
    },
  );
}
