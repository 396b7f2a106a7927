// Test certificates made by openssl: a throw-away CA and a server certificate it signs, for the
// kube-apiserver and for the hub's TLS.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './binaries.js';

export interface TlsFiles {
  caCrt: string;
  serverCrt: string;
  serverKey: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * A CA (`<prefix>ca.crt`) and a server certificate for `subjectAltNames` (e.g. "IP:127.0.0.1",
 * "DNS:localhost") signed by it, valid 30 days, written into `dir`.
 */
export function makeTlsFiles(
  dir: string,
  commonName: string,
  subjectAltNames: string[],
  prefix = '',
): TlsFiles {
  const p = (f: string) => join(dir, `${prefix}${f}`);
  run('openssl', [
    'req',
    '-x509',
    ...EC,
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.crt'),
    '-days',
    '30',
    '-subj',
    `/CN=${commonName}-ca`,
  ]);
  run('openssl', [
    'req',
    ...EC,
    '-keyout',
    p('server.key'),
    '-out',
    p('server.csr'),
    '-subj',
    `/CN=${commonName}`,
  ]);
  writeFileSync(
    p('server.ext'),
    `subjectAltName=${subjectAltNames.join(',')}\nextendedKeyUsage=serverAuth\n`,
  );
  run('openssl', [
    'x509',
    '-req',
    '-in',
    p('server.csr'),
    '-CA',
    p('ca.crt'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-out',
    p('server.crt'),
    '-days',
    '30',
    '-extfile',
    p('server.ext'),
  ]);
  return { caCrt: p('ca.crt'), serverCrt: p('server.crt'), serverKey: p('server.key') };
}
