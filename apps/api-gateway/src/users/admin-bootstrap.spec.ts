import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { adminPassword } from './admin-bootstrap';

describe('adminPassword', () => {
  let home: string;
  beforeEach(() => (home = mkdtempSync(path.join(tmpdir(), 'admin-password-'))));
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('makes a 0600 file once and every later call (another replica) reads the same password', () => {
    const first = adminPassword({}, home);
    expect(first).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(adminPassword({}, home)).toBe(first);
    const secrets = path.join(home, 'secrets');
    expect(readdirSync(secrets)).toEqual(['admin-password']);
    expect(statSync(path.join(secrets, 'admin-password')).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(secrets, 'admin-password'), 'utf8').trim()).toBe(first);
  });

  it('prefers PAAS_ADMIN_PASSWORD and writes nothing', () => {
    expect(adminPassword({ PAAS_ADMIN_PASSWORD: 'given' }, home)).toBe('given');
    expect(readdirSync(home)).toEqual([]);
  });
});
