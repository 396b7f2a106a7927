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

// Options for ts-proto: Nest controller/client interfaces and decorators, plus binary
// encode/decode for the bus messages; int64 as number and times as int64 ms (no Date).
const tsProtoOpts = [
  'nestJs=true',
  'outputEncodeMethods=true',
  'outputJsonMethods=false',
  'outputPartialMethods=true',
  'forceLong=number',
  'useDate=false',
  'esModuleInterop=true',
  'importSuffix=.js',
  'addGrpcMetadata=false',
  'outputServices=nestJs',
  'outputServices=grpc-js',
  'stringEnums=false',
].join(',');

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
  mkdirSync(outDir, { recursive: true });
  const files = protoFiles(protoDir).map((f) => relative(protoDir, f));
  try {
    execFileSync(
      'protoc',
      [
        `--plugin=protoc-gen-ts_proto=${plugin}`,
        `--ts_proto_out=${outDir}`,
        `--ts_proto_opt=${tsProtoOpts}`,
        `-I${protoDir}`,
        ...files,
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
