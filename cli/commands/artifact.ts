// gitfleet push artifact | list artifacts | tag artifact: OCI artifacts of manifests in Flux's
// format, published from a directory. These talk to the registry directly (no hub).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { listArtifacts, pushArtifact, tagArtifact } from '../../lib/oci/artifact.js';
import type { OciCredentials } from '../../lib/oci/registry-client.js';

interface ArtifactFlags {
  url: string;
  username?: string;
}

/** The registry credentials: --username and the password in GITFLEET_OCI_PASSWORD. */
export function ociCredentials(username: string | undefined): OciCredentials | undefined {
  if (!username) return undefined;
  const password = process.env.GITFLEET_OCI_PASSWORD;
  if (!password) throw new Error('--username needs the password in GITFLEET_OCI_PASSWORD');
  return { username, password };
}

const urlFlags = (c: Command) =>
  c
    .requiredOption('--url <oci-url>', 'the artifact repository, oci://host[:port]/repository')
    .option('--username <user>', 'registry user (password from GITFLEET_OCI_PASSWORD)');

export function registerArtifact(program: Command): void {
  const push = program.command('push').description('publish to a registry');
  urlFlags(
    push
      .command('artifact <dir>')
      .description(
        "pack a directory of manifests as an OCI artifact (Flux's media types) and push it; prints the digest last",
      ),
  )
    .requiredOption('--tag <tag>', 'the tag to push, e.g. v1.0.0')
    .option('--source <url>', 'org.opencontainers.image.source annotation (default: the directory)')
    .option('--revision <rev>', 'org.opencontainers.image.revision annotation, e.g. main@sha1:<commit>')
    .action(async (dir: string, o: ArtifactFlags & { tag: string; source?: string; revision?: string }) => {
      const digest = await pushArtifact({
        dir,
        url: o.url,
        tag: o.tag,
        credentials: ociCredentials(o.username),
        source: o.source ?? resolve(dir),
        revision: o.revision,
      });
      process.stdout.write(`pushed ${o.url}:${o.tag}\n${digest}\n`);
    });

  const list = program.command('list').description('list what a registry holds');
  urlFlags(list.command('artifacts').description("an artifact repository's tags and their digests")).action(
    async (o: ArtifactFlags) => {
      const rows = await listArtifacts(o.url, ociCredentials(o.username));
      const width = Math.max(3, ...rows.map((r) => r.tag.length));
      process.stdout.write(`${'TAG'.padEnd(width)}  DIGEST\n`);
      for (const r of rows) process.stdout.write(`${r.tag.padEnd(width)}  ${r.digest}\n`);
    },
  );

  const tag = program.command('tag').description('tag in a registry');
  urlFlags(tag.command('artifact').description('give the artifact tagged --tag a second tag --to'))
    .requiredOption('--tag <tag>', 'the existing tag')
    .requiredOption('--to <tag>', 'the new tag')
    .action(async (o: ArtifactFlags & { tag: string; to: string }) => {
      const digest = await tagArtifact(o.url, o.tag, o.to, ociCredentials(o.username));
      process.stdout.write(`tagged ${o.url}:${o.to}\n${digest}\n`);
    });
}
