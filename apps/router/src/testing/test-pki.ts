import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A certificate (PEM) and its key. */
export interface TestCertificate {
  cert: string;
  key: string;
}

/** A throwaway certificate authority in a temp folder, made with the `openssl` CLI (ECDSA P-256). */
export interface TestPki {
  /** The CA certificate, for clients' `ca`. */
  ca: string;
  /** A leaf certificate signed by the CA for `hosts` (the first is the subject's CN). */
  issue(hosts: string[], organization?: string): TestCertificate;
  remove(): void;
}

export function createTestPki(): TestPki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'router-pki-'));
  const caCert = path.join(dir, 'ca.pem');
  const caKey = path.join(dir, 'ca-key.pem');
  openssl(['-keyout', caKey, '-out', caCert, '-subj', '/CN=Router Test CA']);
  let serial = 0;
  return {
    ca: fs.readFileSync(caCert, 'utf8'),
    issue(hosts, organization = 'router tests') {
      serial += 1;
      const cert = path.join(dir, `leaf-${serial}.pem`);
      const key = path.join(dir, `leaf-${serial}-key.pem`);
      // prettier-ignore
      openssl([
        '-CA', caCert, '-CAkey', caKey, '-keyout', key, '-out', cert,
        '-subj', `/O=${organization}/CN=${hosts[0]}`,
        '-addext', `subjectAltName=${hosts.map((host) => `DNS:${host}`).join(',')}`,
        '-addext', 'basicConstraints=critical,CA:FALSE',
      ]);
      return { cert: fs.readFileSync(cert, 'utf8'), key: fs.readFileSync(key, 'utf8') };
    },
    remove() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function openssl(args: string[]): void {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', ...args], { stdio: 'pipe' });
}
