import { X509Certificate } from 'node:crypto';
import { selfSignedCertificate } from './certificates';

describe('selfSignedCertificate (test certificates)', () => {
  it('always makes a certificate OpenSSL parses: 600 in a row, each with its random serial number', () => {
    // A serial whose DER encoding was not minimal (1 in 256 before) made one route test fail now and then.
    for (let i = 0; i < 600; i++) {
      const { certificate } = selfSignedCertificate(['shop.example.com']);
      expect(new X509Certificate(certificate).subject).toBe('CN=shop.example.com');
    }
  });
});
