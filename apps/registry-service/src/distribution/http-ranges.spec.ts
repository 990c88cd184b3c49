import { chunkStart, requestedRange, uploadRange } from './http-ranges';

describe('HTTP ranges', () => {
  it('reads the start of a chunk from Content-Range', () => {
    expect(chunkStart(undefined)).toBeUndefined();
    expect(chunkStart('0-99')).toBe(0);
    expect(chunkStart('bytes 100-199')).toBe(100);
    expect(() => chunkStart('99-0')).toThrow(expect.objectContaining({ code: 'RANGE_INVALID' }));
  });

  it('reports upload progress as 0-<last byte>', () => {
    expect(uploadRange(0)).toBe('0-0');
    expect(uploadRange(10)).toBe('0-9');
  });

  it('resolves a blob Range request to an inclusive byte range', () => {
    expect(requestedRange(undefined, 10)).toBeUndefined();
    expect(requestedRange('bytes=2-4', 10)).toEqual({ start: 2, end: 4 });
    expect(requestedRange('bytes=5-', 10)).toEqual({ start: 5, end: 9 });
    expect(requestedRange('bytes=-3', 10)).toEqual({ start: 7, end: 9 });
    expect(requestedRange('bytes=8-100', 10)).toEqual({ start: 8, end: 9 });
    expect(requestedRange('bytes=0-1,4-5', 10)).toBeUndefined();
    expect(() => requestedRange('bytes=10-', 10)).toThrow(expect.objectContaining({ code: 'RANGE_INVALID' }));
  });
});
