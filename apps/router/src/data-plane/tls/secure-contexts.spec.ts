import { createTestPki, type TestCertificate, type TestPki } from '../../testing/test-pki';
import { SecureContexts } from './secure-contexts';

describe('SecureContexts', () => {
  let pki: TestPki;
  let a: TestCertificate;
  let b: TestCertificate;

  beforeAll(() => {
    pki = createTestPki();
    a = pki.issue(['a.apps.test']);
    b = pki.issue(['b.apps.test']);
  });
  afterAll(() => pki.remove());

  it('builds a context once per certificate and key', () => {
    const contexts = new SecureContexts();
    const first = contexts.contextFor(a.cert, a.key, 'demo/a');
    expect(first).toBeDefined();
    expect(contexts.contextFor(a.cert, a.key, 'demo/a')).toBe(first);
    expect(contexts.contextFor(`${a.cert}`.slice(0), `${a.key}`, 'demo/a')).toBe(first);
    const other = contexts.contextFor(b.cert, b.key, 'demo/b');
    expect(other).toBeDefined();
    expect(other).not.toBe(first);
    expect(contexts.size).toBe(2);
  });

  it('answers undefined (the default certificate) for a certificate that does not load, warning once', () => {
    const warnings: string[] = [];
    const contexts = new SecureContexts((message) => warnings.push(message));
    expect(contexts.contextFor('not a certificate', a.key, 'demo/garbage')).toBeUndefined();
    expect(contexts.contextFor(a.cert, b.key, 'demo/mismatch')).toBeUndefined();
    expect(contexts.contextFor(a.cert, b.key, 'demo/mismatch')).toBeUndefined();
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatch(/^route demo\/mismatch: its TLS certificate or key does not load \(.+\); serving the default certificate$/);
    // The key fixed: the same certificate now loads.
    expect(contexts.contextFor(a.cert, a.key, 'demo/mismatch')).toBeDefined();
  });
});
