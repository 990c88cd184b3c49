import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestPki, type TestPki } from '../../testing/test-pki';
import { loadDefaultCertificate } from './default-certificate';

describe('loadDefaultCertificate', () => {
  let dir: string;
  let pki: TestPki;

  beforeAll(() => (pki = createTestPki()));
  afterAll(() => pki.remove());
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'router-default-cert-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const stored = (name: string) => path.join(dir, name);

  it('generates a self-signed certificate for *.<domain> once, private to the router, and reuses it', async () => {
    const first = await loadDefaultCertificate({ dir, domain: 'apps.example' });
    const x509 = new X509Certificate(first.cert);
    expect(x509.subject).toBe('CN=*.apps.example');
    expect(x509.subjectAltName).toBe('DNS:*.apps.example, DNS:apps.example');
    expect(x509.checkHost('shop.apps.example')).toBe('*.apps.example');
    expect(x509.checkHost('apps.other')).toBeUndefined();
    expect(x509.ca).toBe(false);
    expect(x509.verify(x509.publicKey)).toBe(true);
    for (const name of ['default-cert.pem', 'default-key.pem']) expect(fs.statSync(stored(name)).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir).sort()).toEqual(['default-cert.pem', 'default-key.pem']);
    const again = await loadDefaultCertificate({ dir, domain: 'apps.example' });
    expect(again).toEqual(first);
  });

  it('makes a new one when the stored one no longer loads or no longer covers the domain', async () => {
    const first = await loadDefaultCertificate({ dir, domain: 'apps.example' });
    const moved = await loadDefaultCertificate({ dir, domain: 'apps.other' });
    expect(new X509Certificate(moved.cert).subject).toBe('CN=*.apps.other');
    fs.writeFileSync(stored('default-key.pem'), first.key); // the key of another certificate
    const repaired = await loadDefaultCertificate({ dir, domain: 'apps.other' });
    expect(repaired.cert).not.toBe(moved.cert);
    expect(new X509Certificate(repaired.cert).checkPrivateKey(createPrivateKey(repaired.key))).toBe(true);
  });

  it('gives routers starting together the same pair, and steps over a stale lock', async () => {
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => loadDefaultCertificate({ dir, domain: 'apps.example' })));
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    fs.rmSync(stored('default-cert.pem'));
    fs.writeFileSync(stored('default-cert.lock'), '');
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(stored('default-cert.lock'), old, old);
    const after = await loadDefaultCertificate({ dir, domain: 'apps.example' });
    expect(new X509Certificate(after.cert).subject).toBe('CN=*.apps.example');
    expect(fs.existsSync(stored('default-cert.lock'))).toBe(false);
  });

  it("uses the operator's files when both are given, and says what is wrong otherwise", async () => {
    const issued = pki.issue(['*.apps.example']);
    fs.writeFileSync(stored('cert.pem'), issued.cert);
    fs.writeFileSync(stored('key.pem'), issued.key);
    const source = { dir, domain: 'apps.example', certFile: stored('cert.pem'), keyFile: stored('key.pem') };
    expect(await loadDefaultCertificate(source)).toEqual(issued);
    expect(fs.existsSync(stored('default-cert.pem'))).toBe(false);
    await expect(loadDefaultCertificate({ ...source, keyFile: undefined })).rejects.toThrow('ROUTER_DEFAULT_CERT_FILE and ROUTER_DEFAULT_KEY_FILE must be set together');
    fs.writeFileSync(stored('other-key.pem'), pki.issue(['x.apps.example']).key);
    await expect(loadDefaultCertificate({ ...source, keyFile: stored('other-key.pem') })).rejects.toThrow(/the default certificate .*cert\.pem with key .*other-key\.pem does not load/);
  });
});
