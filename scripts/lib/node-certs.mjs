// TLS for a node's Docker engine (`dockerd --tlsverify`): a CA of the node's own, a server
// certificate for the engine's address and a client certificate for the platform, made
// with openssl into .paas/secrets/nodes/<name>/ (keys 0600, the folder 0700). The folder is
// laid out as the docker CLI's DOCKER_CERT_PATH expects (ca.pem, cert.pem, key.pem), with the
// engine's own server-cert.pem and server-key.pem beside them. Kept across runs while the
// server certificate still names the engine's address and has a month left.
import fs from 'node:fs';
import path from 'node:path';
import { capture } from './proc.mjs';

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const MONTH_SECONDS = 30 * 24 * 3600;

export const tlsFiles = (dir) => ({
  ca: path.join(dir, 'ca.pem'),
  caKey: path.join(dir, 'ca-key.pem'),
  serverCert: path.join(dir, 'server-cert.pem'),
  serverKey: path.join(dir, 'server-key.pem'),
  cert: path.join(dir, 'cert.pem'),
  key: path.join(dir, 'key.pem'),
});

function stillGood(files, ip) {
  if (!Object.values(files).every((file) => fs.existsSync(file))) return false;
  const lasts = (cert) => {
    try {
      capture('openssl', ['x509', '-in', cert, '-noout', '-checkend', String(MONTH_SECONDS)]);
      return true;
    } catch {
      return false;
    }
  };
  const namesIp = capture('openssl', ['x509', '-in', files.serverCert, '-noout', '-checkip', ip]).includes('does match');
  return namesIp && lasts(files.serverCert) && lasts(files.cert) && lasts(files.ca);
}

/** A certificate signed by the node's CA, with `extensions` (-addext values). */
function signed(files, { key, cert, subject, extensions }) {
  capture('openssl', ['req', '-x509', ...EC_KEY, '-keyout', key, '-out', cert, '-days', '825', '-subj', subject,
    '-CA', files.ca, '-CAkey', files.caKey, '-addext', 'basicConstraints=critical,CA:FALSE',
    ...extensions.flatMap((extension) => ['-addext', extension])]);
}

/** Makes (or keeps) the node's TLS files; answers their paths. */
export function ensureNodeCertificates(dir, { name, ip }) {
  const files = tlsFiles(dir);
  if (stillGood(files, ip)) return { files, made: false };
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  capture('openssl', ['req', '-x509', ...EC_KEY, '-keyout', files.caKey, '-out', files.ca, '-days', '3650',
    '-subj', `/CN=paas ${name} CA`]);
  signed(files, { key: files.serverKey, cert: files.serverCert, subject: `/CN=${name}`,
    extensions: [`subjectAltName=IP:${ip}`, 'extendedKeyUsage=serverAuth'] });
  signed(files, { key: files.key, cert: files.cert, subject: '/CN=paas platform',
    extensions: ['extendedKeyUsage=clientAuth'] });
  for (const key of [files.caKey, files.serverKey, files.key]) fs.chmodSync(key, 0o600);
  return { files, made: true };
}
