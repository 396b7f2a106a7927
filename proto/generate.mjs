#!/usr/bin/env node
// Compiles proto/gitfleet/**/*.proto with ts-proto into proto/gen/.
// `--check` regenerates into a temp dir and fails when it differs from what is committed:
// generated code is never edited by hand.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, mkdirSync, cpSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const protoDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(protoDir);
const genDir = join(protoDir, 'gen');
const plugin = join(root, 'node_modules', '.bin', 'protoc-gen-ts_proto');
const check = process.argv.includes('--check');

// Two ts-proto outputs of the same protos:
// - gen/: messages with binary encode/decode and grpc-js service definitions, no Nest. The CLI,
//   the agent and the bus use these, so a client verb never loads @nestjs/microservices.
// - gen/nest/: the hub's side only: type-only messages plus Nest controller interfaces, the
//   `@XServiceControllerMethods()` decorators and the package/service name constants.
// int64 as number and times as int64 ms (no Date) in both.
const common = [
  'forceLong=number',
  'useDate=false',
  'esModuleInterop=true',
  'importSuffix=.js',
  'stringEnums=false',
  'outputJsonMethods=false',
];
const outputs = [
  {
    dir: '.',
    opts: [...common, 'outputEncodeMethods=true', 'outputPartialMethods=true', 'outputServices=grpc-js'],
  },
  {
    dir: 'nest',
    // the API and the messages it names (not the bus)
    only: (f) => !f.endsWith('bus.proto'),
    opts: [
      ...common,
      'nestJs=true',
      'addGrpcMetadata=false',
      'outputEncodeMethods=false',
      'outputPartialMethods=false',
    ],
  },
];

function protoFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? e.name === 'gen'
        ? []
        : protoFiles(join(dir, e.name))
      : e.name.endsWith('.proto')
        ? [join(dir, e.name)]
        : [],
  );
}

function generate(outDir) {
  const files = protoFiles(protoDir).map((f) => relative(protoDir, f));
  for (const out of outputs) {
    const dir = join(outDir, out.dir);
    mkdirSync(dir, { recursive: true });
    try {
      execFileSync(
        'protoc',
        [
          `--plugin=protoc-gen-ts_proto=${plugin}`,
          `--ts_proto_out=${dir}`,
          `--ts_proto_opt=${out.opts.join(',')}`,
          `-I${protoDir}`,
          ...files.filter(out.only ?? (() => true)),
        ],
        { stdio: ['ignore', 'inherit', 'inherit'] },
      );
    } catch (err) {
      if (err.code === 'ENOENT') {
        console.error('protoc not found: run `npm run setup` (installs Debian protobuf-compiler)');
        process.exit(2);
      }
      throw err;
    }
  }
}

function listTree(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)))
    .sort();
}

if (check) {
  const tmp = mkdtempSync(join(tmpdir(), 'gitfleet-proto-'));
  try {
    generate(tmp);
    const want = listTree(tmp);
    const have = listTree(genDir);
    const stale = want.filter(
      (f) =>
        !have.includes(f) || readFileSync(join(tmp, f), 'utf8') !== readFileSync(join(genDir, f), 'utf8'),
    );
    const extra = have.filter((f) => !want.includes(f));
    if (stale.length || extra.length) {
      console.error(
        `proto/gen is out of date (${[...stale, ...extra].join(', ')}): run \`npm run proto\` and commit the result`,
      );
      process.exit(1);
    }
    console.log(`proto/gen is up to date (${want.length} files)`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
} else {
  const tmp = mkdtempSync(join(tmpdir(), 'gitfleet-proto-'));
  generate(tmp);
  rmSync(genDir, { recursive: true, force: true });
  cpSync(tmp, genDir, { recursive: true });
  rmSync(tmp, { recursive: true, force: true });
  console.log(`generated ${listTree(genDir).length} files in proto/gen`);
}
