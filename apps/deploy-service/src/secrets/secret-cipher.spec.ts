import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSecretCipher, SecretCipher, SecretUnreadableError, SECRETS_KEY_FILE } from './secret-cipher';

describe('SecretCipher', () => {
  const cipher = new SecretCipher(Buffer.alloc(32, 1));
  const data = { password: Buffer.from('s3cret').toString('base64') };

  it('seals data so that the stored text holds neither key values nor their base64, with a fresh nonce each time', () => {
    const sealed = cipher.seal(data, 'demo', 'db');
    expect(sealed).toMatch(new RegExp(`^${cipher.keyId}:`));
    expect(sealed).not.toContain('s3cret');
    expect(sealed).not.toContain(data.password);
    expect(cipher.seal(data, 'demo', 'db')).not.toBe(sealed);
    expect(cipher.open(sealed, 'demo', 'db')).toEqual(data);
  });

  it('does not open under another name, with another key, or once changed', () => {
    const sealed = cipher.seal(data, 'demo', 'db');
    expect(() => cipher.open(sealed, 'demo', 'other')).toThrow(SecretUnreadableError);
    expect(() => new SecretCipher(Buffer.alloc(32, 2)).open(sealed, 'demo', 'db')).toThrow(/encrypted with key/);
    const flipped = `${sealed.slice(0, -6)}${sealed.at(-6) === 'A' ? 'B' : 'A'}${sealed.slice(-5)}`;
    expect(() => cipher.open(flipped, 'demo', 'db')).toThrow(SecretUnreadableError);
  });

  it('takes PAAS_SECRETS_KEY, else makes a key file (0600) once under PAAS_HOME and reads it after', () => {
    const home = mkdtempSync(path.join(tmpdir(), 'paas-secrets-'));
    const first = loadSecretCipher({ PAAS_HOME: home });
    const file = path.join(home, SECRETS_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadSecretCipher({ PAAS_HOME: home }).keyId).toBe(first.keyId);
    const given = loadSecretCipher({ PAAS_HOME: home, PAAS_SECRETS_KEY: Buffer.alloc(32, 1).toString('base64') });
    expect(given.keyId).toBe(cipher.keyId);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
    expect(() => loadSecretCipher({ PAAS_HOME: home, PAAS_SECRETS_KEY: 'c2hvcnQ=' })).toThrow(/must be 32 bytes/);
  });
});
