import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { promisify } from 'node:util';

/** PEM certificate (chain) and key the TLS front presents when no route's certificate fits. */
export interface CertificatePair {
  cert: string;
  key: string;
}

/** Where the default certificate comes from. */
export interface DefaultCertificateSource {
  /** Operator-provided files (ROUTER_DEFAULT_CERT_FILE / ROUTER_DEFAULT_KEY_FILE); both or neither. */
  certFile?: string;
  keyFile?: string;
  /** Otherwise one is generated once for `*.<domain>` into this folder and reused. */
  dir: string;
  domain: string;
}

const CERT_FILE = 'default-cert.pem';
const KEY_FILE = 'default-key.pem';
const LOCK_FILE = 'default-cert.lock';
/** A lock older than this was left by a process that died while generating. */
const STALE_LOCK_MS = 30_000;
const WAIT_FOR_LOCK_MS = 20_000;

const run = promisify(execFile);

/**
 * The router's default certificate: the operator's files when configured, else a
 * self-signed one for `*.<domain>` (ECDSA P-256: cheap handshakes) made once with the
 * `openssl` CLI into `<dir>/default-cert.pem|default-key.pem` (mode 0600) and reused as long
 * as it loads and still covers the domain. Generation is serialized by a lock file, so
 * router instances sharing the folder end up with the same pair.
 */
export async function loadDefaultCertificate(source: DefaultCertificateSource): Promise<CertificatePair> {
  if (source.certFile || source.keyFile) {
    if (!source.certFile || !source.keyFile) throw new Error('ROUTER_DEFAULT_CERT_FILE and ROUTER_DEFAULT_KEY_FILE must be set together');
    const pair = { cert: fs.readFileSync(source.certFile, 'utf8'), key: fs.readFileSync(source.keyFile, 'utf8') };
    const problem = pairProblem(pair);
    if (problem) throw new Error(`the default certificate ${source.certFile} with key ${source.keyFile} does not load: ${problem}`);
    return pair;
  }
  const certPath = path.join(source.dir, CERT_FILE);
  const keyPath = path.join(source.dir, KEY_FILE);
  const lockPath = path.join(source.dir, LOCK_FILE);
  fs.mkdirSync(source.dir, { recursive: true });
  const deadline = Date.now() + WAIT_FOR_LOCK_MS;
  for (;;) {
    const existing = usablePair(certPath, keyPath, source.domain);
    if (existing) return existing;
    const lock = takeLock(lockPath);
    if (lock === undefined) {
      if (Date.now() > deadline) throw new Error(`another process holds ${lockPath}; remove it if no router is starting`);
      await sleep(100);
      continue;
    }
    try {
      return usablePair(certPath, keyPath, source.domain) ?? (await generate(certPath, keyPath, source.domain));
    } finally {
      fs.closeSync(lock);
      fs.rmSync(lockPath, { force: true });
    }
  }
}

function takeLock(lockPath: string): number | undefined {
  try {
    return fs.openSync(lockPath, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const age = Date.now() - (fs.statSync(lockPath, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > STALE_LOCK_MS) fs.rmSync(lockPath, { force: true });
    return undefined;
  }
}

/** The stored pair, when both files exist, load together and cover `*.<domain>`. */
function usablePair(certPath: string, keyPath: string, domain: string): CertificatePair | undefined {
  if (!fs.existsSync(certPath) || !fs.existsSync(keyPath)) return undefined;
  const pair = { cert: fs.readFileSync(certPath, 'utf8'), key: fs.readFileSync(keyPath, 'utf8') };
  if (pairProblem(pair)) return undefined;
  return new X509Certificate(pair.cert).checkHost(`any.${domain}`) ? pair : undefined;
}

function pairProblem(pair: CertificatePair): string | undefined {
  try {
    tls.createSecureContext(pair);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

async function generate(certPath: string, keyPath: string, domain: string): Promise<CertificatePair> {
  const dir = fs.mkdtempSync(path.join(path.dirname(certPath), '.default-cert-'));
  try {
    const cert = path.join(dir, CERT_FILE);
    const key = path.join(dir, KEY_FILE);
    // prettier-ignore
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '3650', '-subj', `/CN=*.${domain}`,
      '-addext', `subjectAltName=DNS:*.${domain},DNS:${domain}`,
      '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'extendedKeyUsage=serverAuth',
    ]).catch((error: Error & { stderr?: string }) => {
      const why = error.stderr?.trim() || error.message;
      throw new Error(`generating the default certificate with openssl failed (${why}); install openssl or set ROUTER_DEFAULT_CERT_FILE and ROUTER_DEFAULT_KEY_FILE`);
    });
    fs.chmodSync(cert, 0o600);
    fs.chmodSync(key, 0o600);
    fs.renameSync(key, keyPath);
    fs.renameSync(cert, certPath);
    return { cert: fs.readFileSync(certPath, 'utf8'), key: fs.readFileSync(keyPath, 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
