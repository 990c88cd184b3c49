import { jsonShapeProblem, type JsonLimits } from './json-limits';

const limits: JsonLimits = { maxDepth: 4, maxKeys: 3 };
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const both = (text: string) => [jsonShapeProblem(text, limits), jsonShapeProblem(Buffer.from(text), limits)];

describe('jsonShapeProblem', () => {
  it('accepts JSON within the limits, as text or as bytes', () => {
    expect(both(nested(4))).toEqual([undefined, undefined]);
    expect(both('{"a":{"b":[1,{"c":2}]}}')).toEqual([undefined, undefined]);
  });

  it('names the depth limit when objects or arrays nest deeper', () => {
    expect(both(nested(5))).toEqual(Array(2).fill('JSON nested more than 4 levels deep is not accepted'));
    expect(both('[[[{"a":{}}]]]')[0]).toMatch(/more than 4 levels/);
  });

  it('names the key limit when there are more object members', () => {
    expect(both('[{"a":1},{"b":2},{"c":3},{"d":4}]')).toEqual(Array(2).fill('JSON with more than 3 object keys is not accepted'));
  });

  it('does not count brackets, colons or escaped quotes inside strings', () => {
    const tricky = JSON.stringify({ a: '[[[[[[{{{{:::::', b: 'say \\"[[[[[[\\"', c: 'é[[[[[[' });
    expect(both(tricky)).toEqual([undefined, undefined]);
  });

  it('checks a body of half a megabyte nested all the way down without overflowing', () => {
    const deep = nested(256 * 1024);
    expect(jsonShapeProblem(deep, { maxDepth: 32, maxKeys: 10_000 })).toMatch(/32 levels/);
  });
});
