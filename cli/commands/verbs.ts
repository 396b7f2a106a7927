// What every client verb shares: the global flags, one hub connection per command (loaded
// lazily, so `--help` and `--version` never load gRPC), and the get | list | delete verbs that
// each noun has in the same shape.
import type { Command } from 'commander';
import type { HubTarget } from '../client/connect.js';
import type { HubClient } from '../client/hub-client.js';
import { DEFAULT_HUB_ADDRESS } from '../../proto/index.js';
import { parseFormat, print, type Column, type OutputFormat } from '../output.js';

interface GlobalOpts {
  hub?: string;
  ca?: string;
  tls?: boolean;
  token?: string;
  output: string;
}

/** The hub named by the global --hub, --ca, --tls and --token (or their environment variables). */
export function hubTarget(cmd: Command): HubTarget {
  return globals(cmd).target;
}

function globals(cmd: Command): { target: HubTarget; format: OutputFormat } {
  const o = cmd.optsWithGlobals<GlobalOpts>();
  return {
    target: {
      address: o.hub ?? process.env.GITFLEET_HUB ?? DEFAULT_HUB_ADDRESS,
      caFile: o.ca ?? (process.env.GITFLEET_CA || undefined),
      tls: o.tls,
      token: o.token ?? (process.env.GITFLEET_TOKEN || undefined),
    },
    format: parseFormat(o.output ?? 'table'),
  };
}

/** Runs `fn` with a client of the hub named by --hub / GITFLEET_HUB; errors become one line. */
export async function withHub<T>(
  cmd: Command,
  fn: (hub: HubClient, format: OutputFormat) => Promise<T>,
): Promise<T> {
  const { target, format } = globals(cmd);
  const { connectHub, describeHubError } = await import('../client/connect.js');
  const hub = connectHub(target);
  try {
    return await fn(hub, format);
  } catch (err) {
    throw describeHubError(err, target);
  } finally {
    hub.close();
  }
}

/** Names one resource: tenant-scoped nouns carry their tenant, cluster-wide ones do not. */
export interface Ref {
  tenant: string;
  name: string;
}

/** What `list` was given: --tenant (tenant-scoped nouns) and any flags of the noun's own. */
export type ListFilter = { tenant: string } & Record<string, string | undefined>;

/** A noun of the API and how its get, list and delete verbs reach the hub. */
export interface Noun<T> {
  /** The command word, e.g. "repo". */
  word: string;
  /** The list key in -o json|yaml, e.g. "repos". */
  plural: string;
  description: string;
  columns: Column<T>[];
  /** Tenant-scoped: get and delete require --tenant, list takes it as a filter. */
  scoped: boolean;
  get(hub: HubClient, ref: Ref): Promise<T>;
  list(hub: HubClient, filter: ListFilter): Promise<T[]>;
  /** Flags of `list` beyond --tenant (e.g. a label selector). */
  listFlags?: (c: Command) => Command;
  remove(hub: HubClient, ref: Ref): Promise<void>;
  /** Extra words for `delete`'s help, e.g. what pruning does. */
  deleteDescription?: string;
  /** How -o json|yaml shows one object (default: as the API returns it). */
  forOutput?: (row: T) => unknown;
}

function label(noun: Noun<unknown>, ref: Ref): string {
  return noun.scoped ? `${ref.tenant}/${ref.name}` : ref.name;
}

/**
 * Adds `<noun>`: first the noun's own verbs (`own`, e.g. create and update), then get, list and
 * delete, so that help lists them in that order.
 */
export function nounCommand<T>(program: Command, noun: Noun<T>, own: (cmd: Command) => void): Command {
  const cmd = program.command(noun.word).description(noun.description);
  own(cmd);
  const show = (format: OutputFormat, data: T | T[]) => {
    if (format === 'table' || !noun.forOutput) return print(format, data, noun.columns, noun.plural);
    const out = Array.isArray(data) ? data.map(noun.forOutput) : noun.forOutput(data);
    print(format, out, [], noun.plural);
  };
  const scoped = (c: Command, required: boolean) =>
    !noun.scoped
      ? c
      : required
        ? c.requiredOption('--tenant <t>', 'owning tenant')
        : c.option('--tenant <t>', 'only this tenant');

  scoped(cmd.command('get <name>').description(`show one ${noun.word}`), true).action(
    async (name: string, o: { tenant?: string }, c: Command) =>
      withHub(c, async (hub, format) => show(format, await noun.get(hub, { tenant: o.tenant ?? '', name }))),
  );
  const list = scoped(cmd.command('list').description(`list ${noun.plural}`), false);
  (noun.listFlags ? noun.listFlags(list) : list).action(
    async (o: Record<string, string | undefined>, c: Command) =>
      withHub(c, async (hub, format) => show(format, await noun.list(hub, { ...o, tenant: o.tenant ?? '' }))),
  );
  scoped(
    cmd.command('delete <name>').description(noun.deleteDescription ?? `delete a ${noun.word}`),
    true,
  ).action(async (name: string, o: { tenant?: string }, c: Command) =>
    withHub(c, async (hub) => {
      const ref = { tenant: o.tenant ?? '', name };
      await noun.remove(hub, ref);
      process.stdout.write(`${noun.word} "${label(noun as Noun<unknown>, ref)}" deleted\n`);
    }),
  );
  return cmd;
}

/** Adds a create or update verb whose flags build the request and whose answer is printed. */
export function writeVerb<T, O>(
  parent: Command,
  usage: string,
  description: string,
  flags: (c: Command) => Command,
  columns: Column<T>[],
  call: (hub: HubClient, name: string, o: O, cmd: Command) => Promise<T>,
): Command {
  return flags(parent.command(usage).description(description)).action(
    async (name: string, o: O, c: Command) =>
      withHub(c, async (hub, format) => print(format, await call(hub, name, o, c), columns)),
  );
}
