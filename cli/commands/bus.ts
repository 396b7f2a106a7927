// gitfleet bus init: NATS decentralized authentication for the bus (operator, accounts, the hub's
// user and signing keys). Runs locally, without a hub.
import type { Command } from 'commander';

interface InitFlags {
  dir: string;
  listen?: string;
  dataDir?: string;
  force?: boolean;
}

export function registerBus(program: Command): void {
  const bus = program.command('bus').description('the NATS bus between hub and agents');
  bus
    .command('init')
    .description(
      'make the keys and nats.conf of an authenticated bus: every agent gets its own NATS user, confined to its cluster',
    )
    .requiredOption('--dir <dir>', 'where to write nats.conf, hub.creds, bus-keys.json and root-keys.json')
    .option('--listen <host:port>', 'what nats-server listens on', '0.0.0.0:4222')
    .option('--data-dir <dir>', "nats-server's JetStream store and account JWTs (default: --dir)")
    .option('--force', 'replace the files of an earlier init (every joined agent must join again)')
    .action(async (o: InitFlags) => {
      const { initBus } = await import('../../hub/main.js');
      const out = await initBus({ dir: o.dir, listen: o.listen, dataDir: o.dataDir, force: o.force });
      process.stdout.write(
        [
          `wrote ${out.natsConf}`,
          `wrote ${out.hubCreds} (the hub's NATS user; mode 0600)`,
          `wrote ${out.busKeys} (what the hub signs agents' credentials with; mode 0600)`,
          `wrote ${out.rootKeys} (identity seeds: move them offline; gitfleet never reads them)`,
          'next:',
          `  nats-server -c ${out.natsConf}`,
          `  gitfleet hub --nats nats://HOST:PORT --nats-creds ${out.hubCreds}`,
          '  gitfleet cluster token create CLUSTER   # then: gitfleet agent --cluster CLUSTER --join TOKEN --hub ADDR',
          '',
        ].join('\n'),
      );
    });
}
