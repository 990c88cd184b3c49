import { formatBytes, parseByteQuantity } from './namespaces';

describe('parseByteQuantity', () => {
  it.each([
    ['1073741824', 1073741824],
    ['5Gi', 5 * 2 ** 30],
    ['500Mi', 500 * 2 ** 20],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['2G', 2e9],
    ['10k', 10_000],
    [' 0 ', 0],
    ['0.5', 1],
  ])('reads %s as %d bytes', (value, bytes) => expect(parseByteQuantity(value)).toBe(bytes));

  it.each(['', '-1', '5 Gi', '5gb', 'lots', '1e3', '99999999Ei'])('refuses %j', (value) => expect(parseByteQuantity(value)).toBeUndefined());
});

describe('formatBytes', () => {
  it('writes bytes for people', () => {
    expect([formatBytes(512), formatBytes(1536), formatBytes(300 * 2 ** 20), formatBytes(10 * 2 ** 30)]).toEqual(['512 B', '1.5 KiB', '300 MiB', '10 GiB']);
  });
});
