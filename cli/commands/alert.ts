// gitfleet alert create | get | list | delete | test
import type { Command } from 'commander';
import type { Alert } from '../../proto/index.js';
import { age, print, type Column } from '../output.js';
import { collect, parseCount, parseDuration } from '../parse.js';
import { readSecretFile } from './repo.js';
import { withHub } from './verbs.js';

const EVENT_KINDS =
  'assignment.failed, assignment.recovered, rollout.paused, rollout.finished, cluster.offline, cluster.online';

const columns: Column<Alert>[] = [
  { header: 'TENANT', get: (a) => a.tenant || '<admin>' },
  { header: 'NAME', get: (a) => a.name },
  { header: 'TYPE', get: (a) => a.type },
  { header: 'RECEIVER', get: (a) => a.url },
  { header: 'EVENTS', get: (a) => (a.events.length ? a.events.join(',') : '<all>') },
  { header: 'SEVERITY', get: (a) => a.severity },
  { header: 'LAST-SENT', get: (a) => age(a.lastSentAtMs) },
  { header: 'LAST-ERROR', get: (a) => a.lastError },
];

interface AlertFlags {
  tenant?: string;
  type: string;
  url?: string;
  urlFile?: string;
  secretFile?: string;
  event?: string[];
  assignment?: string[];
  severity: string;
  threshold?: string;
  window?: string;
  rateLimit?: string;
}

/** A duration flag's value in seconds; the error names the flag. */
function seconds(flag: string, value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new Error(`${flag}: ${(err as Error).message}`);
  }
}

function label(tenant: string | undefined, name: string): string {
  return tenant ? `${tenant}/${name}` : name;
}

/** The receiver's URL: --url, or --url-file (keeps a token in the URL, as Slack's, out of argv). */
function urlOf(o: AlertFlags): string {
  if (o.url !== undefined && o.urlFile !== undefined) throw new Error('use one of --url, --url-file');
  if (o.urlFile !== undefined) {
    const url = readSecretFile('--url-file', o.urlFile, 8 * 1024).trim();
    if (!url) throw new Error(`--url-file ${o.urlFile}: the file is empty`);
    return url;
  }
  if (!o.url) throw new Error("--url or --url-file is required: the receiver's http(s) URL");
  return o.url;
}

function alertRequest(name: string, o: AlertFlags) {
  if ((o.threshold === undefined) !== (o.window === undefined))
    throw new Error('--threshold and --window go together: alert after N failures within a window');
  let secret = '';
  if (o.secretFile !== undefined) {
    // a secret file ends with a newline; the secret is the one line
    secret = readSecretFile('--secret-file', o.secretFile, 4096).trim();
    if (!secret) throw new Error(`--secret-file ${o.secretFile}: the file is empty`);
  }
  return {
    alert: {
      tenant: o.tenant ?? '',
      name,
      type: o.type,
      url: urlOf(o),
      events: o.event ?? [],
      assignments: o.assignment ?? [],
      severity: o.severity,
      threshold: o.threshold === undefined ? 0 : parseCount('--threshold', o.threshold),
      windowSeconds: o.window === undefined ? 0 : seconds('--window', o.window),
      rateLimitSeconds: o.rateLimit === undefined ? 0 : seconds('--rate-limit', o.rateLimit),
    },
    secret,
  };
}

export function registerAlert(program: Command): void {
  const cmd = program
    .command('alert')
    .description(
      'alerts: send fleet events (assignment failed/recovered, rollout paused/finished, cluster offline/online) to a webhook or Slack',
    );
  const tenantOpt = (c: Command) =>
    c.option('--tenant <t>', "the alert's tenant (none: an admin alert, which gets every event)");

  tenantOpt(cmd.command('create <name>').description('create an alert'))
    .requiredOption('--type <type>', 'webhook (JSON, signed with --secret-file) or slack (incoming webhook)')
    .option('--url <url>', "the receiver's http(s) URL (stored sealed; shown as scheme://host only)")
    .option('--url-file <file>', 'read the URL from a file (keeps a token in it out of the process list)')
    .option('--secret-file <file>', 'webhook: sign each body with this key (X-Gitfleet-Signature: sha256=…)')
    .option('--event <kind>', `send only these event kinds (repeat; default all): ${EVENT_KINDS}`, collect)
    .option('--assignment <name>', "send only these assignments' events (repeat; default all)", collect)
    .option('--severity <level>', 'the least severe event sent: info (everything) or error', 'info')
    .option(
      '--threshold <n>',
      'assignment.failed: alert only after N failures of an assignment on a cluster...',
    )
    .option('--window <duration>', '...within this time (with --threshold), e.g. 10m')
    .option('--rate-limit <duration>', 'send the same event at most once per this time (default 5m)')
    .action(async (name: string, o: AlertFlags, c: Command) =>
      withHub(c, async (hub, format) =>
        print(format, await hub.alerts.createAlert(alertRequest(name, o)), columns),
      ),
    );

  tenantOpt(cmd.command('get <name>').description('show one alert')).action(
    async (name: string, o: { tenant?: string }, c: Command) =>
      withHub(c, async (hub, format) =>
        print(format, await hub.alerts.getAlert({ tenant: o.tenant ?? '', name }), columns),
      ),
  );
  cmd
    .command('list')
    .description('list alerts')
    .option('--tenant <t>', 'only this tenant')
    .action(async (o: { tenant?: string }, c: Command) =>
      withHub(c, async (hub, format) =>
        print(format, (await hub.alerts.listAlerts({ tenant: o.tenant ?? '' })).alerts, columns, 'alerts'),
      ),
    );
  tenantOpt(
    cmd.command('delete <name>').description('delete an alert (its queued messages are dropped)'),
  ).action(async (name: string, o: { tenant?: string }, c: Command) =>
    withHub(c, async (hub) => {
      await hub.alerts.deleteAlert({ tenant: o.tenant ?? '', name });
      process.stdout.write(`alert "${label(o.tenant, name)}" deleted\n`);
    }),
  );
  tenantOpt(
    cmd
      .command('test <name>')
      .description("send a test message to the alert's receiver (see LAST-SENT / LAST-ERROR)"),
  ).action(async (name: string, o: { tenant?: string }, c: Command) =>
    withHub(c, async (hub) => {
      await hub.alerts.testAlert({ tenant: o.tenant ?? '', name });
      process.stdout.write(`test message of alert "${label(o.tenant, name)}" queued\n`);
    }),
  );
}
