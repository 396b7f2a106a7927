#!/usr/bin/env node
// The `gitfleet` command: runs the hub or an agent, and is the operators' and tenants' client
// of the hub's gRPC API. Wiring only; commands live beside it.
import { Command, CommanderError } from 'commander';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { DEFAULT_HUB_ADDRESS } from '../proto/index.js';
import { registerClientCommands } from './commands/index.js';
import { registerServerCommands } from './launchers.js';

function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      dir = dirname(dir);
    }
  }
  return 'unknown';
}

export function buildProgram(): Command {
  const program = new Command('gitfleet')
    .description(
      'gitfleet: multi-cluster GitOps — a hub publishes desired sets over NATS, agents apply them under tenant RBAC',
    )
    .version(packageVersion(), '-v, --version')
    .option('--hub <host:port>', `hub gRPC address (env GITFLEET_HUB, default ${DEFAULT_HUB_ADDRESS})`)
    .option('--ca <file>', "CA certificate to trust for the hub's TLS (env GITFLEET_CA)")
    .option('--tls', "TLS to the hub with the system's trusted roots")
    .option('--token <token>', 'API token (env GITFLEET_TOKEN; the hub writes an admin token at first start)')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .showHelpAfterError('(run with --help for usage)');
  registerServerCommands(program);
  registerClientCommands(program);
  return program;
}

export async function main(argv = process.argv): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    process.stderr.write(`gitfleet: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then((code) => {
    process.exitCode = code;
  });
}
